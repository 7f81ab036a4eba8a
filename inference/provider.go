package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// providerOrder lists the providers to try: the forced one (if any), then
// the platform's accelerators, always ending with CPU.
func providerOrder(forced string) []string {
	forced = strings.ToLower(forced)
	if forced != "" && forced != "auto" {
		if forced == "cpu" {
			return []string{"cpu"}
		}
		return []string{forced, "cpu"}
	}
	switch runtime.GOOS {
	case "windows":
		return []string{"cuda", "directml", "cpu"}
	case "darwin":
		return []string{"coreml", "cpu"}
	}
	return []string{"cuda", "cpu"}
}

// providerLibraries names the shared libraries a provider needs beside the
// ORT library; the onnxruntime-node build ships none of them.
var providerLibraries = map[string]string{
	"cuda":     "onnxruntime_providers_cuda",
	"tensorrt": "onnxruntime_providers_tensorrt",
}

// missingProvider reports why provider cannot load, or "" when it may.
func missingProvider(provider, ortLib string) string {
	base, ok := providerLibraries[provider]
	if !ok {
		return ""
	}
	name := "lib" + base + ".so"
	if runtime.GOOS == "windows" {
		name = base + ".dll"
	}
	p := filepath.Join(filepath.Dir(ortLib), name)
	if _, err := os.Stat(p); err != nil {
		return fmt.Sprintf("%s not found beside the ONNX Runtime library (this ORT build has no %s provider)", name, strings.ToUpper(provider))
	}
	return ""
}

func newSession(m *Manifest, model []byte, provider string, threads int) (*ort.DynamicAdvancedSession, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			return nil, err
		}
	}
	if why := missingProvider(provider, rt.Path); why != "" {
		return nil, errors.New(why)
	}
	if err := appendProvider(opts, provider); err != nil {
		return nil, err
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{m.Input.Name}, []string{m.Output.Name}, opts)
	if err != nil {
		return nil, fmt.Errorf("create %s session: %w", provider, err)
	}
	return s, nil
}

func appendProvider(opts *ort.SessionOptions, provider string) error {
	switch provider {
	case "cpu":
		return nil
	case "cuda":
		co, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		defer co.Destroy()
		return opts.AppendExecutionProviderCUDA(co)
	case "tensorrt":
		to, err := ort.NewTensorRTProviderOptions()
		if err != nil {
			return fmt.Errorf("tensorrt: %w", err)
		}
		defer to.Destroy()
		return opts.AppendExecutionProviderTensorRT(to)
	case "directml":
		return opts.AppendExecutionProviderDirectML(0)
	case "coreml":
		return opts.AppendExecutionProviderCoreMLV2(map[string]string{})
	}
	return fmt.Errorf("unknown execution provider %q", provider)
}
