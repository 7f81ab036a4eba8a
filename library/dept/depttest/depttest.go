// Package depttest starts real Weaviate servers for tests: one node, or a
// cluster of several, as child processes on loopback ports it chooses,
// killed by PID when the test ends (or on demand, for fault tests).
//
// The server binary is built once by .ci/fetch-weaviate.sh into the user
// cache (M3RET_WEAVIATE_BIN names another); tests never build it. Weaviate
// listens on all interfaces whatever its configuration, so servers start
// only inside a private network namespace with loopback alone (make test
// runs the Go tests through .ci/netns.sh, which sets M3RET_NETNS=1).
// Elsewhere the tests that need one skip, unless M3RET_REQUIRE_WEAVIATE=1,
// where a missing binary fails them.
package depttest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Version is the server version the project builds and tests against.
const Version = "v1.35.2"

// Binary returns the server's path, or "" when it has not been built.
func Binary() string {
	if b := os.Getenv("M3RET_WEAVIATE_BIN"); b != "" {
		return b
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	b := filepath.Join(cache, "m3ret", "weaviate", Version, "weaviate-server")
	if _, err := os.Stat(b); err != nil {
		return ""
	}
	return b
}

// Node is one server of a cluster.
type Node struct {
	Name                     string
	HTTP, GRPC, Gossip, Data int
	Raft                     int
	dir                      string
	env                      []string
	cmd                      *exec.Cmd
	done                     chan struct{}
	log                      *os.File
}

// Cluster is a set of running nodes.
type Cluster struct {
	Nodes []*Node
	bin   string
	t     testing.TB
	key   string
}

// APIKey is the key the servers take ("" for none).
func (c *Cluster) APIKey() string { return c.key }

// Start starts an n-node cluster for the test and waits until it has
// formed, or skips the test (see the package doc).
func Start(t testing.TB, n int) *Cluster { return StartWith(t, n, Options{}) }

// Options change how the servers run.
type Options struct {
	// APIKey, when set, is the one key the servers accept (anonymous
	// access off).
	APIKey string
}

// StartWith is Start with options.
func StartWith(t testing.TB, n int, o Options) *Cluster {
	t.Helper()
	bin := Binary()
	switch {
	case os.Getenv("M3RET_NETNS") != "1":
		t.Skip("Weaviate listens on all interfaces: run in a private network namespace (make test does, as root)")
	case bin == "" && os.Getenv("M3RET_REQUIRE_WEAVIATE") == "1":
		t.Fatal("the Weaviate server is needed: run .ci/fetch-weaviate.sh (make test does)")
	case bin == "":
		t.Skip("no Weaviate server built (.ci/fetch-weaviate.sh)")
	}
	c := &Cluster{bin: bin, t: t, key: o.APIKey}
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		// Weaviate takes a node's data port to be its gossip port + 1, and
		// its internal Raft RPC port its Raft port + 1: ports come in a block.
		p := freePorts(t, 6)
		nd := &Node{Name: "node" + strconv.Itoa(i+1), HTTP: p, GRPC: p + 1, Gossip: p + 2, Data: p + 3,
			Raft: p + 4, dir: filepath.Join(dir, fmt.Sprint(i+1))}
		c.Nodes = append(c.Nodes, nd)
	}
	join := make([]string, n)
	for i, nd := range c.Nodes {
		join[i] = nd.Name + ":" + strconv.Itoa(nd.Raft)
	}
	for i, nd := range c.Nodes {
		nd.env = append(os.Environ(), "DEFAULT_VECTORIZER_MODULE=none", "ENABLE_MODULES=", "PERSISTENCE_DATA_PATH="+nd.dir,
			"CLUSTER_HOSTNAME="+nd.Name, "CLUSTER_IN_LOCALHOST=true", "CLUSTER_BIND_ADDR=127.0.0.1",
			"CLUSTER_ADVERTISE_ADDR=127.0.0.1", "CLUSTER_GOSSIP_BIND_PORT="+strconv.Itoa(nd.Gossip),
			"CLUSTER_DATA_BIND_PORT="+strconv.Itoa(nd.Data), "RAFT_PORT="+strconv.Itoa(nd.Raft),
			"RAFT_INTERNAL_RPC_PORT="+strconv.Itoa(nd.Raft+1), "RAFT_JOIN="+strings.Join(join, ","),
			"RAFT_BOOTSTRAP_EXPECT="+strconv.Itoa(n), "GRPC_PORT="+strconv.Itoa(nd.GRPC),
			"DISABLE_TELEMETRY=true", "GO_PROFILING_DISABLE=true", "PROMETHEUS_MONITORING_ENABLED=false",
			"QUERY_DEFAULTS_LIMIT=25", "LOG_LEVEL=warning", "GOMEMLIMIT=1GiB")
		if o.APIKey != "" {
			nd.env = append(nd.env, "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=false", "AUTHENTICATION_APIKEY_ENABLED=true",
				"AUTHENTICATION_APIKEY_ALLOWED_KEYS="+o.APIKey, "AUTHENTICATION_APIKEY_USERS=m3ret")
		} else {
			nd.env = append(nd.env, "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true")
		}
		if i > 0 {
			nd.env = append(nd.env, "CLUSTER_JOIN=127.0.0.1:"+strconv.Itoa(c.Nodes[0].Gossip))
		}
		if n == 1 {
			// A node alone elects itself after Raft's timeouts times
			// Weaviate's multiplier (default 5: 5 s of every start); alone,
			// nothing can call a spurious election. A cluster keeps 5.
			nd.env = append(nd.env, "RAFT_TIMEOUTS_MULTIPLIER=1")
		}
		c.start(nd)
		if i == 0 && n > 1 {
			c.waitPort(nd, nd.Gossip) // the others join through it
		}
	}
	t.Cleanup(c.Stop)
	for _, nd := range c.Nodes {
		c.WaitReady(nd, 90*time.Second)
	}
	return c
}

