package train

import (
	"os"
	"os/exec"
	"testing"
)

// TestAugmentations runs the Python tests of train.py's view augmentations
// (test_augment.py: rotation, zoom-out, intensity curves, histogram
// matching, edge views, on synthetic arrays) where Debian's python3-torch
// is installed; elsewhere it is skipped.
func TestAugmentations(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("no python3-torch (make train installs it: .ci/deps.sh --train)")
	}
	out, err := exec.Command(py, "test_augment.py").CombinedOutput()
	if err != nil {
		t.Fatalf("test_augment.py: %v\n%s", err, out)
	}
}
