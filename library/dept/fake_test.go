package dept

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// errStopwords is how Weaviate refuses a word filter of stopwords alone.
var errStopwords = status.Error(codes.Unknown, "explorer: get class: vector search: object vector search at index cases: "+
	"invalid search term, only stopwords provided. Stopwords can be configured in class.invertedIndexConfig.stopwords")

// fake is one Weaviate node on loopback, as far as this package uses one:
// HTTP for the cluster state and the collection, gRPC for searches and
// upserts. Searches answer its objects in order; a search that asks for no
// properties gets none, one filtered by _id gets that object alone.
type fake struct {
	pb.UnimplementedWeaviateServer
	http *httptest.Server
	grpc string // host:port

	mu         sync.Mutex
	objects    []fakeObject
	batches    []*pb.BatchObjectsRequest
	searches   int // with properties, not by id
	schema500  int // schema lookups still to answer 500 (no Raft leader)
	schemaHang int // schema lookups still to leave unanswered
	schemaHits int
	stopwords  bool // searches fail as a stopword-only term makes them
}

type fakeObject struct {
	id    string
	props *pb.Properties
	dist  float32
}

func startFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{}
	f.http = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	t.Cleanup(f.http.Close)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.MaxSendMsgSize(64 << 20))
	pb.RegisterWeaviateServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	f.grpc = lis.Addr().String()
	return f
}

func (f *fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hang := r.URL.Path == "/v1/schema/Cases" && f.schemaHang > 0
	if hang {
		f.schemaHang--
		f.schemaHits++
		f.mu.Unlock()
		<-r.Context().Done() // the client gave up on this node
		return
	}
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/v1/nodes":
		w.Write([]byte(`{"nodes":[{"name":"node1","status":"HEALTHY"}]}`))
	case r.URL.Path == "/v1/schema/Cases":
		f.schemaHits++
		if f.schema500 > 0 {
			f.schema500--
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":[{"message":"could not find leader"}]}`))
			return
		}
		desc, _ := json.Marshal(meta{M3Ret: 1, Model: "m@1", Dim: 4})
		json.NewEncoder(w).Encode(map[string]any{"class": "Cases", "description": string(desc)})
	case r.URL.Path == "/v1/schema/Missing":
		w.WriteHeader(http.StatusNotFound)
	default:
		w.Write([]byte(`{}`))
	}
}

// lookups is how many times the collection was looked up.
func (f *fake) lookups() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.schemaHits
}

// pageSearches is how many searches asked for properties (not by id).
func (f *fake) pageSearches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.searches
}

// config is the URL of the fake's collection name (Cases: present).
func (f *fake) config(t *testing.T, collection string) Config {
	t.Helper()
	u, _ := url.Parse(f.http.URL)
	_, gp, _ := net.SplitHostPort(f.grpc)
	cfg, err := ParseURL("weaviate://" + u.Host + "/" + collection + "?grpc=" + gp)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (f *fake) open(t *testing.T) *Index {
	t.Helper()
	ix, err := Open(context.Background(), f.config(t, "Cases"), Options{Model: "m@1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// add puts records in the fake as objects, in search order.
func (f *fake) add(t *testing.T, recs ...Record) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range recs {
		s, err := structpb.NewStruct(r.fields())
		if err != nil {
			t.Fatal(err)
		}
		f.objects = append(f.objects, fakeObject{id: ObjectID(r.ItemID), props: textProps(s), dist: 0.1 * float32(len(f.objects))})
	}
}

// textProps is a structpb struct as Weaviate's answer holds it.
func textProps(s *structpb.Struct) *pb.Properties {
	p := &pb.Properties{Fields: map[string]*pb.Value{}}
	for k, v := range s.GetFields() {
		switch x := v.GetKind().(type) {
		case *structpb.Value_StringValue:
			if k == "studyDate" {
				p.Fields[k] = &pb.Value{Kind: &pb.Value_DateValue{DateValue: x.StringValue}}
			} else {
				p.Fields[k] = &pb.Value{Kind: &pb.Value_TextValue{TextValue: x.StringValue}}
			}
		case *structpb.Value_NumberValue:
			p.Fields[k] = &pb.Value{Kind: &pb.Value_NumberValue{NumberValue: x.NumberValue}}
		}
	}
	return p
}

func (f *fake) Search(_ context.Context, req *pb.SearchRequest) (*pb.SearchReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopwords {
		return nil, errStopwords
	}
	withProps := len(req.GetProperties().GetNonRefProperties()) > 0
	byID := ""
	if on := req.GetFilters().GetTarget().GetProperty(); on == "_id" || strings.Join(req.GetFilters().GetOn(), ".") == "_id" {
		byID = req.GetFilters().GetValueText()
	}
	if withProps && byID == "" {
		f.searches++
	}
	reply := &pb.SearchReply{}
	for _, o := range f.objects {
		if (byID != "" && o.id != byID) || len(reply.Results) >= int(req.GetLimit()) {
			continue
		}
		r := &pb.SearchResult{Metadata: &pb.MetadataResult{Id: o.id, Distance: o.dist, DistancePresent: true}}
		if withProps {
			r.Properties = &pb.PropertiesResult{NonRefProps: o.props}
		}
		reply.Results = append(reply.Results, r)
	}
	return reply, nil
}

func (f *fake) BatchObjects(_ context.Context, req *pb.BatchObjectsRequest) (*pb.BatchObjectsReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, req)
	return &pb.BatchObjectsReply{}, nil
}

func (f *fake) Aggregate(_ context.Context, req *pb.AggregateRequest) (*pb.AggregateReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopwords {
		return nil, errStopwords
	}
	n := int64(len(f.objects))
	return &pb.AggregateReply{Result: &pb.AggregateReply_SingleResult{SingleResult: &pb.AggregateReply_Single{ObjectsCount: &n}}}, nil
}
