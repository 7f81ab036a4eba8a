package train

import (
	"os"
	"os/exec"
	"testing"
)

// TestPrepareData runs the Python tests of prepare_data.py's DICOM slice
// reader (test_prepare.py, on synthetic files) where Debian's python3-numpy
// is installed; elsewhere it is skipped.
func TestPrepareData(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skip("no python3-numpy (make train installs it: .ci/deps.sh --train)")
	}
	out, err := exec.Command(py, "test_prepare.py").CombinedOutput()
	if err != nil {
		t.Fatalf("test_prepare.py: %v\n%s", err, out)
	}
}
