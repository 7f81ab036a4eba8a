package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

// The models a user adds (an ONNX file and its manifest, verified) are
// copied into their own models folder, one subfolder a model, readable by
// the user alone: a library records the model it was embedded with, and
// finds it there again at the next start, whatever became of the file the
// user chose.

// ModelInfo describes a model the program can use: one of the embedded
// models, or one added to the user's models folder.
type ModelInfo struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	ID       string `json:"id"` // the embedding space (see inference.Manifest.ID)
	Dim      int    `json:"dimension"`
	Size     int64  `json:"size"` // bytes of the ONNX file
	Embedded bool   `json:"embedded"`
	Path     string `json:"path,omitempty"` // the manifest of a model not embedded
	// Adapted marks a model trained on the library's own items (m3ret
	// adapt), kept in the library's models folder.
	Adapted     bool   `json:"adapted,omitempty"`
	Description string `json:"description,omitempty"`
}

// Spec is what --model takes to load this model: an embedded model's
// name, an added model's manifest.
func (m ModelInfo) Spec() string {
	if m.Embedded {
		return m.Name
	}
	return m.Path
}

// embeddedModels are the models the binary ships with.
var embeddedModels = []string{"m3ret-vit", "baseline"}

// ModelsDir is $M3RET_MODELS, else the models folder beside the default
// library in the user's data folder.
func ModelsDir() string {
	if d := os.Getenv("M3RET_MODELS"); d != "" {
		return d
	}
	return filepath.Join(filepath.Dir(library.DefaultDir()), "models")
}

// Models lists the embedded models, then those added (by name, version).
func Models() ([]ModelInfo, error) { return ModelsFor("") }

// ModelsFor is Models, then the models adapted to the library in libDir
// ("" for none).
func ModelsFor(libDir string) ([]ModelInfo, error) {
	var out []ModelInfo
	for _, name := range embeddedModels {
		man, onnx, err := assets.Model(name)
		if err != nil {
			continue // a build without it
		}
		m, err := inference.ParseManifest(man)
		if err != nil {
			return nil, fmt.Errorf("embedded model %s: %w", name, err)
		}
		out = append(out, InfoOf(m, int64(len(onnx)), ""))
	}
	added, err := addedModels()
	out = append(out, added...)
	if libDir != "" {
		out = append(out, adaptedModels(libDir)...)
	}
	return out, err
}

// adaptedModels are the models in the library's models folder.
func adaptedModels(libDir string) []ModelInfo {
	paths, _ := filepath.Glob(filepath.Join(LibraryModelsDir(libDir), "*.json"))
	var out []ModelInfo
	for _, p := range paths {
		if info, err := readAdded(p); err == nil {
			info.Adapted = true
			out = append(out, info)
		}
	}
	return out
}

