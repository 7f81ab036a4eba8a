package pacs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Query is a QIDO-RS search. Empty fields do not filter. Text fields take
// DICOM wildcards (* and ?); dates are YYYYMMDD.
type Query struct {
	PatientName string
	PatientID   string
	Accession   string
	Description string // study description (studies) or series description (series)
	Modality    string // ModalitiesInStudy for studies, Modality for series
	DateFrom    string // StudyDate range, inclusive; either end may be empty
	DateTo      string
	Limit       int      // at most this many answers (0: the server's default)
	Offset      int      // skip this many (paging)
	Include     []string // further attributes to return (includefield): keywords or tags
}

// Study is one study a search found.
type Study struct {
	UID         string   `json:"study_uid"`
	PatientName string   `json:"patient_name"`
	PatientID   string   `json:"patient_id"`
	Date        string   `json:"date"`
	Time        string   `json:"time,omitempty"`
	Accession   string   `json:"accession"`
	Description string   `json:"description"`
	Modalities  []string `json:"modalities"`
	Series      int      `json:"series"`
	Instances   int      `json:"instances"`
}

// Series is one series of a study.
type Series struct {
	UID         string `json:"series_uid"`
	StudyUID    string `json:"study_uid"`
	Modality    string `json:"modality"`
	Description string `json:"description"`
	BodyPart    string `json:"body_part,omitempty"`
	Number      int    `json:"number"`
	Instances   int    `json:"instances"`
}

// Instance is one instance of a series.
type Instance struct {
	UID       string `json:"sop_instance_uid"`
	ClassUID  string `json:"sop_class_uid"`
	SeriesUID string `json:"series_uid"`
	StudyUID  string `json:"study_uid"`
	Number    int    `json:"number"`
	Frames    int    `json:"frames"`
}

// DICOM attributes QIDO answers carry (tags as DICOM JSON writes them).
const (
	tagStudyUID          = "0020000D"
	tagSeriesUID         = "0020000E"
	tagSOPInstanceUID    = "00080018"
	tagSOPClassUID       = "00080016"
	tagStudyDate         = "00080020"
	tagStudyTime         = "00080030"
	tagAccession         = "00080050"
	tagModalitiesInStudy = "00080061"
	tagModality          = "00080060"
	tagStudyDescription  = "00081030"
	tagSeriesDescription = "0008103E"
	tagPatientName       = "00100010"
	tagPatientID         = "00100020"
	tagBodyPart          = "00180015"
	tagSeriesNumber      = "00200011"
	tagInstanceNumber    = "00200013"
	tagStudySeries       = "00201206"
	tagStudyInstances    = "00201208"
	tagSeriesInstances   = "00201209"
	tagNumberOfFrames    = "00280008"
)

// FindStudies searches studies.
func (c *Client) FindStudies(ctx context.Context, q Query) ([]Study, error) {
	v := q.values(true)
	for _, f := range []string{tagStudyDescription, tagModalitiesInStudy, tagStudySeries, tagStudyInstances} {
		v.Add("includefield", f)
	}
	ds, err := c.qido(ctx, "/studies", v)
	if err != nil {
		return nil, err
	}
	out := make([]Study, 0, len(ds))
	for _, d := range ds {
		out = append(out, Study{UID: d.str(tagStudyUID), PatientName: d.str(tagPatientName), PatientID: d.str(tagPatientID),
			Date: d.str(tagStudyDate), Time: d.str(tagStudyTime), Accession: d.str(tagAccession),
			Description: d.str(tagStudyDescription), Modalities: d.strs(tagModalitiesInStudy),
			Series: d.int(tagStudySeries), Instances: d.int(tagStudyInstances)})
	}
	return out, nil
}

