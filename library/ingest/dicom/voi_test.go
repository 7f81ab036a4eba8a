package dicom

import (
	"bytes"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/frame"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// A synthetic 2x2 MONOCHROME1 CR (values made up in the test) with a
// default window and a VOI LUT: the LUT is kept for display, the values
// are inverted and so is the window centre.
func TestVOILUTAndMonochrome1(t *testing.T) {
	el := func(tg tag.Tag, v any) *dcm.Element {
		e, err := dcm.NewElement(tg, v)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	nf := frame.NewNativeFrame[uint16](16, 2, 2, 4, 1)
	copy(nf.RawData, []uint16{0, 100, 200, 4095})
	voi := el(tag.VOILUTSequence, [][]*dcm.Element{{
		el(tag.LUTDescriptor, []int{3, 100, 8}),
		el(tag.LUTData, []int{10, 20, 30}),
	}})
	ds := dcm.Dataset{Elements: []*dcm.Element{
		el(tag.MediaStorageSOPClassUID, []string{"1.2.840.10008.5.1.4.1.1.1"}),
		el(tag.MediaStorageSOPInstanceUID, []string{"2.25.77"}),
		el(tag.TransferSyntaxUID, []string{"1.2.840.10008.1.2.1"}),
		el(tag.SOPClassUID, []string{"1.2.840.10008.5.1.4.1.1.1"}),
		el(tag.SOPInstanceUID, []string{"2.25.77"}),
		el(tag.Modality, []string{"CR"}),
		el(tag.PhotometricInterpretation, []string{"MONOCHROME1"}),
		el(tag.SamplesPerPixel, []int{1}),
		el(tag.Rows, []int{2}),
		el(tag.Columns, []int{2}),
		el(tag.BitsAllocated, []int{16}),
		el(tag.BitsStored, []int{12}),
		el(tag.HighBit, []int{11}),
		el(tag.PixelRepresentation, []int{0}),
		el(tag.WindowCenter, []string{"2048"}),
		el(tag.WindowWidth, []string{"4096"}),
		voi,
		el(tag.PixelData, dcm.PixelDataInfo{Frames: []*frame.Frame{{NativeData: nf}}}),
	}}
	var buf bytes.Buffer
	if err := dcm.Write(&buf, ds, dcm.SkipVRVerification(), dcm.SkipValueTypeVerification()); err != nil {
		t.Fatalf("write: %v", err)
	}
	s, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if s.Data[1] != -100 || s.Data[3] != -4095 {
		t.Errorf("values %v, want inverted", s.Data)
	}
	if s.Window == nil || s.Window.Center != -2048 || s.Window.Width != 4096 {
		t.Errorf("window %+v", s.Window)
	}
	if s.VOI == nil || s.VOI.First != 100 || s.VOI.Bits != 8 || len(s.VOI.Data) != 3 || s.VOI.Data[2] != 30 {
		t.Errorf("VOI LUT %+v", s.VOI)
	}
}
