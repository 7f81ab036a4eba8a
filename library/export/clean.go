package export

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"strings"
)

// implementationUID names this program in the files it writes (0002,0012).
const implementationUID = "2.25.12017526220496387945227241968926145884"

// Tags the export sets.
const (
	tagPatientName       = 0x00100010
	tagPatientID         = 0x00100020
	tagSOPClass          = 0x00080016
	tagSOPInstance       = 0x00080018
	tagIdentityRemoved   = 0x00120062
	tagDeidMethod        = 0x00120063
	tagDeidMethodCodes   = 0x00120064
	tagLongitudinalDates = 0x00280303
)

// clean applies the profile to a data set and, through sequences, to
// every item inside it.
func (a *anonymiser) clean(elems []*element) []*element {
	out := make([]*element, 0, len(elems))
	for _, e := range elems {
		if structural(e) {
			continue
		}
		vr := vrOf(e)
		act, ok := a.dateAction(e, vr)
		if !ok {
			act = tableAction(e, vr)
		}
		if a.apply(e, act, vr) {
			out = append(out, e)
		}
	}
	return out
}

// apply does act to e and reports whether e stays.
func (a *anonymiser) apply(e *element, act action, vr string) bool {
	switch act {
	case remove:
		return false
	case empty:
		e.value, e.items, e.encapsulated = nil, nil, false
	case shiftDate:
		e.value = pad(shift(string(e.value), a.days), vr)
	case dummy, newUID:
		switch {
		case e.seq:
			a.cleanItems(e)
		case act == newUID || vr == "UI":
			e.value = pad(a.replaceUIDs(string(e.value)), "UI")
		default:
			e.value = pad(dummyValue(vr), vr)
		}
	default:
		if e.seq {
			a.cleanItems(e)
		}
	}
	return true
}

func (a *anonymiser) cleanItems(e *element) {
	for i, it := range e.items {
		e.items[i] = a.clean(it)
	}
}

// vrOf is the VR that decides an element's fate: its own, or the
// dictionary's when it is unknown (implicit VR) or UN.
func vrOf(e *element) string {
	if e.vr == "" || e.vr == "UN" {
		if vr := dictVR(e.tag); vr != "" {
			return vr
		}
	}
	return e.vr
}

// replaceUIDs maps each UID of a value to its replacement in this export.
func (a *anonymiser) replaceUIDs(v string) string {
	parts := strings.Split(trimUID(v), `\`)
	for i, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			parts[i] = a.uid(p)
		}
	}
	return strings.Join(parts, `\`)
}

// uid returns the replacement of old: a new 2.25 UID (from a random
// UUID), the same one each time old comes back in this export.
func (a *anonymiser) uid(old string) string {
	if u, ok := a.uids[old]; ok {
		return u
	}
	u := freshUID()
	a.uids[old] = u
	return u
}

// freshUID is a new 2.25 UID made from a random (version 4) UUID.
func freshUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // a version 4 UUID
	b[8] = b[8]&0x3f | 0x80
	return "2.25." + new(big.Int).SetBytes(b[:]).String()
}

// pseudonym is the Patient ID written for an original one: "ANON"
// and random digits, the same within the export.
func (a *anonymiser) pseudonym(id string) string {
	if p, ok := a.ids[id]; ok {
		return p
	}
	var b [4]byte
	rand.Read(b[:])
	p := "ANON" + strings.ToUpper(hex.EncodeToString(b[:]))
	a.ids[id] = p
	return p
}

// mark records the de-identification in the data set (PS3.15 E.1.1):
// Patient Identity Removed, the method and its codes, whether dates were
// modified or removed; and gives the patient a name and an ID that say
// nothing (the profile's Z allows a dummy value).
func (a *anonymiser) mark(f *file, origID string) {
	d := f.data
	d = put(d, tagPatientName, "PN", "ANONYMOUS")
	d = put(d, tagPatientID, "LO", a.pseudonym(strings.TrimSpace(origID)))
	if findValue(d, tagSOPInstance) == "" {
		d = put(d, tagSOPInstance, "UI", freshUID())
	}
	d = put(d, tagIdentityRemoved, "CS", "YES")
	method, dates := "DICOM PS3.15 E.1 Basic Profile", "REMOVED"
	codes := [][3]string{{"113100", "DCM", "Basic Application Confidentiality Profile"}}
	if a.opt.ShiftDates {
		method += `\Modified Dates Option`
		dates = "MODIFIED"
		codes = append(codes, [3]string{"113107", "DCM", "Retain Longitudinal With Modified Dates Opt"})
	}
	d = put(d, tagDeidMethod, "LO", method)
	d = put(d, tagDeidMethodCodes, "SQ", "")
	seq := find(d, tagDeidMethodCodes)
	seq.seq = true
	for _, c := range codes {
		var item []*element
		item = put(item, 0x00080100, "SH", c[0])
		item = put(item, 0x00080102, "SH", c[1])
		item = put(item, 0x00080104, "LO", c[2])
		seq.items = append(seq.items, item)
	}
	f.data = put(d, tagLongitudinalDates, "CS", dates)
}

// rebuildMeta writes new file meta information: the SOP class and the
// new instance UID of the data set, the transfer syntax, this program.
// Nothing else of the source's meta group is kept (its source AE title
// and private information could identify the sender).
func (a *anonymiser) rebuildMeta(f *file) {
	version := []byte{0, 1}
	if e := find(f.meta, 0x00020001); e != nil && len(e.value) == 2 {
		version = e.value
	}
	class := trimUID(findValue(f.data, tagSOPClass))
	if class == "" {
		class = trimUID(findValue(f.meta, 0x00020002))
	}
	meta := []*element{{tag: 0x00020001, vr: "OB", value: version}}
	meta = put(meta, 0x00020002, "UI", class)
	meta = put(meta, 0x00020003, "UI", trimUID(findValue(f.data, tagSOPInstance)))
	meta = put(meta, 0x00020010, "UI", f.syntax)
	meta = put(meta, 0x00020012, "UI", implementationUID)
	f.meta = put(meta, 0x00020013, "SH", "M3RET_EXPORT")
}
