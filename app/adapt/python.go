package adapt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNoTorch: the Python found has no PyTorch (or ONNX, NumPy).
var ErrNoTorch = errors.New("adapting needs PyTorch")

// ErrNotAdaptable: the library's model is not one adapt can train (not an
// M3Ret ViT that `make train` or `m3ret adapt` made).
var ErrNotAdaptable = errors.New("this model cannot be adapted")

// PythonEnv names the variable that chooses the Python interpreter.
const PythonEnv = "M3RET_PYTHON"

// DefaultPython is the interpreter used when PythonEnv is not set: the
// system's, where Debian and Ubuntu install python3-torch.
const DefaultPython = "/usr/bin/python3"

// FindPython returns the interpreter to run the training with: $M3RET_PYTHON,
// else /usr/bin/python3, else python3 on the PATH, else python (Windows).
func FindPython() string {
	if p := os.Getenv(PythonEnv); p != "" {
		return p
	}
	if _, err := os.Stat(DefaultPython); err == nil {
		return DefaultPython
	}
	for _, name := range []string{"python3", "python"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return DefaultPython
}

// InstallHint says what to install for adapt to run.
const InstallHint = `install PyTorch, ONNX and NumPy for this Python:
  Debian/Ubuntu:  sudo apt-get install python3-torch python3-onnx python3-numpy
  elsewhere:      python3 -m pip install torch onnx numpy   (a CUDA build of torch uses the GPU)
or point ` + PythonEnv + ` at a Python that has them`

// CheckTorch runs python to import torch, onnx and numpy; it returns
// ErrNoTorch (with what is missing) when it cannot, and otherwise says
// which device PyTorch would train on ("cuda" or "cpu") and its version.
func CheckTorch(ctx context.Context, python string) (device, version string, err error) {
	cmd := exec.CommandContext(ctx, python, "-c",
		"import torch, onnx, numpy; print('cuda' if torch.cuda.is_available() else 'cpu', torch.__version__)")
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		why := err.Error()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
			why = lines[len(lines)-1]
		}
		return "", "", fmt.Errorf("%w (%s: %s); %s", ErrNoTorch, python, why, InstallHint)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return "", "", fmt.Errorf("%w: %s printed %q", ErrNoTorch, python, out)
	}
	return f[0], f[1], nil
}

// runScript runs python on script with args in dir, under ctx (cancelled:
// the child is killed and its pipes closed within a second). Lines the
// script prints as "progress DONE TOTAL" go to progress; the others, and
// its standard error, to log. A failure carries the last line the script
// wrote on standard error; exit status 3 is ErrNotAdaptable.
func runScript(ctx context.Context, python, dir string, args []string, log io.Writer, progress func(done, total int)) error {
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	cmd.WaitDelay = time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var tail lastLine
	log = &lockedWriter{w: log} // written from here (stdout) and from exec's copy of stderr
	cmd.Stderr = io.MultiWriter(log, &tail)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", python, err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if done, total, ok := progressLine(sc.Text()); ok {
			if progress != nil {
				progress(done, total)
			}
			continue
		}
		fmt.Fprintln(log, sc.Text())
	}
	err = cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err == nil:
		return nil
	case cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 3:
		return fmt.Errorf("%w: %s", ErrNotAdaptable, strings.TrimPrefix(tail.String(), "adapt: this model cannot be adapted: "))
	}
	return fmt.Errorf("%s %s: %w: %s", python, args[0], err, tail.String())
}

func progressLine(s string) (done, total int, ok bool) {
	f := strings.Fields(s)
	if len(f) != 3 || f[0] != "progress" {
		return 0, 0, false
	}
	d, err1 := strconv.Atoi(f[1])
	t, err2 := strconv.Atoi(f[2])
	return d, t, err1 == nil && err2 == nil
}

// lastLine keeps the last non-empty line written to it.
type lastLine struct {
	mu   sync.Mutex
	buf  []byte
	last string
}

func (l *lastLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		if s := strings.TrimSpace(string(l.buf[:i])); s != "" {
			l.last = s
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lastLine) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := strings.TrimSpace(string(l.buf)); s != "" {
		return s
	}
	return l.last
}

// lockedWriter serialises the writes of two goroutines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
