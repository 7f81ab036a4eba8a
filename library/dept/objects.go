package dept

import (
	"context"
	"fmt"
	"strings"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
)

// quorum is the consistency level of every read and write: a majority of
// each shard's replicas must answer, so a search never silently leaves out
// a shard whose replicas are down (it fails instead), and an acknowledged
// write survives the loss of any one replica.
var quorum = pb.ConsistencyLevel_CONSISTENCY_LEVEL_QUORUM

// Hit is one search result.
type Hit struct {
	Record Record
	Score  float32 // cosine similarity
}

// Upsert writes records with their vectors, replacing objects of the same
// item ids: running it twice, or from two machines at once, leaves one
// object per item.
func (ix *Index) Upsert(ctx context.Context, recs []Record, vecs [][]float32) error {
	if len(recs) != len(vecs) {
		return fmt.Errorf("upsert: %d records, %d vectors", len(recs), len(vecs))
	}
	if len(recs) == 0 {
		return nil
	}
	req := &pb.BatchObjectsRequest{ConsistencyLevel: &quorum}
	for i, r := range recs {
		if ix.dim > 0 && len(vecs[i]) != ix.dim {
			return fmt.Errorf("upsert %s: %d-d vector into a %d-d index", r.ItemID, len(vecs[i]), ix.dim)
		}
		if ix.model != "" && r.Model != ix.model {
			return fmt.Errorf("upsert %s: %w", r.ItemID, ErrModelMismatch)
		}
		o, err := r.batchObject(ix.cfg.Collection, vecs[i])
		if err != nil {
			return err
		}
		req.Objects = append(req.Objects, o)
	}
	return ix.do(ctx, func(ctx context.Context, c *conn) error {
		reply, err := c.grpc.BatchObjects(ctx, req)
		if err != nil {
			return fmt.Errorf("upsert %d objects: %w", len(req.Objects), err)
		}
		if errs := reply.GetErrors(); len(errs) > 0 {
			return fmt.Errorf("upsert: %d of %d objects refused, first: %s", len(errs), len(req.Objects), errs[0].GetError())
		}
		return nil
	})
}

func andOf(a, b *filters.WhereBuilder) *filters.WhereBuilder {
	if a == nil {
		return b
	}
	return filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{a, b})
}

// Count is the number of objects that pass filter ("" for all).
func (ix *Index) Count(ctx context.Context, filter string) (int, error) {
	where, err := Filter(filter)
	if err != nil {
		return 0, err
	}
	return ix.count(ctx, where, filter)
}

func (ix *Index) count(ctx context.Context, where *filters.WhereBuilder, filter string) (int, error) {
	req := &pb.AggregateRequest{Collection: ix.cfg.Collection, ObjectsCount: true}
	if where != nil {
		req.Filters = where.ToGRPC()
	}
	var n int
	err := ix.read(ctx, func(ctx context.Context, c *conn) error {
		reply, err := c.grpc.Aggregate(ctx, req)
		if err != nil {
			return callError("count", err, filter)
		}
		n = int(reply.GetSingleResult().GetObjectsCount())
		return nil
	})
	return n, err
}

// HasSeries reports whether the index holds an item of this PACS series,
// embedded with the index's model.
func (ix *Index) HasSeries(ctx context.Context, server, seriesUID string) (bool, error) {
	eq := func(p, v string) *filters.WhereBuilder {
		return filters.Where().WithPath([]string{p}).WithOperator(filters.Equal).WithValueText(v)
	}
	n, err := ix.count(ctx, filters.Where().WithOperator(filters.And).WithOperands(
		[]*filters.WhereBuilder{eq("server", server), eq("seriesUid", seriesUID), eq("model", ix.model)}), "")
	return n > 0, err
}

// Delete removes the objects of these item ids.
func (ix *Index) Delete(ctx context.Context, itemIDs ...string) error {
	if len(itemIDs) == 0 {
		return nil
	}
	where := filters.Where().WithPath([]string{"itemId"}).WithOperator(filters.ContainsAny).WithValueText(itemIDs...)
	return ix.do(ctx, func(ctx context.Context, c *conn) error {
		_, err := c.rest.Batch().ObjectsBatchDeleter().WithClassName(ix.cfg.Collection).WithWhere(where).
			WithConsistencyLevel("QUORUM").Do(ctx)
		if err != nil {
			return fmt.Errorf("delete %d objects: %w", len(itemIDs), restErr(err))
		}
		return nil
	})
}

// Describe is a one-line summary for logs and `m3ret info`.
func (ix *Index) Describe() string {
	hosts := make([]string, len(ix.cfg.Nodes))
	for i, n := range ix.cfg.Nodes {
		hosts[i] = n.Host
	}
	return fmt.Sprintf("department index %s on %s (model %s)", ix.cfg.Collection, strings.Join(hosts, ","), ix.model)
}
