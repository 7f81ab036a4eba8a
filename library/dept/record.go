package dept

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/m3ret/viewer/library/internal/uid"
)

// Record is what the department index holds of one item: the metadata the
// local index has, where its pixels are, and nothing that names a patient.
type Record struct {
	ItemID      string  `json:"itemId"`
	Model       string  `json:"model"`
	Kind        string  `json:"kind"`
	Modality    string  `json:"modality"`
	BodyPart    string  `json:"bodyPart"`
	StudyDate   string  `json:"studyDate"` // YYYYMMDD, or ""
	Description string  `json:"description"`
	Format      string  `json:"format"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	Frames      int     `json:"frames"`
	Volumes     int     `json:"volumes"`
	SpacingX    float64 `json:"spacingX"`
	SpacingY    float64 `json:"spacingY"`
	SpacingZ    float64 `json:"spacingZ"`
	FrameTime   float64 `json:"frameTimeMs"`
	Duration    float64 `json:"durationS"`
	// Where the pixels are: a PACS (server name as the workstations call
	// it, its DICOMweb URL and the UIDs), or the workstation that shared
	// it (which finds it by its item id; file paths are not copied, since
	// folder names often carry a patient's name).
	Server      string `json:"server"`
	ServerURL   string `json:"serverUrl"`
	StudyUID    string `json:"studyUid"`
	SeriesUID   string `json:"seriesUid"`
	Workstation string `json:"workstation"`
}

// property is one field of the collection's schema; max bounds a string
// property's length in bytes (see bounds.go).
type property struct {
	name, dataType, tokenization string
	max                          int
}

// properties is the collection's schema, in Record's order. Keyword fields
// are tokenized as a whole value (modality:CT matches exactly, as in the
// local bleve index); the description is tokenized into lower-case words.
// DICOM bounds most of these far lower (CS 16, LO 64 characters); the
// description has room for a sidecar's few sentences.
var properties = []property{
	{"itemId", "text", "field", maxItemID}, {"model", "text", "field", 256}, {"kind", "text", "field", 32},
	{"modality", "text", "field", 64}, {"bodyPart", "text", "field", 64}, {"studyDate", "date", "", 32},
	{"description", "text", "word", 1024}, {"format", "text", "field", 32},
	{"width", "int", "", 0}, {"height", "int", "", 0}, {"frames", "int", "", 0}, {"volumes", "int", "", 0},
	{"spacingX", "number", "", 0}, {"spacingY", "number", "", 0}, {"spacingZ", "number", "", 0},
	{"frameTimeMs", "number", "", 0}, {"durationS", "number", "", 0},
	{"server", "text", "field", 128}, {"serverUrl", "text", "field", 2048}, {"studyUid", "text", "field", uid.MaxLen},
	{"seriesUid", "text", "field", uid.MaxLen}, {"workstation", "text", "field", 255},
}

// maxObject is the most bytes one legitimate object takes in a gRPC answer
// with all its properties and a dim-d vector: the strings at their bounds,
// each property's name and encoding (16 bytes, generously), its metadata.
func maxObject(dim int) int {
	n := 256 + 4*max(dim, 0) // id, distance, the message's own fields
	for _, p := range properties {
		n += len(p.name) + 16 + p.max
	}
	return n
}

// pageLimit is the receive limit of a search of k objects: k legitimate
// objects and the reply's own framing. A larger answer holds an object no
// M3Ret workstation wrote (see Search).
func pageLimit(k, dim int) int { return 4096 + max(k, 1)*maxObject(dim) }

func propertyNames() []string {
	out := make([]string, len(properties))
	for i, p := range properties {
		out[i] = p.name
	}
	return out
}

// ObjectID is the Weaviate object id of an item: a name-based UUID of the
// item id, the same on every machine, so upserts are idempotent.
func ObjectID(itemID string) string {
	sum := sha256.Sum256([]byte("m3ret-item:" + itemID))
	sum[6] = sum[6]&0x0f | 0x50 // version 5 layout (name-based)
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant
	b := sum[:16]
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (r Record) fields() map[string]any {
	m := map[string]any{
		"itemId": r.ItemID, "model": r.Model, "kind": r.Kind, "modality": r.Modality,
		"bodyPart": r.BodyPart, "description": r.Description, "format": r.Format,
		"width": r.Width, "height": r.Height, "frames": r.Frames, "volumes": r.Volumes,
		"spacingX": r.SpacingX, "spacingY": r.SpacingY, "spacingZ": r.SpacingZ,
		"frameTimeMs": r.FrameTime, "durationS": r.Duration,
		"server": r.Server, "serverUrl": r.ServerURL, "studyUid": r.StudyUID,
		"seriesUid": r.SeriesUID, "workstation": r.Workstation,
	}
	if t, err := time.Parse("20060102", r.StudyDate); err == nil {
		m["studyDate"] = t.Format(time.RFC3339)
	}
	return m
}

// batchObject is r as written: its strings bounded, and refused when its
// item id or UIDs are not of their form.
func (r Record) batchObject(collection string, vec []float32) (*pb.BatchObject, error) {
	r = r.bounded()
	if err := r.check(); err != nil {
		if validItemID(r.ItemID) {
			return nil, fmt.Errorf("item %s: %w", r.ItemID, err)
		}
		return nil, err
	}
	props, err := structpb.NewStruct(r.fields())
	if err != nil {
		return nil, fmt.Errorf("properties of %s: %w", r.ItemID, err)
	}
	return &pb.BatchObject{
		Uuid:       ObjectID(r.ItemID),
		Collection: collection,
		Properties: &pb.BatchObject_Properties{NonRefProperties: props},
		// The collection has one unnamed vector: the legacy field names it.
		VectorBytes: vectorBytes(vec),
	}, nil
}

func vectorBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// recordOf reads a search result's properties back into a Record, its
// strings bounded as when written; an object M3Ret would not have written
// is refused (ErrBadObject).
func recordOf(p *pb.Properties) (Record, error) {
	f := p.GetFields()
	s := func(k string) string { return f[k].GetTextValue() }
	i := func(k string) int { return int(f[k].GetIntValue()) }
	n := func(k string) float64 { return f[k].GetNumberValue() }
	r := Record{ItemID: s("itemId"), Model: s("model"), Kind: s("kind"), Modality: s("modality"),
		BodyPart: s("bodyPart"), Description: s("description"), Format: s("format"),
		Width: i("width"), Height: i("height"), Frames: i("frames"), Volumes: i("volumes"),
		SpacingX: n("spacingX"), SpacingY: n("spacingY"), SpacingZ: n("spacingZ"),
		FrameTime: n("frameTimeMs"), Duration: n("durationS"),
		Server: s("server"), ServerURL: s("serverUrl"), StudyUID: s("studyUid"),
		SeriesUID: s("seriesUid"), Workstation: s("workstation")}
	if t, err := time.Parse(time.RFC3339, f["studyDate"].GetDateValue()); err == nil {
		r.StudyDate = t.UTC().Format("20060102")
	}
	if err := r.check(); err != nil {
		return Record{}, err
	}
	return r.bounded(), nil
}
