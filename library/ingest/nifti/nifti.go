// Package nifti reads NIfTI-1 and NIfTI-2 images (.nii, .nii.gz, and
// .hdr/.img pairs, either half optionally gzipped; Analyze 7.5 pairs too)
// into media samples. Either byte order; datatypes uint8, int8, int16,
// uint16, int32, uint32, float32, float64 and RGB24, with scl_slope and
// scl_inter applied (a slope of 0 means none).
//
// The voxel-to-world transform is the sform when sform_code > 0, else the
// qform when qform_code > 0, else the voxel sizes alone. The voxels are
// reordered, by the closest axes of that transform (as nibabel's
// as_closest_canonical chooses them), to the display order the viewer uses
// for DICOM: axial slices with x towards the patient's left (the
// radiological view), y towards the back, frames from feet to head;
// Meta.Orientation is then "LPS" and Spacing is in that order. A file with a
// single slice is a media.Image2D shown in its own plane (axial "LPS",
// coronal "LIP", sagittal "PIL").
//
// A 4-D (or 5-D …) file yields its first volume with Meta.Volumes set;
// ReadVolume reads the others. Sizes past MaxVoxelBytes are refused before
// anything is allocated, and a gzip stream is read only as far as the
// header says the data go, so a gzip bomb costs nothing.
//
// NIfTI says nothing reliable about modality: Modality, BodyPart and the
// description come from a sidecar or the parent folder's name, as for
// raster images (raster.LabelsFor: "MR-brain/t1.nii.gz" is MR, BRAIN), else
// Modality is OT. SeriesDescription is the sidecar's description, else the
// header's descrip field.
package nifti

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/library/ingest/internal/ctxio"
	"github.com/m3ret/viewer/library/ingest/raster"
	"github.com/m3ret/viewer/library/media"
)

// Limits on what the reader accepts.
const (
	// MaxVoxelBytes bounds one volume's voxel data, and the float32 samples
	// it decodes to.
	MaxVoxelBytes = 1 << 31
	// MaxVoxOffset bounds the header's vox_offset (extensions included).
	MaxVoxOffset = 1 << 28
)

// Errors returned by the reader.
var (
	ErrNotNifti    = errors.New("not a NIfTI or Analyze header")
	ErrCorrupt     = errors.New("corrupt NIfTI header")
	ErrTruncated   = errors.New("NIfTI file truncated")
	ErrUnsupported = errors.New("unsupported NIfTI content")
	ErrTooLarge    = errors.New("NIfTI image too large")
	ErrNoVolume    = errors.New("no such volume")
	ErrNoImageFile = errors.New("the .img file of the .hdr/.img pair is missing")
)

// ReadFile decodes the first volume of the NIfTI image at path (a .nii or
// .nii.gz file, or either half of a .hdr/.img pair).
func ReadFile(path string) (*media.Sample, error) {
	return ReadVolumeContext(context.Background(), path, 0)
}

// ReadFileContext is ReadFile stopping, with ctx.Err(), when ctx is done.
func ReadFileContext(ctx context.Context, path string) (*media.Sample, error) {
	return ReadVolumeContext(ctx, path, 0)
}

// ReadVolume decodes volume index (0-based) of a 4-D image; volume 0 is what
// ReadFile returns.
func ReadVolume(path string, index int) (*media.Sample, error) {
	return ReadVolumeContext(context.Background(), path, index)
}

// ReadVolumeContext is ReadVolume stopping, with ctx.Err(), when ctx is
// done (a large gzipped volume is inflated through a reader that checks).
func ReadVolumeContext(ctx context.Context, path string, index int) (*media.Sample, error) {
	hdrPath, err := headerPath(path)
	if err != nil {
		return nil, err
	}
	h, err := readHeaderFile(hdrPath)
	if err != nil {
		return nil, err
	}
	if index < 0 || int64(index) >= h.volumes() {
		return nil, fmt.Errorf("volume %d of %d: %w", index, h.volumes(), ErrNoVolume)
	}
	volBytes, err := h.volumeBytes()
	if err != nil {
		return nil, err
	}
	dataPath := hdrPath
	if h.pair {
		if dataPath = imagePath(hdrPath); dataPath == "" {
			return nil, ErrNoImageFile
		}
	}
	raw, err := readVoxels(ctx, dataPath, h.voxOffset+int64(index)*volBytes, volBytes)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	s := h.sample(raw)
	l, err := raster.LabelsFor(path)
	if err != nil {
		return nil, err
	}
	s.Meta.Modality, s.Meta.BodyPart = l.Modality, l.BodyPart
	if l.Description != "" {
		s.Meta.SeriesDescription = l.Description
	}
	return s, nil
}

// sample converts one volume's raw bytes to a display-ordered sample.
func (h *header) sample(raw []byte) *media.Sample {
	dt := h.dtype()
	n := [3]int{int(h.dim[1]), int(h.dim[2]), int(h.dim[3])}
	a := h.affine()
	o := a.orientation()
	vw := viewFor(n, o)
	r := reorder(h.convert(raw), n, dt.channels, o, vw)
	zooms := a.columnNorms()
	s := &media.Sample{
		Kind: media.Volume, Width: r.width, Height: r.height, Frames: r.frames,
		Channels: dt.channels, Data: r.data,
	}
	for k, v := range r.voxelAxis {
		s.Spacing[k] = zooms[v]
	}
	if n[0] == 1 || n[1] == 1 || n[2] == 1 {
		s.Kind = media.Image2D
	}
	s.Meta = media.Meta{
		SourceFormat: "nifti", Orientation: vw.name, SeriesDescription: h.descrip,
		Photometric: "MONOCHROME2",
	}
	if dt.channels == 3 {
		s.Meta.Photometric = "RGB"
	}
	if v := h.volumes(); v > 1 {
		s.Meta.Volumes = int(v)
	}
	return s
}

