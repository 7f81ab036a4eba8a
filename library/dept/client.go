package dept

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
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
	Retry time.Duration
}

func dial(cfg Config) (*Index, error) {
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	ix := &Index{cfg: cfg, Retry: 30 * time.Second}
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
	rest, err := wv.NewClient(wv.Config{Host: net.JoinHostPort(n.Host, strconv.Itoa(n.HTTP)), Scheme: scheme,
		ConnectionClient: &http.Client{Transport: tr}, Headers: headers, Timeout: 30 * time.Second})
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

// do runs a write (or schema change) against a node, moving on to the
// next node when the one it used does not answer within 20 s, until
// ix.Retry has passed. op must be idempotent.
func (ix *Index) do(ctx context.Context, op func(ctx context.Context, c *conn) error) error {
	return ix.try(ctx, 20*time.Second, op)
}

// read is do for reads, which answer in milliseconds: a node that has not
// answered in 5 s is left for the next one.
func (ix *Index) read(ctx context.Context, op func(ctx context.Context, c *conn) error) error {
	return ix.try(ctx, 5*time.Second, op)
}

func (ix *Index) try(ctx context.Context, limit time.Duration, op func(ctx context.Context, c *conn) error) error {
	deadline := time.Now().Add(ix.Retry)
	var last error
	for attempt := 0; ; attempt++ {
		ix.mu.Lock()
		i := ix.cur
		ix.mu.Unlock()
		c := ix.conns[i]
		octx, cancel := context.WithTimeout(ctx, limit)
		err := op(octx, c)
		cancel()
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
		last = err
		ix.mu.Lock()
		if ix.cur == i {
			ix.cur = (i + 1) % len(ix.conns)
		}
		ix.mu.Unlock()
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %v", ErrUnavailable, last)
		}
		if (attempt+1)%len(ix.conns) == 0 { // every node tried: wait a little
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// transient reports an error after which another node (or a moment later,
// the same one) may well succeed: the node is down, or the cluster is
// electing a leader or reaching a replica that just died.
func transient(err error) bool {
	for _, ours := range []error{ErrNoCollection, ErrModelMismatch, ErrReplication, ErrFilter, ErrBadURL} {
		if errors.Is(err, ours) {
			return false
		}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
			return true
		}
	}
	msg := strings.ToLower(err.Error())
	for _, m := range []string{"connection refused", "connection reset", "no such host", "eof", "broken pipe",
		"leader", "not enough", "replica", "timeout", "unavailable", "status code: 5"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
