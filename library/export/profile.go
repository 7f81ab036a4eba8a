package export

import "strings"

// The Basic Application Level Confidentiality Profile of DICOM PS3.15
// Annex E, Table E.1-1: the action for each attribute that can identify a
// patient. Codes as in the standard:
//
//	D  replace with a non-empty dummy value of the VR
//	Z  replace with an empty (or dummy) value
//	X  remove
//	K  keep (a sequence: keep, cleaning its items)
//	C  clean (here: as D)
//	U  replace a UID with one made for this export, the same old UID giving
//	   the same new one throughout the export
//
// A compound code (X/Z, Z/D, X/Z/D, X/D) lets the application choose by the
// attribute's type in its IOD; without the IOD at hand we take Z where it
// is offered (the attribute stays, empty, so a type 2 attribute stays
// valid), else the first. X/Z/U* on a reference sequence keeps it and
// replaces the UIDs inside. Beyond the table, every private attribute,
// curve, overlay data and comment, group length and every other person
// name (Z) is removed, and dates follow Options.ShiftDates (see date.go).
var basicProfile = map[uint32]string{
	// group 0008: the study, the people and places around it
	0x00080012: "X/D", 0x00080013: "X/Z/D", 0x00080014: "U", 0x00080015: "X",
	0x00080018: "U", 0x00080020: "Z", 0x00080021: "X/D", 0x00080022: "X/Z",
	0x00080023: "Z/D", 0x00080024: "X", 0x00080025: "X", 0x0008002A: "X/Z/D",
	0x00080030: "Z", 0x00080031: "X/D", 0x00080032: "X/Z", 0x00080033: "Z/D",
	0x00080034: "X", 0x00080035: "X", 0x00080050: "Z", 0x00080058: "U",
	0x00080080: "X/Z/D", 0x00080081: "X", 0x00080082: "X/Z/D", 0x00080090: "Z",
	0x00080092: "X", 0x00080094: "X", 0x00080096: "X", 0x0008009C: "Z",
	0x0008009D: "X", 0x0008010D: "U", 0x00080201: "X", 0x00081010: "X/Z/D",
	0x00081030: "X", 0x0008103E: "X", 0x00081040: "X", 0x00081041: "X",
	0x00081048: "X", 0x00081049: "X", 0x00081050: "X", 0x00081052: "X",
	0x00081060: "X", 0x00081062: "X", 0x00081070: "X/Z/D", 0x00081072: "X/D",
	0x00081080: "X", 0x00081084: "X", 0x00081110: "X/Z", 0x00081111: "X/Z/D",
	0x00081120: "X", 0x00081140: "X/Z/U*", 0x00081155: "U", 0x00081195: "U",
	0x00082111: "X", 0x00082112: "X/Z/U*", 0x00083010: "U", 0x00084000: "X",
	0x00089123: "U",
	// group 0010: the patient
	0x00100010: "Z", 0x00100020: "Z", 0x00100021: "X", 0x00100022: "X",
	0x00100024: "X", 0x00100030: "Z", 0x00100032: "X", 0x00100033: "X",
	0x00100034: "X", 0x00100035: "X", 0x00100040: "Z", 0x00100050: "X",
	0x00100101: "X", 0x00100102: "X", 0x00101000: "X", 0x00101001: "X",
	0x00101002: "X", 0x00101005: "X", 0x00101010: "X", 0x00101020: "X",
	0x00101021: "X", 0x00101030: "X", 0x00101040: "X", 0x00101050: "X",
	0x00101060: "X", 0x00101080: "X", 0x00101081: "X", 0x00101090: "X",
	0x00101100: "X", 0x00102000: "X", 0x00102110: "X", 0x00102150: "X",
	0x00102152: "X", 0x00102154: "X", 0x00102155: "X", 0x00102160: "X",
	0x00102180: "X", 0x001021A0: "X", 0x001021B0: "X", 0x001021C0: "X",
	0x001021D0: "X", 0x001021F0: "X", 0x00102203: "X/Z", 0x00102297: "X",
	0x00102299: "X", 0x00104000: "X",
	// group 0012: clinical trial
	0x00120010: "D", 0x00120020: "D", 0x00120021: "Z", 0x00120030: "Z",
	0x00120031: "Z", 0x00120040: "D", 0x00120042: "D", 0x00120050: "Z",
	0x00120051: "X", 0x00120060: "Z", 0x00120071: "X", 0x00120072: "X",
	0x00120081: "D", 0x00120082: "X",
	// group 0018: devices and acquisition
	0x00180010: "Z/D", 0x00181000: "X/Z/D", 0x00181002: "U", 0x00181004: "X",
	0x00181005: "X", 0x00181007: "X", 0x00181008: "X", 0x00181030: "X/D",
	0x00181200: "X", 0x00181201: "X", 0x00181400: "X/D", 0x00184000: "X",
	0x0018700A: "X/D", 0x00189074: "X/D", 0x00189151: "X/D", 0x00189424: "X",
	0x0018A003: "X",
	// group 0020: study, series, frame of reference
	0x0020000D: "U", 0x0020000E: "U", 0x00200010: "Z", 0x00200052: "U",
	0x00200200: "U", 0x00203401: "X", 0x00203404: "X", 0x00203406: "X",
	0x00204000: "X", 0x00209158: "X", 0x00209161: "U", 0x00209164: "U",
	// group 0028: image
	0x00281199: "U", 0x00281214: "U", 0x00284000: "X",
	// groups 0032, 0038: study request and visit
	0x00320012: "X", 0x00321020: "X", 0x00321021: "X", 0x00321030: "X",
	0x00321032: "X", 0x00321033: "X", 0x00321060: "X/Z", 0x00321070: "X",
	0x00324000: "X", 0x00380004: "X", 0x00380010: "X", 0x00380011: "X",
	0x0038001E: "X", 0x00380020: "X", 0x00380021: "X", 0x00380040: "X",
	0x00380050: "X", 0x00380060: "X", 0x00380061: "X", 0x00380062: "X",
	0x00380300: "X", 0x00380400: "X", 0x00380500: "X", 0x00384000: "X",
	// group 0040: procedure steps, requests, structured reports
	0x00400001: "X", 0x00400002: "X", 0x00400003: "X", 0x00400004: "X",
	0x00400005: "X", 0x00400006: "X", 0x00400007: "X", 0x0040000B: "X",
	0x00400010: "X", 0x00400011: "X", 0x00400012: "X", 0x00400241: "X",
	0x00400242: "X", 0x00400243: "X", 0x00400244: "X", 0x00400245: "X",
	0x00400250: "X", 0x00400251: "X", 0x00400253: "X", 0x00400254: "X",
	0x00400275: "X", 0x00400280: "X", 0x00400555: "X", 0x00401001: "X",
	0x00401004: "X", 0x00401005: "X", 0x00401010: "X", 0x00401011: "X",
	0x00401102: "X", 0x00401103: "X", 0x00401104: "X", 0x00401400: "X",
	0x00402001: "X", 0x00402008: "X", 0x00402009: "X", 0x00402010: "X",
	0x00402011: "X", 0x00402016: "Z", 0x00402017: "Z", 0x00402400: "X",
	0x00403001: "X", 0x00404023: "U", 0x0040A027: "X", 0x0040A073: "D",
	0x0040A075: "D", 0x0040A078: "X", 0x0040A07A: "X", 0x0040A07C: "X",
	0x0040A088: "Z", 0x0040A123: "D", 0x0040A124: "U", 0x0040A171: "U",
	0x0040A730: "X", 0x0040DB0C: "U", 0x0040DB0D: "U",
	// presentation, media, radiotherapy, results, signatures
	0x00700084: "Z", 0x00700086: "X", 0x00880140: "U", 0x30060024: "U",
	0x300600C2: "U", 0x300A0013: "U", 0x40000010: "X", 0x40004000: "X",
	0x40080042: "X", 0x40080102: "X", 0x4008010A: "X", 0x4008010B: "X",
	0x4008010C: "X", 0x40080111: "X", 0x40080114: "X", 0x40080115: "X",
	0x40080118: "X", 0x40080119: "X", 0x4008011A: "X", 0x40080202: "X",
	0x40080300: "X", 0x40084000: "X", 0x04000100: "X", 0x04000402: "X",
	0x04000403: "X", 0x04000404: "X", 0x04000550: "X", 0x04000561: "X",
	0xFFFAFFFA: "X", 0xFFFCFFFC: "X",
}

