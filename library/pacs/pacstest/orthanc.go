// Package pacstest starts a real PACS for tests: Debian's Orthanc with its
// DICOMweb plugin, as a child process on ports it chooses, with a user and
// password, stopped by its PID when the test ends.
//
// Orthanc 1.10 listens on all interfaces, so tests start it only inside a
// private network namespace with loopback alone: `make test` runs the Go
// tests through .ci/netns.sh (unshare -n, as root), which sets
// M3RET_NETNS=1 there. Elsewhere the tests that need it skip, unless
// M3RET_REQUIRE_ORTHANC=1 (set by .ci/netns.sh inside the namespace), where
// a missing Orthanc fails them.
package pacstest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Orthanc is a running server.
type Orthanc struct {
	URL      string // the DICOMweb root
	User     string
	Password string
	cmd      *exec.Cmd
}

// Plugin is where Debian's orthanc-dicomweb puts the DICOMweb plugin.
const Plugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

// Start starts an Orthanc for the test, or skips it (see the package doc).
func Start(t testing.TB) *Orthanc {
	t.Helper()
	bin, err := exec.LookPath("Orthanc")
	if err == nil {
		_, err = os.Stat(Plugin)
	}
	switch {
	case os.Getenv("M3RET_NETNS") != "1":
		t.Skip("Orthanc listens on all interfaces: run in a private network namespace (make test does, as root)")
	case err != nil && os.Getenv("M3RET_REQUIRE_ORTHANC") == "1":
		t.Fatalf("Orthanc with its DICOMweb plugin is needed (apt-get install orthanc orthanc-dicomweb): %v", err)
	case err != nil:
		t.Skip(err)
	}
	dir := t.TempDir()
	o := &Orthanc{User: "m3ret", Password: "test-" + fmt.Sprint(time.Now().UnixNano())}
	httpPort, dicomPort := freePort(t), freePort(t)
	cfg := map[string]any{"Name": "m3ret-test", "StorageDirectory": filepath.Join(dir, "db"), "IndexDirectory": filepath.Join(dir, "db"),
		"HttpPort": httpPort, "DicomPort": dicomPort, "RemoteAccessAllowed": false,
		"AuthenticationEnabled": true, "RegisteredUsers": map[string]string{o.User: o.Password},
		"Plugins": []string{Plugin}, "DicomWeb": map[string]any{"Enable": true, "Root": "/dicom-web/"}}
	data, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "orthanc.json")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "orthanc.log"))
	if err != nil {
		t.Fatal(err)
	}
	o.cmd = exec.Command(bin, cfgPath)
	o.cmd.Stdout, o.cmd.Stderr = log, log
	if err := o.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Stop(); log.Close() })
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	o.URL = base + "/dicom-web"
	o.wait(t, base)
	return o
}

// wait polls until the server answers.
func (o *Orthanc) wait(t testing.TB, base string) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, base+"/system", nil)
		req.SetBasicAuth(o.User, o.Password)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("Orthanc did not start within 30 s")
}

// Stop stops the server (by its PID) and waits for it; later calls do
// nothing.
func (o *Orthanc) Stop() {
	if o.cmd == nil || o.cmd.Process == nil {
		return
	}
	o.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { o.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		o.cmd.Process.Kill()
		<-done
	}
	o.cmd = nil
}

// freePort is a loopback TCP port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
