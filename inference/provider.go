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

// Providers lists the execution providers of this platform, best first;
// CPU is always last.
func Providers() []string {
	switch runtime.GOOS {
	case "windows":
		return []string{"tensorrt", "cuda", "directml", "cpu"}
	case "darwin":
		return []string{"coreml", "cpu"}
	}
	return []string{"tensorrt", "cuda", "cpu"}
}

// providerOrder lists the providers to try: the forced one (if any), else
// the platform's, always ending with CPU.
func providerOrder(forced string) []string {
	forced = strings.ToLower(forced)
	switch forced {
	case "", "auto":
		return Providers()
	case "cpu":
		return []string{"cpu"}
	}
	return []string{forced, "cpu"}
}

// Probe tells which of the platform's providers the loaded ONNX Runtime can
// use (CPU always), and why each other one cannot. Start must have
// succeeded.
func Probe() (available []string, unavailable map[string]string) {
	unavailable = map[string]string{}
	for _, p := range Providers() {
		if err := probe(p); err != nil {
			unavailable[p] = err.Error()
			continue
		}
		available = append(available, p)
	}
	return available, unavailable
}

func probe(provider string) error {
	if why := missingProvider(provider, rt.Path); why != "" {
		return errors.New(why)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer opts.Destroy()
	return appendProvider(opts, provider)
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
	if err := noSpinning(opts); err != nil {
		return nil, err
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
		if err := opts.AppendExecutionProviderDirectML(0); err != nil {
			return fmt.Errorf("DirectML could not start (no usable DirectX 12 GPU, or not in this ONNX Runtime build): %w", err)
		}
		return nil
	case "coreml":
		if err := opts.AppendExecutionProviderCoreMLV2(map[string]string{}); err != nil {
			return fmt.Errorf("not in this ONNX Runtime build (CoreML is macOS only): %w", err)
		}
		return nil
	}
	return fmt.Errorf("unknown execution provider %q", provider)
}

// noSpinning stops ORT's CPU worker threads from spinning after each
// operator while they wait for the next: by default they do, for
// throughput when the model is alone on the machine. Here the model shares
// the cores with the decoders of the same import (and a window), which the
// spinning starves. M3RET_ORT_SPIN=1 keeps ORT's default.
func noSpinning(opts *ort.SessionOptions) error {
	if os.Getenv("M3RET_ORT_SPIN") == "1" {
		return nil
	}
	for _, k := range []string{"session.intra_op.allow_spinning", "session.inter_op.allow_spinning"} {
		if err := opts.AddSessionConfigEntry(k, "0"); err != nil {
			return fmt.Errorf("session option %s: %w", k, err)
		}
	}
	return nil
}
