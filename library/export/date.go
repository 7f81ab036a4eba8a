package export

import (
	"strings"
	"time"
)

// Dates. Without Options.ShiftDates every date (DA, DT) goes as the
// profile says, and a date the table does not list is emptied too. With
// it (PS3.15's Retain Longitudinal Temporal Information with Modified
// Dates Option) every date moves back by one number of days drawn for the
// export, so intervals between studies survive; times are kept. Birth
// dates and times are never kept: they go as the profile says.

// neverShift lists the dates the option does not keep.
var neverShift = map[uint32]bool{0x00100030: true, 0x00100032: true, 0x00100033: true, 0x00100034: true}

func isDate(vr string) bool { return vr == "DA" || vr == "DT" }

// dateAction is the action for a date or time element, and whether it
// applies (false: the element is not a date or time).
func (a *anonymiser) dateAction(e *element, vr string) (action, bool) {
	switch {
	case a.opt.ShiftDates && isDate(vr) && !neverShift[e.tag]:
		return shiftDate, true
	case a.opt.ShiftDates && vr == "TM" && !neverShift[e.tag]:
		return keep, true
	case isDate(vr):
		if _, listed := basicProfile[e.tag]; !listed {
			return empty, true
		}
	}
	return keep, false
}

// shift moves each date in a DA or DT value (multiple values, ranges)
// back by days; what does not parse as a date is dropped.
func shift(v string, days int) string {
	v = strings.TrimRight(v, "\x00 ")
	var out []string
	for part := range strings.SplitSeq(v, `\`) {
		var ends []string
		for _, end := range strings.Split(part, "-") {
			ends = append(ends, shiftOne(end, days))
		}
		out = append(out, strings.Join(ends, "-"))
	}
	return strings.Join(out, `\`)
}

// shiftOne shifts one date (YYYYMMDD or the old YYYY.MM.DD, with a DT's
// time after it kept); "" stays "" (an open range).
func shiftOne(s string, days int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	day, rest := s, ""
	if len(s) >= 10 && s[4] == '.' && s[7] == '.' {
		day, rest = strings.ReplaceAll(s[:10], ".", ""), s[10:]
	} else if len(s) > 8 {
		day, rest = s[:8], s[8:]
	}
	t, err := time.Parse("20060102", day)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, -days).Format("20060102") + rest
}
