package raster_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/m3ret/viewer/library/ingest/raster"
)

// A sidecar beside an image overrides what the folder name says.
func ExampleLabelsFor() {
	root, _ := os.MkdirTemp("", "labels")
	defer os.RemoveAll(root)
	dir := filepath.Join(root, "XR-hand")
	os.Mkdir(dir, 0o700)
	img := filepath.Join(dir, "scan1.png")
	fmt.Println(raster.LabelsFor(img))
	os.WriteFile(filepath.Join(dir, "scan1.json"), []byte(`{"body_part": "wrist", "description": "PA"}`), 0o600)
	fmt.Println(raster.LabelsFor(img))
	// Output:
	// {DX HAND } <nil>
	// {DX WRIST PA} <nil>
}
