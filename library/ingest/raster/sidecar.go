package raster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FolderSidecar is the name of the folder-level sidecar that labels every
// file in its folder.
const FolderSidecar = "m3ret.json"

// maxSidecar bounds the size of a sidecar file read.
const maxSidecar = 1 << 20

// Labels are the descriptive fields a sidecar or a folder name gives a file.
// The JSON keys match case-insensitively, so a BIDS sidecar's "Modality"
// is read too.
type Labels struct {
	Modality    string `json:"modality"`
	BodyPart    string `json:"body_part"`
	Description string `json:"description"`
}

// LabelsFor returns the labels of the file at path. Each field comes from the
// first of these that sets it: the file's own sidecar (NAME.json, where NAME
// is the file name with or without its extensions: a.png.json or a.json for
// a.png; ch2.json for ch2.nii.gz), the folder's m3ret.json, and the folder
// convention of the parent folder (see FolderConvention). Modality is upper
// case, XR read as DX; it is OT when nothing names one.
func LabelsFor(path string) (Labels, error) {
	var out Labels
	dir := filepath.Dir(path)
	for _, p := range sidecarPaths(path) {
		l, ok, err := readSidecar(p)
		if err != nil {
			return Labels{}, err
		}
		if ok {
			out = merge(out, l)
		}
	}
	l, ok, err := readSidecar(filepath.Join(dir, FolderSidecar))
	if err != nil {
		return Labels{}, err
	}
	if ok {
		out = merge(out, l)
	}
	m, part := FolderConvention(filepath.Base(dir))
	out = merge(out, Labels{Modality: m, BodyPart: part})
	out.Modality = normaliseModality(out.Modality)
	out.BodyPart = strings.ToUpper(strings.TrimSpace(out.BodyPart))
	out.Description = strings.TrimSpace(out.Description)
	return out, nil
}

// sidecarPaths lists the file's own sidecar names, most specific first.
func sidecarPaths(path string) []string {
	name := filepath.Base(path)
	out := []string{path + ".json"}
	stem := name
	for i := 0; i < 2; i++ {
		ext := filepath.Ext(stem)
		if ext == "" || ext == stem {
			break
		}
		stem = strings.TrimSuffix(stem, ext)
		out = append(out, filepath.Join(filepath.Dir(path), stem+".json"))
	}
	return out
}

func readSidecar(p string) (Labels, bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Labels{}, false, nil
	}
	if err != nil {
		return Labels{}, false, fmt.Errorf("open sidecar: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSidecar+1))
	if err != nil {
		return Labels{}, false, fmt.Errorf("read sidecar: %w", err)
	}
	if len(data) > maxSidecar {
		return Labels{}, false, fmt.Errorf("sidecar over %d bytes: %w", maxSidecar, ErrTooLarge)
	}
	var l Labels
	if err := json.Unmarshal(data, &l); err != nil {
		return Labels{}, false, fmt.Errorf("parse sidecar: %w", err)
	}
	return l, true, nil
}

// merge keeps a's fields and fills the empty ones from b.
func merge(a, b Labels) Labels {
	if strings.TrimSpace(a.Modality) == "" {
		a.Modality = b.Modality
	}
	if strings.TrimSpace(a.BodyPart) == "" {
		a.BodyPart = b.BodyPart
	}
	if strings.TrimSpace(a.Description) == "" {
		a.Description = b.Description
	}
	return a
}

func normaliseModality(m string) string {
	m = strings.ToUpper(strings.TrimSpace(m))
	if a, ok := aliases[m]; ok {
		m = a
	}
	if m == "" {
		return "OT"
	}
	return m
}