// action is what the profile does to one element.
type action byte

const (
	keep action = iota
	remove
	empty
	dummy
	newUID
	shiftDate
)

// structural is the rule beyond the table that removes an element
// whatever it holds, when one applies.
func structural(e *element) bool {
	g, el := e.group(), e.elem()
	switch {
	case g%2 == 1, el == 0x0000: // private attributes; group lengths
		return true
	case g == 0x0002: // file meta information out of place: rewritten apart
		return true
	case g&0xFF00 == 0x5000: // curves
		return true
	case g&0xFF00 == 0x6000 && (el == 0x3000 || el == 0x4000): // overlay data, comments
		return true
	}
	return false
}

// tableAction is the profile's action for an element (see basicProfile);
// a person name the table does not list is emptied.
func tableAction(e *element, vr string) action {
	code, ok := basicProfile[e.tag]
	if !ok {
		if vr == "PN" {
			return empty
		}
		return keep
	}
	return resolve(code)
}

// resolve picks one action from a code such as "X/Z/D".
func resolve(code string) action {
	switch {
	case strings.Contains(code, "U*"):
		return keep // a reference sequence: its UIDs are replaced inside
	case strings.Contains(code, "U"):
		return newUID
	case strings.Contains(code, "Z"):
		return empty
	}
	switch code[0] {
	case 'X':
		return remove
	case 'D', 'C':
		return dummy
	}
	return keep
}

// dummyValue is a value of the VR that says nothing.
func dummyValue(vr string) string {
	switch vr {
	case "DA":
		return "19000101"
	case "TM":
		return "000000"
	case "DT":
		return "19000101000000"
	case "IS", "DS":
		return "0"
	case "AS":
		return "000Y"
	case "PN", "LO", "SH", "ST", "LT", "UT", "UC", "CS", "AE":
		return "ANONYMOUS"
	}
	return ""
}
