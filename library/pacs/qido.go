package pacs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/m3ret/viewer/library/internal/uid"
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
	Limit       int      // at most this many answers (0: the client's MaxResults, which also bounds it)
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

// FindStudies searches studies: up to q.Limit of them (0: the client's
// MaxResults), in pages. Studies without a valid UID are left out; when
// some are, or more match than the client takes, the studies kept come
// with a *PartialError.
func (c *Client) FindStudies(ctx context.Context, q Query) ([]Study, error) {
	v := q.values(true)
	for _, f := range []string{tagStudyDescription, tagModalitiesInStudy, tagStudySeries, tagStudyInstances} {
		v.Add("includefield", f)
	}
	return search(ctx, c, "/studies", v, q, func(d dataset) (Study, bool) {
		st := Study{UID: d.str(tagStudyUID), PatientName: d.str(tagPatientName), PatientID: d.str(tagPatientID),
			Date: d.str(tagStudyDate), Time: d.str(tagStudyTime), Accession: d.str(tagAccession),
			Description: d.str(tagStudyDescription), Modalities: d.strs(tagModalitiesInStudy),
			Series: d.int(tagStudySeries), Instances: d.int(tagStudyInstances)}
		return st, uid.Valid(st.UID)
	})
}

// FindSeries lists the series of a study that pass q (its Modality and
// Description filter the series), as FindStudies pages and bounds them;
// series without a valid UID, or of another study, are left out.
func (c *Client) FindSeries(ctx context.Context, studyUID string, q Query) ([]Series, error) {
	path, err := resource(studyUID)
	if err != nil {
		return nil, fmt.Errorf("search series: %w", err)
	}
	v := q.values(false)
	for _, f := range []string{tagSeriesDescription, tagSeriesInstances, tagBodyPart} {
		v.Add("includefield", f)
	}
	return search(ctx, c, path+"/series", v, q, func(d dataset) (Series, bool) {
		s := Series{UID: d.str(tagSeriesUID), StudyUID: or(d.str(tagStudyUID), studyUID), Modality: d.str(tagModality),
			Description: d.str(tagSeriesDescription), BodyPart: d.str(tagBodyPart), Number: d.int(tagSeriesNumber),
			Instances: d.int(tagSeriesInstances)}
		return s, uid.Valid(s.UID) && s.StudyUID == studyUID
	})
}

// FindInstances lists the instances of a series (slow on large series for
// some servers: prefer series-level calls), bounded as FindStudies.
func (c *Client) FindInstances(ctx context.Context, studyUID, seriesUID string, q Query) ([]Instance, error) {
	path, err := resource(studyUID, seriesUID)
	if err != nil || seriesUID == "" {
		return nil, fmt.Errorf("search instances: %w", errors.Join(err, uid.Check("series UID", seriesUID)))
	}
	v := q.values(false)
	v.Add("includefield", tagNumberOfFrames)
	return search(ctx, c, path+"/instances", v, q, func(d dataset) (Instance, bool) {
		in := Instance{UID: d.str(tagSOPInstanceUID), ClassUID: d.str(tagSOPClassUID),
			SeriesUID: or(d.str(tagSeriesUID), seriesUID), StudyUID: or(d.str(tagStudyUID), studyUID),
			Number: d.int(tagInstanceNumber), Frames: d.int(tagNumberOfFrames)}
		return in, uid.Valid(in.UID) && in.SeriesUID == seriesUID && in.StudyUID == studyUID
	})
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
