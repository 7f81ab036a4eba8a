package dept_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/dept"
	"github.com/m3ret/viewer/library/dept/depttest"
	"github.com/m3ret/viewer/library/index"
)

// clusterTests runs the 3-node tests only when asked (make test-cluster):
// they take minutes.
func clusterTests(t *testing.T) {
	if os.Getenv("M3RET_CLUSTER_TESTS") != "1" {
		t.Skip("3-node fault tests: make test-cluster")
	}
}

// TestClusterRefusesUnreplicated: on a 3-node cluster a collection with
// replication factor 1 is refused, and an existing one is opened with a
// loud warning.
func TestClusterRefusesUnreplicated(t *testing.T) {
	clusterTests(t)
	c := depttest.Start(t, 3)
	cfg, _ := dept.ParseURL(c.URL("Unreplicated"))
	ctx := context.Background()
	_, err := dept.Open(ctx, cfg, dept.Options{Model: testModel, Dim: 8, Create: true, Replication: 1})
	if !errors.Is(err, dept.ErrReplication) {
		t.Fatalf("replication factor 1 on 3 nodes: %v, want ErrReplication", err)
	}
	ix, err := dept.Open(ctx, cfg, dept.Options{Model: testModel, Dim: 8, Create: true, Replication: 1, AllowUnreplicated: true})
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ix, err = dept.Open(ctx, cfg, dept.Options{Model: testModel})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if len(ix.Notes()) == 0 {
		t.Fatal("an unreplicated collection on 3 nodes opened without a warning")
	}
	t.Log(ix.Notes()[0])
}

// TestClusterKillLeader: replication factor 3; the Raft leader is killed
// with SIGKILL while inserts and queries run. No insert is lost, no query
// fails, results equal those before the kill; the node restarts and
// catches up.
func TestClusterKillLeader(t *testing.T) {
	clusterTests(t)
	c := depttest.Start(t, 3)
	cfg, _ := dept.ParseURL(c.URL("Cases"))
	ctx := context.Background()
	const n, dim = 6000, 64
	ix, err := dept.Open(ctx, cfg, dept.Options{Model: testModel, Dim: dim, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	recs, vecs, _ := corpus(n, dim)
	for i := n / 2; i < n; i++ {
		recs[i].Format = "nifti" // the half inserted while the leader dies
	}
	upsertAll(t, ix, recs[:n/2], vecs[:n/2])
	queries := index.Synthetic("clustered", 30, dim, 91)
	// Below 40,000 matches Weaviate ranks a filtered search exactly, so the
	// first half's top 10 must stay the same whatever happens meanwhile.
	const firstHalf = "format:dicom"
	before := searchAll(t, ix, queries, firstHalf)

	leader := c.Leader()
	if leader == nil {
		t.Fatal("no Raft leader reported")
	}
	var qerrs atomic.Int64
	var changed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var nq atomic.Int64
	go func() { // queries all the time, over the first half
		defer wg.Done()
		for {
			for i, q := range queries {
				select {
				case <-stop:
					return
				default:
				}
				hits, err := ix.Search(ctx, q, 10, firstHalf, "")
				nq.Add(1)
				if err != nil {
					qerrs.Add(1)
					t.Logf("query error: %v", err)
				} else if idsOf(hits) != before[i] {
					changed.Add(1)
				}
			}
		}
	}()
	time.Sleep(500 * time.Millisecond)
	done := make(chan error, 1)
	go func() { // the second half, in batches, while the leader dies
		var err error
		for i := n / 2; i < n && err == nil; i += 200 {
			err = ix.Upsert(ctx, recs[i:min(i+200, n)], vecs[i:min(i+200, n)])
		}
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	t0 := time.Now()
	c.Kill(leader)
	t.Logf("killed the leader %s", leader.Name)
	if err := <-done; err != nil {
		t.Fatalf("inserts failed with the leader killed: %v", err)
	}
	t.Logf("inserts done %.1f s after the kill", time.Since(t0).Seconds())
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d queries while the leader was killed", nq.Load())
	if qerrs.Load() > 0 || changed.Load() > 0 {
		t.Fatalf("with the leader killed: %d query errors, %d changed results", qerrs.Load(), changed.Load())
	}
	if got, err := ix.Count(ctx, ""); err != nil || got != n {
		t.Fatalf("count with one node dead = %d (%v), want %d", got, err, n)
	}
	t1 := time.Now()
	c.Restart(leader)
	t.Logf("restarted %s: ready in %.1f s", leader.Name, time.Since(t1).Seconds())
	// The restarted node must come to hold every object itself (each of
	// the 3 nodes holds a replica of each of the 3 shards).
	for start := time.Now(); ; time.Sleep(time.Second) {
		got, err := c.ObjectCount(leader, "Cases")
		if err == nil && got == n {
			t.Logf("restarted node caught up (holds %d objects) %.1f s after restart", got, time.Since(t1).Seconds())
			break
		}
		if time.Since(start) > 3*time.Minute {
			t.Fatalf("restarted node holds %d objects (%v) after 3 min, want %d", got, err, n)
		}
	}
	only, _ := dept.ParseURL(c.URL("Cases"))
	only.Nodes = only.Nodes[indexOf(c, leader) : indexOf(c, leader)+1]
	solo, err := dept.Open(ctx, only, dept.Options{Model: testModel})
	if err != nil {
		t.Fatal(err)
	}
	defer solo.Close()
	if after := searchAll(t, solo, queries, firstHalf); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("the restarted node alone answers differently from the cluster before the kill")
	}
	exact := index.NewExact(dim)
	for i, r := range recs {
		exact.Add(r.ItemID, vecs[i])
	}
	checkRecall(t, ix, exact, queries, 0.98)
}

func searchAll(t *testing.T, ix *dept.Index, queries [][]float32, filter string) []string {
	t.Helper()
	out := make([]string, len(queries))
	for i, q := range queries {
		hits, err := ix.Search(context.Background(), q, 10, filter, "")
		if err != nil {
			t.Fatal(err)
		}
		out[i] = idsOf(hits)
	}
	return out
}

func indexOf(c *depttest.Cluster, nd *depttest.Node) int {
	for i, x := range c.Nodes {
		if x == nd {
			return i
		}
	}
	return -1
}
