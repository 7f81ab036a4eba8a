package dept

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/m3ret/viewer/library/internal/origin"
)

// conn is one node: the official client over HTTP (schema, cluster state,
// deletes) and a gRPC stub (searches, batch upserts). The gRPC connection
// is our own so that TLS verifies the server's certificate against the
// configured CA (the client's own gRPC dialer skips verification).
type conn struct {
	node Node
	rest *wv.Client
	grpc pb.WeaviateClient
	cc   *grpc.ClientConn
}

// Index is an open department index collection.
type Index struct {
	cfg   Config
	conns []*conn

	mu  sync.Mutex
	cur int // the node tried first

	model string
	dim   int
	nodes int
	notes []string
	// Retry is how long an operation keeps trying other nodes when the one
	// it used stopped answering (default 30 s).
	Retry     time.Duration
	readLimit time.Duration // how long a read waits for one node (5 s)
}

func dial(cfg Config) (*Index, error) {
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	ix := &Index{cfg: cfg, Retry: 30 * time.Second, readLimit: 5 * time.Second}
	for _, n := range cfg.Nodes {
		c, err := dialNode(n, cfg, tlsCfg)
		if err != nil {
			ix.Close()
			return nil, err
		}
		ix.conns = append(ix.conns, c)
	}
	return ix, nil
}

func tlsConfig(cfg Config) (*tls.Config, error) {
	if !cfg.TLS {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA bundle: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read CA bundle %s: no certificate in it", cfg.CAFile)
		}
	}
	return t, nil
}

func dialNode(n Node, cfg Config, tlsCfg *tls.Config) (*conn, error) {
	scheme := "http"
	creds := insecure.NewCredentials()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a department index is on the hospital network, never through a proxy
	if tlsCfg != nil {
		scheme = "https"
		creds = credentials.NewTLS(tlsCfg)
		tr.TLSClientConfig = tlsCfg
	}
	headers := map[string]string{}
	if cfg.APIKey != "" {
		headers["Authorization"] = "Bearer " + cfg.APIKey
	}
	// The API key goes with every request: a redirect to another origin
	// (scheme, host, port) is refused before anything is sent there.
	rest, err := wv.NewClient(wv.Config{Host: net.JoinHostPort(n.Host, strconv.Itoa(n.HTTP)), Scheme: scheme,
		ConnectionClient: origin.Client(&http.Client{Transport: tr}), Headers: headers, Timeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("department index node %s: %w", n.Host, err)
	}
	cc, err := grpc.NewClient(net.JoinHostPort(n.Host, strconv.Itoa(n.GRPC)), grpc.WithTransportCredentials(creds),
		grpc.WithUnaryInterceptor(authInterceptor(cfg.APIKey)))
	if err != nil {
		return nil, fmt.Errorf("department index node %s: %w", n.Host, err)
	}
	return &conn{node: n, rest: rest, grpc: pb.NewWeaviateClient(cc), cc: cc}, nil
}

func authInterceptor(key string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if key != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// Close drops the connections.
func (ix *Index) Close() error {
	for _, c := range ix.conns {
		c.cc.Close()
	}
	return nil
}

// Notes are warnings found when the index was opened (e.g. replication).
func (ix *Index) Notes() []string { return ix.notes }

// Model is the embedding model the collection was built with.
func (ix *Index) Model() string { return ix.model }

// Current is the node operations go to first (the last one that answered).
func (ix *Index) Current() Node {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.conns[ix.cur].node
}

// Config is how the index was reached.
func (ix *Index) Config() Config { return ix.cfg }
