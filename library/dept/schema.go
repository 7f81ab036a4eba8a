package dept

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/weaviate/weaviate/entities/models"
)

// Options say what a caller expects of the collection.
type Options struct {
	// Model and Dim are the workstation's embedding space. A collection
	// built with another model is refused with ErrModelMismatch.
	Model string
	Dim   int
	// Create makes the collection when it does not exist (the sync worker
	// and benchmarks do; a workstation's search does not).
	Create bool
	// Replication is the replication factor of a new collection; 0 takes 3
	// on a cluster of three or more nodes, 2 on two, 1 on one. A factor
	// below 2 on a multi-node cluster is refused unless AllowUnreplicated.
	Replication       int
	AllowUnreplicated bool
	// EF is the search beam of a new collection's HNSW graph (0: 256).
	// Weaviate's default is dynamic (100 at k=10), which on isotropic
	// vectors gives a recall of only 0.31; it is set explicitly here.
	EF int
	// APIKey overrides the Config's.
	APIKey string
}

// meta is what the collection's description records, as JSON.
type meta struct {
	M3Ret int    `json:"m3ret"`
	Model string `json:"model"`
	Dim   int    `json:"dim"`
}

// Open connects to the collection cfg names, checks (or creates) it and the
// cluster's replication, and returns it.
func Open(ctx context.Context, cfg Config, o Options) (*Index, error) {
	if o.APIKey != "" {
		cfg.APIKey = o.APIKey
	}
	ix, err := dial(cfg)
	if err != nil {
		return nil, err
	}
	if err := ix.prepare(ctx, o); err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}

func (ix *Index) prepare(ctx context.Context, o Options) error {
	nodes, err := ix.nodeCount(ctx)
	if err != nil {
		return err
	}
	ix.nodes = nodes
	class, err := ix.class(ctx)
	if errors.Is(err, ErrNoCollection) && o.Create {
		class, err = ix.create(ctx, o, nodes)
	}
	if err != nil {
		return err
	}
	var m meta
	if json.Unmarshal([]byte(class.Description), &m) != nil || m.M3Ret == 0 {
		return fmt.Errorf("collection %s was not made by M3Ret Viewer", ix.cfg.Collection)
	}
	ix.model, ix.dim = m.Model, m.Dim
	if o.Model != "" && m.Model != o.Model {
		return fmt.Errorf("%w: the index holds %s embeddings, this workstation makes %s", ErrModelMismatch, m.Model, o.Model)
	}
	rf := int64(1)
	if class.ReplicationConfig != nil && class.ReplicationConfig.Factor > 0 {
		rf = class.ReplicationConfig.Factor
	}
	if nodes > 1 && rf < 2 {
		ix.notes = append(ix.notes, fmt.Sprintf("WARNING: collection %s has replication factor %d on a %d-node cluster: "+
			"while any node is down, searches miss part of the archive and inserts fail", ix.cfg.Collection, rf, nodes))
	}
	return nil
}

func (ix *Index) nodeCount(ctx context.Context) (int, error) {
	var n int
	err := ix.read(ctx, func(ctx context.Context, c *conn) error {
		st, err := c.rest.Cluster().NodesStatusGetter().Do(ctx)
		if err != nil {
			return fmt.Errorf("cluster state: %w", restErr(err))
		}
		n = len(st.Nodes)
		return nil
	})
	return max(n, 1), err
}

// class reads the collection's definition. Only a 404 means there is none:
// a node that cannot reach the Raft leader (one just killed) answers 500,
// which is tried again like a node down.
func (ix *Index) class(ctx context.Context) (*models.Class, error) {
	var class *models.Class
	err := ix.read(ctx, func(ctx context.Context, c *conn) error {
		var err error
		class, err = c.rest.Schema().ClassGetter().WithClassName(ix.cfg.Collection).Do(ctx)
		if restStatus(err) == http.StatusNotFound {
			return fmt.Errorf("%w: %s", ErrNoCollection, ix.cfg.Collection)
		}
		if err != nil {
			return fmt.Errorf("look up collection: %w", restErr(err))
		}
		return nil
	})
	return class, err
}

// create makes the collection: our vectors (no vectorizer), cosine HNSW
// with an explicit ef, one shard per node, replicated with asynchronous
// repair so that a node that was down catches up.
func (ix *Index) create(ctx context.Context, o Options, nodes int) (*models.Class, error) {
	if o.Model == "" || o.Dim <= 0 {
		return nil, fmt.Errorf("create collection %s: model and dimension needed", ix.cfg.Collection)
	}
	rf := o.Replication
	if rf == 0 {
		rf = min(nodes, 3)
	}
	if nodes > 1 && rf < 2 && !o.AllowUnreplicated {
		return nil, fmt.Errorf("%w: a collection on a %d-node cluster needs a replication factor of at least 2 "+
			"(with 1, a dead node silently hides part of the archive from every search)", ErrReplication, nodes)
	}
	if rf > nodes {
		return nil, fmt.Errorf("%w: replication factor %d on a %d-node cluster", ErrReplication, rf, nodes)
	}
	desc, _ := json.Marshal(meta{M3Ret: 1, Model: o.Model, Dim: o.Dim})
	class := &models.Class{
		Class: ix.cfg.Collection, Description: string(desc), Vectorizer: "none", VectorIndexType: "hnsw",
		VectorIndexConfig: map[string]any{"distance": "cosine", "ef": or(o.EF, 256), "efConstruction": 128, "maxConnections": 32},
		ReplicationConfig: &models.ReplicationConfig{Factor: int64(rf), AsyncEnabled: rf > 1},
		ShardingConfig:    map[string]any{"desiredCount": nodes},
		Properties:        schemaProperties(),
	}
	err := ix.do(ctx, func(ctx context.Context, c *conn) error {
		err := c.rest.Schema().ClassCreator().WithClass(class).Do(ctx)
		if err != nil && strings.Contains(strings.ToLower(err.Error()), "already exists") {
			return nil // made meanwhile by another machine
		}
		return restErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("create collection %s: %w", ix.cfg.Collection, err)
	}
	return ix.class(ctx)
}

func schemaProperties() []*models.Property {
	f := false
	out := make([]*models.Property, len(properties))
	for i, p := range properties {
		out[i] = &models.Property{Name: p.name, DataType: []string{p.dataType}, Tokenization: p.tokenization}
		if p.name == "serverUrl" {
			out[i].IndexSearchable = &f
		}
	}
	return out
}

func or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Drop deletes the collection and everything in it.
func (ix *Index) Drop(ctx context.Context) error {
	return ix.do(ctx, func(ctx context.Context, c *conn) error {
		return restErr(c.rest.Schema().ClassDeleter().WithClassName(ix.cfg.Collection).Do(ctx))
	})
}

// SetEF changes the search beam (ef) of the collection's graph; Weaviate
// applies it to every later search.
func (ix *Index) SetEF(ctx context.Context, ef int) error {
	class, err := ix.class(ctx)
	if err != nil {
		return err
	}
	cfg, ok := class.VectorIndexConfig.(map[string]any)
	if !ok {
		return fmt.Errorf("collection %s: unexpected vector index config %T", ix.cfg.Collection, class.VectorIndexConfig)
	}
	cfg["ef"] = ef
	class.VectorIndexConfig = cfg
	return ix.do(ctx, func(ctx context.Context, c *conn) error {
		return restErr(c.rest.Schema().ClassUpdater().WithClass(class).Do(ctx))
	})
}

// Nodes is the number of nodes in the cluster when the index was opened.
func (ix *Index) Nodes() int { return ix.nodes }
