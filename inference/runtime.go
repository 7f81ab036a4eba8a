package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ORTVersion is the onnxruntime-node version the set-up fetches into the
// user cache (.ci/fetch-ort.sh); MinORT is the oldest C API the Go binding
// accepts.
const (
	ORTVersion = "1.24.3"
	MinORT     = "1.24"
)

// ErrNoRuntime is returned when no ONNX Runtime library can be found.
var ErrNoRuntime = errors.New("onnx runtime library not found")

// LibraryName is the file name of the ORT shared library on this platform.
func LibraryName() string {
	switch runtime.GOOS {
	case "windows":
		return "onnxruntime.dll"
	case "darwin":
		return "libonnxruntime." + ORTVersion + ".dylib"
	}
	return "libonnxruntime.so.1"
}

func platformDir() string {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	osName := map[string]string{"windows": "win32"}[runtime.GOOS]
	if osName == "" {
		osName = runtime.GOOS
	}
	return osName + "-" + arch
}

// FindLibrary returns the ORT shared library to load, trying in order: the
// path the user set (flag or setting), $M3RET_ORT_LIB, next to the
// executable (installers), then the user cache filled by the set-up. It also
// returns the places it looked.
func FindLibrary(userPath string) (string, []string, error) {
	var tried []string
	var candidates []string
	if userPath != "" {
		candidates = append(candidates, userPath)
	}
	if env := os.Getenv("M3RET_ORT_LIB"); env != "" {
		candidates = append(candidates, env)
	}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), LibraryName()))
	}
	if cache, err := os.UserCacheDir(); err == nil {
		candidates = append(candidates, filepath.Join(cache, "m3ret", "ort", ORTVersion, platformDir(), LibraryName()))
	}
	for _, c := range candidates {
		tried = append(tried, c)
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c, tried, nil
		}
	}
	return "", tried, fmt.Errorf("%w (looked in %s; run `make setup` or set --ort-lib)", ErrNoRuntime, strings.Join(tried, ", "))
}

// Runtime describes the loaded ONNX Runtime.
type Runtime struct {
	Version string `json:"ort_version"`
	Path    string `json:"library"`
}

var (
	rtOnce sync.Once
	rt     Runtime
	rtErr  error
)

// Start loads the ORT shared library (once per process) and returns what
// was loaded. Later calls return the first result whatever their argument.
func Start(userPath string) (Runtime, error) {
	rtOnce.Do(func() {
		path, _, err := FindLibrary(userPath)
		if err != nil {
			rtErr = err
			return
		}
		if v := libraryVersion(path); v != "" && !versionAtLeast(v, MinORT) {
			rtErr = fmt.Errorf("onnx runtime at %s is version %s; M3Ret Viewer needs %s or newer (run `make setup`, or point --ort-lib at a newer library)", path, v, MinORT)
			return
		}
		ort.SetSharedLibraryPath(path)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			rtErr = fmt.Errorf("start onnx runtime %s (need >= %s): %w", path, MinORT, err)
			return
		}
		rt = Runtime{Version: ort.GetVersion(), Path: path}
		if !versionAtLeast(rt.Version, MinORT) {
			rtErr = fmt.Errorf("onnx runtime %s at %s is too old: need >= %s", rt.Version, path, MinORT)
		}
	})
	return rt, rtErr
}

func versionAtLeast(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i := range w {
		if i >= len(h) {
			return false
		}
		a, _ := strconv.Atoi(h[i])
		b, _ := strconv.Atoi(w[i])
		if a != b {
			return a > b
		}
	}
	return true
}
