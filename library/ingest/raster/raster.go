// Package raster reads plain 2D image files (PNG 8/16-bit, JPEG, TIFF, BMP)
// into media samples: X-ray, ultrasound, fundus and endoscopy stills.
//
// Modality and body part come from the folder convention: the name of the
// file's parent folder, read as MODALITY or MODALITY-BODYPART (for example
// "CT", "DX-chest", "ES-colon"). XR is read as DX. Any other folder name
// gives modality OT and no body part.
//
// A sidecar overrides the folder convention field by field: NAME.json beside
// the image (a.png.json or a.json for a.png), else m3ret.json in its folder,
// holding for example
//
//	{"modality": "DX", "body_part": "chest", "description": "PA erect"}
//
// (see LabelsFor; the NIfTI and video readers use the same rules). 16-bit PNG
// and TIFF keep their 16-bit values. Sizes past MaxPixels are refused from
// the header, before any pixel is decoded.
package raster

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register decoders
	_ "image/png"
	"io"
	"os"
	"strings"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"

	"github.com/m3ret/viewer/library/media"
)

// MaxPixels bounds the size of an image this reader will decode.
const MaxPixels = 100_000_000

// ErrTooLarge is returned for images whose declared size exceeds MaxPixels.
var ErrTooLarge = errors.New("image dimensions too large")

// Sniff reports whether head (the first bytes of a file) starts like an image
// this package reads.
func Sniff(head []byte) bool {
	for _, magic := range []string{"\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "II*\x00", "MM\x00*", "BM"} {
		if strings.HasPrefix(string(head), magic) {
			return true
		}
	}
	return false
}

// ReadFile decodes the image at path.
func ReadFile(path string) (*media.Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		return nil, err
	}
	l, err := LabelsFor(path)
	if err != nil {
		return nil, err
	}
	s.Meta.Modality, s.Meta.BodyPart, s.Meta.SeriesDescription = l.Modality, l.BodyPart, l.Description
	return s, nil
}

// Read decodes an image from r. Modality is OT.
func Read(r io.ReadSeeker) (*media.Sample, error) {
	br := bufio.NewReader(r)
	cfg, format, err := image.DecodeConfig(br)
	if err != nil {
		return nil, fmt.Errorf("decode image header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%dx%d: %w", cfg.Width, cfg.Height, ErrTooLarge)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format, err)
	}
	s := fromImage(img)
	s.Meta.SourceFormat = format
	s.Meta.Modality = "OT"
	return s, nil
}

func fromImage(img image.Image) *media.Sample {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	s := &media.Sample{Kind: media.Image2D, Width: w, Height: h, Frames: 1}
	switch g := img.(type) {
	case *image.Gray:
		s.Channels, s.Data = 1, make([]float32, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				s.Data[y*w+x] = float32(g.GrayAt(b.Min.X+x, b.Min.Y+y).Y)
			}
		}
		s.Meta.Photometric = "MONOCHROME2"
		return s
	case *image.Gray16:
		s.Channels, s.Data = 1, make([]float32, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				s.Data[y*w+x] = float32(g.Gray16At(b.Min.X+x, b.Min.Y+y).Y)
			}
		}
		s.Meta.Photometric = "MONOCHROME2"
		return s
	}
	return fromColour(img, s)
}

// fromColour reads a colour image, as one channel when every pixel is grey.
// 16-bit colour (PNG, TIFF) keeps its 16-bit values; 8-bit stays 0-255.
func fromColour(img image.Image, s *media.Sample) *media.Sample {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	shift := uint(8)
	switch img.(type) {
	case *image.RGBA64, *image.NRGBA64:
		shift = 0
	}
	rgb := make([]float32, 3*w*h)
	grey := true
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			r, g, bl := c.R>>shift, c.G>>shift, c.B>>shift
			i := 3 * (y*w + x)
			rgb[i], rgb[i+1], rgb[i+2] = float32(r), float32(g), float32(bl)
			grey = grey && r == g && g == bl
		}
	}
	if grey {
		s.Channels, s.Data = 1, make([]float32, w*h)
		for i := range s.Data {
			s.Data[i] = rgb[3*i]
		}
		s.Meta.Photometric = "MONOCHROME2"
		return s
	}
	s.Channels, s.Data = 3, rgb
	s.Meta.Photometric = "RGB"
	return s
}

var aliases = map[string]string{"XR": "DX", "XRAY": "DX", "ENDOSCOPY": "ES", "FUNDUS": "OP"}

var modalities = map[string]bool{
	"CT": true, "MR": true, "PT": true, "NM": true, "DX": true, "CR": true, "MG": true,
	"US": true, "XA": true, "RF": true, "ES": true, "OP": true, "XC": true, "SM": true, "OT": true,
}

// FolderConvention reads a folder name as MODALITY or MODALITY-BODYPART.
func FolderConvention(dir string) (modality, bodyPart string) {
	head, tail, _ := strings.Cut(dir, "-")
	m := strings.ToUpper(strings.TrimSpace(head))
	if a, ok := aliases[m]; ok {
		m = a
	}
	if !modalities[m] {
		return "OT", ""
	}
	return m, strings.ToUpper(strings.TrimSpace(tail))
}