// FindSeries lists the series of a study that pass q (its Modality and
// Description filter the series).
func (c *Client) FindSeries(ctx context.Context, studyUID string, q Query) ([]Series, error) {
	v := q.values(false)
	for _, f := range []string{tagSeriesDescription, tagSeriesInstances, tagBodyPart} {
		v.Add("includefield", f)
	}
	ds, err := c.qido(ctx, "/studies/"+url.PathEscape(studyUID)+"/series", v)
	if err != nil {
		return nil, err
	}
	out := make([]Series, 0, len(ds))
	for _, d := range ds {
		out = append(out, Series{UID: d.str(tagSeriesUID), StudyUID: or(d.str(tagStudyUID), studyUID), Modality: d.str(tagModality),
			Description: d.str(tagSeriesDescription), BodyPart: d.str(tagBodyPart), Number: d.int(tagSeriesNumber),
			Instances: d.int(tagSeriesInstances)})
	}
	return out, nil
}

// FindInstances lists the instances of a series (slow on large series for
// some servers: prefer series-level calls).
func (c *Client) FindInstances(ctx context.Context, studyUID, seriesUID string, q Query) ([]Instance, error) {
	v := q.values(false)
	v.Add("includefield", tagNumberOfFrames)
	path := "/studies/" + url.PathEscape(studyUID) + "/series/" + url.PathEscape(seriesUID) + "/instances"
	ds, err := c.qido(ctx, path, v)
	if err != nil {
		return nil, err
	}
	out := make([]Instance, 0, len(ds))
	for _, d := range ds {
		out = append(out, Instance{UID: d.str(tagSOPInstanceUID), ClassUID: d.str(tagSOPClassUID),
			SeriesUID: or(d.str(tagSeriesUID), seriesUID), StudyUID: or(d.str(tagStudyUID), studyUID),
			Number: d.int(tagInstanceNumber), Frames: d.int(tagNumberOfFrames)})
	}
	return out, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// values is the query string of q.
func (q Query) values(study bool) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("PatientName", q.PatientName)
	set("PatientID", q.PatientID)
	set("AccessionNumber", q.Accession)
	if study {
		set("StudyDescription", q.Description)
		set("ModalitiesInStudy", q.Modality)
	} else {
		set("SeriesDescription", q.Description)
		set("Modality", q.Modality)
	}
	if q.DateFrom != "" || q.DateTo != "" {
		v.Set("StudyDate", q.DateFrom+"-"+q.DateTo)
		if q.DateFrom == q.DateTo {
			v.Set("StudyDate", q.DateFrom)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	for _, f := range q.Include {
		v.Add("includefield", f)
	}
	return v
}

// ParseDates reads a date or a range as the command line takes it
// ("20240101", "20240101-20241231", "20240101-", "-20241231").
func ParseDates(s string) (from, to string, err error) {
	from, to, isRange := strings.Cut(s, "-")
	if !isRange {
		to = from
	}
	for _, d := range []string{from, to} {
		if d != "" && (len(d) != 8 || strings.Trim(d, "0123456789") != "") {
			return "", "", fmt.Errorf("date %q: want YYYYMMDD or YYYYMMDD-YYYYMMDD", s)
		}
	}
	return from, to, nil
}

// dataset is one object of the DICOM JSON model (PS3.18 F.2).
type dataset map[string]struct {
	VR    string            `json:"vr"`
	Value []json.RawMessage `json:"Value"`
}

// qido runs a QIDO-RS search and decodes its DICOM JSON answer (an empty
// answer, 204 or no body, is no match).
func (c *Client) qido(ctx context.Context, path string, v url.Values) ([]dataset, error) {
	resp, err := c.get(ctx, path, v, "application/dicom+json", true)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", redact(path), ErrTruncated)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, nil
	}
	var ds []dataset
	if err := json.Unmarshal(body, &ds); err != nil {
		return nil, fmt.Errorf("search %s: %w (%v)", redact(path), ErrBadAnswer, err)
	}
	return ds, nil
}

// strs returns the values of an attribute as strings (a person name as its
// alphabetic form).
func (d dataset) strs(tag string) []string {
	var out []string
	for _, raw := range d[tag].Value {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
			continue
		}
		var pn struct{ Alphabetic string }
		if json.Unmarshal(raw, &pn) == nil && pn.Alphabetic != "" {
			out = append(out, pn.Alphabetic)
			continue
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			out = append(out, n.String())
		}
	}
	return out
}

func (d dataset) str(tag string) string {
	if s := d.strs(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

func (d dataset) int(tag string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(d.str(tag)))
	return n
}
