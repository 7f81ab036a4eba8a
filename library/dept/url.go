// Package dept is the department index: the vectors and metadata of a whole
// department's archive in a Weaviate collection, shared by every workstation.
// Pixels stay in the PACS; each object names the PACS server and the DICOM
// Study/Series UIDs (or the workstation that shared it) its pixels come from.
// Patient names and IDs are never written to it.
//
// The collection is reached over gRPC (searches, batch upserts) and HTTP
// (schema, cluster state) with the official Go client. An index URL names
// one or more nodes of the cluster; a node that stops answering is left for
// the next one, so a workstation keeps working while a node is down.
//
//	weaviate://HOST[:HTTP][,HOST[:HTTP]...]/COLLECTION[?grpc=PORT[,PORT...]&tls=1&ca=FILE]
//
// HTTP defaults to 8080 and gRPC to 50051 on every node; grpc= lists one
// port for all nodes or one per node, in order. The API key comes from
// Config.APIKey (the CLI reads M3RET_WEAVIATE_API_KEY).
package dept

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Errors a caller may test for.
var (
	ErrBadURL        = errors.New("bad department index URL")
	ErrModelMismatch = errors.New("department index was built with another model")
	ErrReplication   = errors.New("department index is not replicated")
	ErrNoCollection  = errors.New("department index collection does not exist")
	ErrUnavailable   = errors.New("department index unreachable")
	ErrFilter        = errors.New("filter not supported by the department index")
)

// Node is one Weaviate server's address.
type Node struct {
	Host string
	HTTP int
	GRPC int
}

// Config says how to reach a collection.
type Config struct {
	Nodes      []Node
	Collection string
	TLS        bool
	CAFile     string // PEM bundle of the cluster's CA ("" for the system's)
	APIKey     string
}

var collectionName = regexp.MustCompile(`^[A-Z][A-Za-z0-9_]{0,200}$`)

// ParseURL reads a weaviate:// URL (see the package comment).
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "weaviate" || u.Host == "" {
		return Config{}, fmt.Errorf("%w: %q: want weaviate://HOST:PORT/COLLECTION", ErrBadURL, raw)
	}
	cfg := Config{Collection: strings.Trim(u.Path, "/")}
	if !collectionName.MatchString(cfg.Collection) {
		return Config{}, fmt.Errorf("%w: collection %q must start with a capital letter and hold only letters, digits and _", ErrBadURL, cfg.Collection)
	}
	q := u.Query()
	cfg.TLS = q.Get("tls") == "1" || q.Get("tls") == "true"
	cfg.CAFile = q.Get("ca")
	if cfg.CAFile != "" {
		cfg.TLS = true
	}
	grpcPorts, err := ports(q.Get("grpc"))
	if err != nil {
		return Config{}, err
	}
	for i, hp := range strings.Split(u.Host, ",") {
		n, err := node(hp, cfg.TLS)
		if err != nil {
			return Config{}, err
		}
		switch {
		case len(grpcPorts) == 1:
			n.GRPC = grpcPorts[0]
		case i < len(grpcPorts):
			n.GRPC = grpcPorts[i]
		case len(grpcPorts) > 1:
			return Config{}, fmt.Errorf("%w: grpc= lists %d ports for more nodes", ErrBadURL, len(grpcPorts))
		}
		cfg.Nodes = append(cfg.Nodes, n)
	}
	return cfg, nil
}

func node(hostport string, tls bool) (Node, error) {
	n := Node{Host: hostport, HTTP: 8080, GRPC: 50051}
	if tls {
		n.HTTP, n.GRPC = 443, 443
	}
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		port, perr := strconv.Atoi(p)
		if perr != nil || port <= 0 || port > 65535 {
			return Node{}, fmt.Errorf("%w: port %q", ErrBadURL, p)
		}
		n.Host, n.HTTP = h, port
	}
	if n.Host == "" {
		return Node{}, fmt.Errorf("%w: empty host", ErrBadURL)
	}
	return n, nil
}

func ports(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(f)
		if err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("%w: grpc port %q", ErrBadURL, f)
		}
		out = append(out, p)
	}
	return out, nil
}

// String is the URL of cfg (without the API key, which URLs never hold).
func (c Config) String() string {
	hosts := make([]string, len(c.Nodes))
	grpc := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		hosts[i] = net.JoinHostPort(n.Host, strconv.Itoa(n.HTTP))
		grpc[i] = strconv.Itoa(n.GRPC)
	}
	q := url.Values{"grpc": {strings.Join(grpc, ",")}}
	if c.TLS {
		q.Set("tls", "1")
	}
	if c.CAFile != "" {
		q.Set("ca", c.CAFile)
	}
	return "weaviate://" + strings.Join(hosts, ",") + "/" + c.Collection + "?" + q.Encode()
}

// IsURL reports whether s names a department index rather than a folder.
func IsURL(s string) bool { return strings.HasPrefix(s, "weaviate://") }