func (c *Cluster) start(nd *Node) {
	c.t.Helper()
	if err := os.MkdirAll(nd.dir, 0o700); err != nil {
		c.t.Fatal(err)
	}
	log, err := os.OpenFile(filepath.Join(nd.dir+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	nd.log = log
	nd.cmd = exec.Command(c.bin, "--scheme", "http", "--host", "127.0.0.1", "--port", strconv.Itoa(nd.HTTP))
	nd.cmd.Env = nd.env
	nd.cmd.Stdout, nd.cmd.Stderr = log, log
	nd.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := nd.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	nd.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(nd.cmd, nd.done)
}

// waitPort waits until a node accepts connections on port.
func (c *Cluster) waitPort(nd *Node, port int) {
	c.t.Helper()
	for start := time.Now(); time.Since(start) < 60*time.Second; time.Sleep(50 * time.Millisecond) {
		if conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			conn.Close()
			return
		}
	}
	c.t.Fatalf("weaviate %s: nothing listens on port %d after 60 s", nd.Name, port)
}

// WaitReady polls a node until it answers ready.
func (c *Cluster) WaitReady(nd *Node, limit time.Duration) {
	c.t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/.well-known/ready", nd.HTTP)
	for start := time.Now(); time.Since(start) < limit; time.Sleep(100 * time.Millisecond) {
		select {
		case <-nd.done:
			log, _ := os.ReadFile(nd.dir + ".log")
			c.t.Fatalf("weaviate %s exited:\n%s", nd.Name, tail(log, 3000))
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	var logs strings.Builder
	for _, other := range c.Nodes {
		log, _ := os.ReadFile(other.dir + ".log")
		fmt.Fprintf(&logs, "--- %s (HTTP %d, gossip %d, raft %d):\n%s\n", other.Name, other.HTTP, other.Gossip, other.Raft, tail(log, 1500))
	}
	c.t.Fatalf("weaviate %s not ready within %s:\n%s", nd.Name, limit, logs.String())
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// URL is the weaviate:// URL of collection on all nodes.
func (c *Cluster) URL(collection string) string {
	hosts := make([]string, len(c.Nodes))
	grpc := make([]string, len(c.Nodes))
	for i, nd := range c.Nodes {
		hosts[i] = "127.0.0.1:" + strconv.Itoa(nd.HTTP)
		grpc[i] = strconv.Itoa(nd.GRPC)
	}
	return "weaviate://" + strings.Join(hosts, ",") + "/" + collection + "?grpc=" + strings.Join(grpc, ",")
}

// Kill kills a node with SIGKILL and waits for it to exit.
func (c *Cluster) Kill(nd *Node) {
	if nd.cmd == nil {
		return
	}
	nd.cmd.Process.Kill()
	<-nd.done
	nd.cmd = nil
	nd.log.Close()
}

// Restart starts a killed node again with its data and waits until ready.
// It joins the cluster's gossip through a node that is up (node1 first
// started on its own, so it needs one too).
func (c *Cluster) Restart(nd *Node) {
	c.t.Helper()
	env := make([]string, 0, len(nd.env)+1)
	for _, kv := range nd.env {
		if !strings.HasPrefix(kv, "CLUSTER_JOIN=") {
			env = append(env, kv)
		}
	}
	for _, other := range c.Nodes {
		if other != nd && other.cmd != nil {
			env = append(env, "CLUSTER_JOIN=127.0.0.1:"+strconv.Itoa(other.Gossip))
			break
		}
	}
	nd.env = env
	c.start(nd)
	c.WaitReady(nd, 90*time.Second)
}

// Stop kills every node (servers keep nothing a test needs afterwards).
func (c *Cluster) Stop() {
	for _, nd := range c.Nodes {
		c.Kill(nd)
	}
}

// Leader returns the node the cluster reports as its Raft leader (nil when
// none answers).
func (c *Cluster) Leader() *Node {
	for _, nd := range c.Nodes {
		if nd.cmd == nil {
			continue
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/v1/cluster/statistics", nd.HTTP))
		if err != nil {
			continue
		}
		var st struct {
			Statistics []struct {
				Name     string `json:"name"`
				LeaderID string `json:"leaderId"`
			} `json:"statistics"`
		}
		err = jsonDecode(resp, &st)
		if err != nil || len(st.Statistics) == 0 {
			continue
		}
		for _, cand := range c.Nodes {
			if cand.Name == st.Statistics[0].LeaderID {
				return cand
			}
		}
	}
	return nil
}

// freePorts returns the first of n consecutive loopback ports nothing
// listens on now (TCP and UDP: gossip uses both).
func freePorts(t testing.TB, n int) int {
	t.Helper()
	for try := 0; try < 200; try++ {
		base := 20000 + rand.IntN(30000)
		if allFree(base, n) {
			return base
		}
	}
	t.Fatal("no block of free ports")
	return 0
}

func allFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		l.Close()
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		u.Close()
	}
	return true
}
