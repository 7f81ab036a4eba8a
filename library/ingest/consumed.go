package ingest

import (
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/library/ingest/nifti"
)

// readByAnother reports files that are read together with another file
// rather than on their own: the .img half of a NIfTI .hdr/.img pair (read
// through its .hdr) and JSON sidecars (m3ret.json, NAME.json), which label
// the images beside them (see raster.LabelsFor).
func readByAnother(path string) bool {
	return nifti.Companion(path) || strings.EqualFold(filepath.Ext(path), ".json")
}
