package dept

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Dropped counts the objects a search left out of its results, and why.
type Dropped struct {
	Oversized int // larger than any object M3Ret writes
	Malformed int // an item id or a DICOM UID not of its form
}

// Note says in one line what was left out ("" when nothing was).
func (d Dropped) Note() string {
	var parts []string
	if d.Oversized > 0 {
		parts = append(parts, fmt.Sprintf("%d larger than any object M3Ret writes", d.Oversized))
	}
	if d.Malformed > 0 {
		parts = append(parts, fmt.Sprintf("%d with a malformed item id or DICOM UID", d.Malformed))
	}
	if len(parts) == 0 {
		return ""
	}
	n := d.Oversized + d.Malformed
	return fmt.Sprintf("%d %s of the department index left out (%s); whoever holds the index key should remove %s",
		n, plural(n, "result", "results"), strings.Join(parts, ", "), plural(n, "it", "them"))
}

func plural(n int, one, more string) string {
	if n == 1 {
		return one
	}
	return more
}

// Search returns the k records nearest to vec that pass filter (the local
// library's query-string syntax, see Filter), excluding item exclude.
// Objects no M3Ret workstation would have written are left out (see
// SearchNoted).
func (ix *Index) Search(ctx context.Context, vec []float32, k int, filter, exclude string) ([]Hit, error) {
	hits, _, err := ix.SearchNoted(ctx, vec, k, filter, exclude)
	return hits, err
}

// SearchNoted is Search that also counts what it left out: objects with a
// malformed item id or UID, and objects too large to be legitimate. A page
// larger than k legitimate objects (pageLimit) is searched again without
// properties, and each result's properties fetched on their own, so one
// planted object costs its own place, not the whole search.
func (ix *Index) SearchNoted(ctx context.Context, vec []float32, k int, filter, exclude string) ([]Hit, Dropped, error) {
	req, err := ix.searchRequest(vec, k, filter, exclude)
	if err != nil {
		return nil, Dropped{}, err
	}
	results, err := ix.search(ctx, req, pageLimit(k, ix.dim), filter)
	if errors.Is(err, ErrTooLarge) {
		return ix.searchEach(ctx, req, filter)
	}
	if err != nil {
		return nil, Dropped{}, err
	}
	var d Dropped
	hits := make([]Hit, 0, len(results))
	for _, r := range results {
		rec, err := recordOf(r.GetProperties().GetNonRefProps())
		if err != nil {
			d.Malformed++
			continue
		}
		hits = append(hits, Hit{Record: rec, Score: 1 - r.GetMetadata().GetDistance()})
	}
	return hits, d, nil
}

func (ix *Index) searchRequest(vec []float32, k int, filter, exclude string) (*pb.SearchRequest, error) {
	where, err := Filter(filter)
	if err != nil {
		return nil, err
	}
	if exclude != "" {
		ne := filters.Where().WithPath([]string{"itemId"}).WithOperator(filters.NotEqual).WithValueText(exclude)
		where = andOf(where, ne)
	}
	req := &pb.SearchRequest{
		Collection: ix.cfg.Collection, Limit: uint32(k), ConsistencyLevel: &quorum,
		NearVector:  &pb.NearVector{Vectors: []*pb.Vectors{{VectorBytes: vectorBytes(vec), Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32}}},
		Properties:  &pb.PropertiesRequest{NonRefProperties: propertyNames()},
		Metadata:    &pb.MetadataRequest{Uuid: true, Distance: true},
		Uses_123Api: true, Uses_125Api: true, Uses_127Api: true,
	}
	if where != nil {
		req.Filters = where.ToGRPC()
	}
	return req, nil
}

// search runs req, reading at most limit bytes of answer.
func (ix *Index) search(ctx context.Context, req *pb.SearchRequest, limit int, filter string) ([]*pb.SearchResult, error) {
	var out []*pb.SearchResult
	err := ix.read(ctx, func(ctx context.Context, c *conn) error {
		reply, err := c.grpc.Search(ctx, req, grpc.MaxCallRecvMsgSize(limit))
		if err != nil {
			return callError("search", err, filter)
		}
		out = reply.GetResults()
		return nil
	})
	return out, err
}

// searchEach is the search of req in two steps: the ids and distances of
// its results, then each result's properties on its own. A result too large
// or malformed is counted and left out.
func (ix *Index) searchEach(ctx context.Context, req *pb.SearchRequest, filter string) ([]Hit, Dropped, error) {
	ids := proto.Clone(req).(*pb.SearchRequest)
	ids.Properties = &pb.PropertiesRequest{} // none: a nil request means all
	results, err := ix.search(ctx, ids, pageLimit(int(req.GetLimit()), 0), filter)
	if err != nil {
		return nil, Dropped{}, err
	}
	recs, d, err := ix.objects(ctx, results)
	if err != nil {
		return nil, Dropped{}, err
	}
	hits := make([]Hit, 0, len(results))
	for i, r := range results {
		if recs[i] != nil {
			hits = append(hits, Hit{Record: *recs[i], Score: 1 - r.GetMetadata().GetDistance()})
		}
	}
	return hits, d, nil
}

// objects reads the properties of each result, eight at a time; a record
// is nil where the object was left out (counted) or deleted meanwhile.
func (ix *Index) objects(ctx context.Context, results []*pb.SearchResult) ([]*Record, Dropped, error) {
	recs := make([]*Record, len(results))
	var d Dropped
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, r := range results {
		g.Go(func() error {
			rec, err := ix.object(gctx, r.GetMetadata().GetId())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrTooLarge):
				d.Oversized++
			case errors.Is(err, ErrBadObject):
				d.Malformed++
			case err != nil:
				return err
			default:
				recs[i] = rec
			}
			return nil
		})
	}
	err := g.Wait()
	return recs, d, err
}

// object reads the properties of one object (nil when there is none of
// that id), refusing an answer larger than one legitimate object.
func (ix *Index) object(ctx context.Context, id string) (*Record, error) {
	where := filters.Where().WithPath([]string{"_id"}).WithOperator(filters.Equal).WithValueText(id)
	req := &pb.SearchRequest{
		Collection: ix.cfg.Collection, Limit: 1, ConsistencyLevel: &quorum, Filters: where.ToGRPC(),
		Properties:  &pb.PropertiesRequest{NonRefProperties: propertyNames()},
		Metadata:    &pb.MetadataRequest{Uuid: true},
		Uses_123Api: true, Uses_125Api: true, Uses_127Api: true,
	}
	results, err := ix.search(ctx, req, pageLimit(1, ix.dim), "")
	if err != nil || len(results) == 0 {
		return nil, err
	}
	rec, err := recordOf(results[0].GetProperties().GetNonRefProps())
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// callError is a failed call's error with what was called, or a
// FilterError as it is (said as the local index says one).
func callError(what string, err error, filter string) error {
	err = answerError(err, filter)
	var fe *FilterError
	if errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// answerError says what a failed gRPC call means: an answer over the
// receive limit is ErrTooLarge (not a node down: no other node would
// answer less), a filter Weaviate cannot run is a FilterError, said as the
// local index says a bad filter; anything else is returned as it is.
func answerError(err error, filter string) error {
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := strings.ToLower(s.Message())
	switch {
	case s.Code() == codes.ResourceExhausted && strings.Contains(msg, "larger than max"):
		return fmt.Errorf("%w (%s)", ErrTooLarge, s.Message())
	case filter != "" && strings.Contains(msg, "only stopwords"):
		return &FilterError{Filter: filter, Reason: "a term in it is only stopwords (such as OR, AND, the), " +
			"which the department index cannot search for"}
	}
	return err
}