// addedModels reads the manifests in the models folder; a subfolder that
// is not a model (a copy cut short) is passed over.
func addedModels() ([]ModelInfo, error) {
	entries, err := os.ReadDir(ModelsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models folder: %w", err)
	}
	var out []ModelInfo
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if info, err := readAdded(filepath.Join(ModelsDir(), e.Name(), storedManifest)); err == nil {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

// storedManifest is the manifest's name in an added model's folder.
const storedManifest = "model.json"

// readAdded describes the added model whose manifest is at path.
func readAdded(path string) (ModelInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ModelInfo{}, err
	}
	m, err := inference.ParseManifest(data)
	if err != nil {
		return ModelInfo{}, err
	}
	st, err := os.Stat(onnxPath(path, m))
	if err != nil {
		return ModelInfo{}, err
	}
	return InfoOf(m, st.Size(), path), nil
}

// InfoOf describes the model of a manifest (size: its ONNX file's bytes;
// path: where the manifest is, "" for an embedded model).
func InfoOf(m *inference.Manifest, size int64, path string) ModelInfo {
	return ModelInfo{Name: m.Name, Version: m.Version, ID: m.ID(), Dim: m.Output.Dim, Size: size,
		Embedded: path == "", Path: path, Description: m.Description}
}

// onnxPath is the ONNX file beside a manifest, as inference.LoadFile
// finds it: the file the manifest names, else the manifest's name .onnx.
func onnxPath(manifest string, m *inference.Manifest) string {
	if m.File != "" {
		return filepath.Join(filepath.Dir(manifest), filepath.Base(m.File))
	}
	return strings.TrimSuffix(manifest, filepath.Ext(manifest)) + ".onnx"
}

// FindModel returns the model spec names among the embedded and added
// ones: an embedding space id, or NAME@VERSION, or a NAME that only one
// model has (embedded first).
func FindModel(spec string) (ModelInfo, bool) {
	all, _ := Models()
	return FindModelIn(all, spec)
}

// FindModelIn is FindModel among models (see ModelsFor).
func FindModelIn(all []ModelInfo, spec string) (ModelInfo, bool) {
	for _, m := range all {
		if m.ID == spec || m.Name+"@"+m.Version == spec {
			return m, true
		}
	}
	var named []ModelInfo
	for _, m := range all {
		if m.Name == spec {
			if m.Embedded {
				return m, true
			}
			named = append(named, m)
		}
	}
	if len(named) == 1 {
		return named[0], true
	}
	return ModelInfo{}, false
}

// ErrModelFiles is wrapped when the files given to AddModel are not one
// ONNX file and its manifest.
var ErrModelFiles = errors.New("not a model: give an ONNX file and its manifest (.json), or a folder holding both")

// AddModel verifies a model (its ONNX file against the manifest's sha256,
// the graph's input and output against the manifest's shapes: refused
// wrapping inference.ErrManifest when the manifest lies) and copies it into
// the models folder. paths are the ONNX file and its manifest (either
// alone finds the other beside it, same name), or a folder holding both.
// A model added before is found again (added false).
func AddModel(c *Common, paths ...string) (info ModelInfo, added bool, err error) {
	manPath, onnxPath, err := modelFiles(paths)
	if err != nil {
		return ModelInfo{}, false, err
	}
	man, err := os.ReadFile(manPath)
	if err != nil {
		return ModelInfo{}, false, fmt.Errorf("read manifest: %w", err)
	}
	onnx, err := os.ReadFile(onnxPath)
	if err != nil {
		return ModelInfo{}, false, fmt.Errorf("read model: %w", err)
	}
	m, err := verifyModel(c, man, onnx)
	if err != nil {
		return ModelInfo{}, false, err
	}
	return storeModel(m, man, onnx)
}

// verifyModel checks a model as loading it does (manifest, sha256, graph
// input and output), on the CPU.
func verifyModel(c *Common, man, onnx []byte) (*inference.Manifest, error) {
	m, err := inference.ParseManifest(man)
	if err != nil {
		return nil, err
	}
	if err := m.VerifyFile(onnx); err != nil { // before starting anything
		return nil, err
	}
	if _, err := inference.Start(c.ORTLib); err != nil {
		return nil, err
	}
	enc, err := inference.Load(man, onnx, inference.Options{Provider: "cpu", Threads: 1})
	if err != nil {
		return nil, err
	}
	enc.Close()
	return m, nil
}

// storeModel copies a verified model into its folder under ModelsDir:
// written into a hidden folder first, then renamed, so that a model is
// there whole or not at all.
func storeModel(m *inference.Manifest, man, onnx []byte) (ModelInfo, bool, error) {
	dir := filepath.Join(ModelsDir(), folderName(m))
	if info, err := readAdded(filepath.Join(dir, storedManifest)); err == nil && info.ID == m.ID() {
		return info, false, nil
	}
	if err := os.MkdirAll(ModelsDir(), 0o700); err != nil {
		return ModelInfo{}, false, fmt.Errorf("models folder: %w", err)
	}
	tmp, err := os.MkdirTemp(ModelsDir(), ".adding-")
	if err != nil {
		return ModelInfo{}, false, fmt.Errorf("models folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	manPath := filepath.Join(tmp, storedManifest)
	for p, data := range map[string][]byte{manPath: man, onnxPath(manPath, m): onnx} {
		if err := writeFileSync(p, data); err != nil {
			return ModelInfo{}, false, err
		}
	}
	if err := os.RemoveAll(dir); err != nil { // a damaged copy of it
		return ModelInfo{}, false, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return ModelInfo{}, false, fmt.Errorf("add model: %w", err)
	}
	info, err := readAdded(filepath.Join(dir, storedManifest))
	return info, err == nil, err
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// folderName is an added model's folder: its name, version and the start
// of its sha256, in characters every file system takes.
func folderName(m *inference.Manifest) string {
	name := strings.Trim(unsafeName.ReplaceAllString(m.Name+"-"+m.Version, "_"), "._-")
	if len(name) > 64 {
		name = name[:64]
	}
	return name + "-" + m.SHA256[:12]
}

// modelFiles finds the manifest and the ONNX file among paths.
func modelFiles(paths []string) (manifest, onnx string, err error) {
	switch {
	case len(paths) == 1:
		st, err := os.Stat(paths[0])
		if err != nil {
			return "", "", fmt.Errorf("%w (%v)", ErrModelFiles, err)
		}
		if st.IsDir() {
			return modelFolder(paths[0])
		}
		return besideEachOther(paths[0])
	case len(paths) == 2:
		a, b := paths[0], paths[1]
		if isManifest(a) {
			a, b = b, a
		}
		if strings.EqualFold(filepath.Ext(a), ".onnx") && isManifest(b) {
			return b, a, nil
		}
	}
	return "", "", ErrModelFiles
}

func isManifest(p string) bool { return strings.EqualFold(filepath.Ext(p), ".json") }

// besideEachOther finds the other file of a model beside the one given:
// the manifest of the same name, or the ONNX file the manifest names
// (else of the same name).
func besideEachOther(p string) (manifest, onnx string, err error) {
	stem := strings.TrimSuffix(p, filepath.Ext(p))
	switch {
	case strings.EqualFold(filepath.Ext(p), ".onnx"):
		if _, err := os.Stat(stem + ".json"); err != nil {
			return "", "", fmt.Errorf("%w: no manifest %s beside it", ErrModelFiles, filepath.Base(stem)+".json")
		}
		return stem + ".json", p, nil
	case isManifest(p):
		return p, onnxBeside(p), nil
	}
	return "", "", ErrModelFiles
}

// onnxBeside is the ONNX file a manifest names, in its folder (else the
// one of the same name).
func onnxBeside(manifest string) string {
	if data, err := os.ReadFile(manifest); err == nil {
		if m, err := inference.ParseManifest(data); err == nil && m.File != "" {
			return filepath.Join(filepath.Dir(manifest), filepath.Base(m.File))
		}
	}
	return strings.TrimSuffix(manifest, filepath.Ext(manifest)) + ".onnx"
}

// modelFolder finds the one manifest in dir (a JSON file that reads as
// one) and its ONNX file.
func modelFolder(dir string) (manifest, onnx string, err error) {
	jsons, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	found := jsons // one JSON file is the manifest, whatever it says (AddModel checks it)
	if len(jsons) > 1 {
		found = manifestsAmong(jsons)
	}
	switch len(found) {
	case 0:
		return "", "", fmt.Errorf("%w: %s holds no model manifest", ErrModelFiles, filepath.Base(dir))
	case 1:
		return found[0], onnxBeside(found[0]), nil
	}
	return "", "", fmt.Errorf("%w: %s holds %d manifests; choose one", ErrModelFiles, filepath.Base(dir), len(found))
}

// manifestsAmong keeps the JSON files that read as model manifests.
func manifestsAmong(jsons []string) []string {
	var found []string
	for _, j := range jsons {
		if data, err := os.ReadFile(j); err == nil {
			if _, err := inference.ParseManifest(data); err == nil {
				found = append(found, j)
			}
		}
	}
	return found
}