// readHeaderFile reads the header at path, gzipped or not.
func readHeaderFile(path string) (*header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := maybeGunzip(f)
	if err != nil {
		return nil, err
	}
	return readHeader(r)
}

// readVoxels reads n bytes at offset off of the (possibly gzipped) file at
// path. A plain file is checked against its size before anything is
// allocated; a gzip stream is read no further than off+n.
func readVoxels(ctx context.Context, path string, off, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); string(magic) != "\x1f\x8b" {
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if st.Size() < off+n {
			return nil, fmt.Errorf("voxel data: %d of %d bytes: %w", max(st.Size()-off, 0), n, ErrTruncated)
		}
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, off); err != nil {
			return nil, fmt.Errorf("read voxel data: %w", eofToTruncated(err))
		}
		return buf, nil
	}
	return inflate(ctxio.Reader(ctx, br), off, n)
}

// inflate reads n bytes at offset off of the gzip stream r, reading r no
// further than that takes.
func inflate(r io.Reader, off, n int64) ([]byte, error) {
	z, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	if _, err := io.CopyN(io.Discard, z, off); err != nil {
		return nil, fmt.Errorf("skip to voxel data: %w", eofToTruncated(err))
	}
	// ReadAll grows as data arrive: a truncated stream fails before a
	// buffer of the declared size exists.
	buf, err := io.ReadAll(io.LimitReader(z, n))
	if err != nil {
		return nil, fmt.Errorf("gunzip voxel data: %w", eofToTruncated(err))
	}
	if int64(len(buf)) < n {
		return nil, fmt.Errorf("voxel data: %d of %d bytes: %w", len(buf), n, ErrTruncated)
	}
	return buf, nil
}

// maybeGunzip returns a reader of f's content, inflated when it is gzip.
func maybeGunzip(f io.Reader) (io.Reader, error) {
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); string(magic) != "\x1f\x8b" {
		return br, nil
	}
	z, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	return z, nil
}

// Sniff reports whether a file whose first bytes are head and whose name is
// path looks like NIfTI: the NIfTI-1 magic at offset 344 or the NIfTI-2
// magic at offset 4 after a sizeof_hdr of 348 or 540 in either byte order; a
// gzip stream named .nii.gz, .hdr.gz or .img.gz; an Analyze header named
// .hdr; or the .img half of a pair whose header sits beside it.
func Sniff(head []byte, path string) bool {
	n, _, ok := sizeofHdr(head)
	switch {
	case ok && n == size1 && len(head) >= size1:
		if m := string(head[344:347]); m == "n+1" || m == "ni1" {
			return true
		}
	case ok && n == size2 && len(head) >= 8:
		if m := string(head[4:8]); m == "n+2\x00" || m == "ni2\x00" {
			return true
		}
	}
	lower := strings.ToLower(path)
	switch {
	case strings.HasPrefix(string(head), "\x1f\x8b"):
		for _, ext := range []string{".nii.gz", ".hdr.gz", ".img.gz"} {
			if strings.HasSuffix(lower, ext) {
				return ext != ".img.gz" || Companion(path)
			}
		}
	case strings.HasSuffix(lower, ".hdr"):
		return ok
	}
	return Companion(path)
}

// Companion reports whether path is the .img (or .img.gz) half of a
// .hdr/.img pair whose .hdr (or .hdr.gz) sits beside it; folder walks skip
// those, reading the pair through its header.
func Companion(path string) bool {
	stem, ok := trimExt(path, ".img.gz", ".img")
	return ok && firstFile(stem, ".hdr", ".hdr.gz") != ""
}

// headerPath returns the file holding the header of the image at path: the
// .hdr beside an .img, else path itself.
func headerPath(path string) (string, error) {
	if stem, ok := trimExt(path, ".img.gz", ".img"); ok {
		if h := firstFile(stem, ".hdr", ".hdr.gz"); h != "" {
			return h, nil
		}
		return "", fmt.Errorf("no .hdr beside the .img: %w", ErrNotNifti)
	}
	return path, nil
}

// imagePath returns the .img (or .img.gz) beside the header at path, or "".
func imagePath(path string) string {
	stem, ok := trimExt(path, ".hdr.gz", ".hdr", ".nii.gz", ".nii")
	if !ok {
		stem = strings.TrimSuffix(path, filepath.Ext(path))
	}
	return firstFile(stem, ".img", ".img.gz")
}

// trimExt removes the first of exts that path ends with, in any case.
func trimExt(path string, exts ...string) (string, bool) {
	lower := strings.ToLower(path)
	for _, e := range exts {
		if strings.HasSuffix(lower, e) {
			return path[:len(path)-len(e)], true
		}
	}
	return path, false
}

// firstFile returns stem+ext for the first ext (tried in lower and upper
// case) naming a regular file, or "".
func firstFile(stem string, exts ...string) string {
	for _, e := range exts {
		for _, c := range []string{e, strings.ToUpper(e)} {
			if st, err := os.Stat(stem + c); err == nil && st.Mode().IsRegular() {
				return stem + c
			}
		}
	}
	return ""
}
