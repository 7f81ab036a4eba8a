#!/usr/bin/python3
"""hnswlib on the same vectors, for `m3ret bench index` (Debian python3-hnswlib).

usage: hnswlib_bench.py DATA.f32 QUERIES.f32 TRUTH.i32 DIM M EF_CONSTRUCTION K EF,EF,... TARGET CPUS [TARGET_EF]
Builds on one thread, then on CPUS threads (the graph kept), and for each ef:
recall@K against the given exact neighbours and single-thread query latencies
on the multi-thread graph (and the throughput of all queries in one call on one
thread: no Python overhead per query); at the first ef reaching TARGET recall, also the
throughput with the queries spread over CPUS threads. The one-thread graph's
recall is reported at TARGET_EF (our graph's ef at the target), to compare
build quality. Prints one JSON object.
"""
import json
import sys
import time

import numpy as np
import hnswlib

data_f, query_f, truth_f, dim, m, efc, k, efs, target, cpus = sys.argv[1:11]
target_ef = int(sys.argv[11]) if len(sys.argv) > 11 and sys.argv[11] else 0
dim, m, efc, k, target, cpus = int(dim), int(m), int(efc), int(k), float(target), int(cpus)
X = np.memmap(data_f, dtype=np.float32, mode="r").reshape(-1, dim)
Q = np.fromfile(query_f, dtype=np.float32).reshape(-1, dim)
T = np.fromfile(truth_f, dtype=np.int32).reshape(len(Q), k)


def recall(p, ef):
    p.set_ef(ef)
    labels, _ = p.knn_query(Q, k=k, num_threads=1)
    return sum(len(set(labels[i].tolist()) & set(T[i].tolist())) for i in range(len(Q))) / (k * len(Q))


def build(threads):
    p = hnswlib.Index(space="ip", dim=dim)
    p.init_index(max_elements=len(X), ef_construction=efc, M=m, random_seed=1)
    p.set_num_threads(threads)
    t0 = time.perf_counter()
    p.add_items(X, np.arange(len(X), dtype=np.int64))
    secs = time.perf_counter() - t0
    return p, {"threads": threads, "seconds": secs, "per_s": len(X) / secs}


p1, b1 = build(1)
if target_ef:
    b1["recall_at_target_ef"] = recall(p1, target_ef)
del p1
p, ball = build(cpus)
out = {"build_one_thread": b1, "build_all_cpus": ball, "ef": []}
reached = False
for ef in [int(e) for e in efs.split(",")]:
    p.set_ef(ef)
    lat, found = [], 0
    for i, q in enumerate(Q):
        t = time.perf_counter()
        labels, _ = p.knn_query(q, k=k, num_threads=1)
        lat.append(time.perf_counter() - t)
        found += len(set(labels[0].tolist()) & set(T[i].tolist()))
    lat = np.array(lat)
    t0 = time.perf_counter()
    p.knn_query(Q, k=k, num_threads=1)
    batch = len(Q) / (time.perf_counter() - t0)
    pt = {"ef": ef, "recall": found / (k * len(Q)), "p50_ms": float(np.percentile(lat, 50) * 1e3),
          "p99_ms": float(np.percentile(lat, 99) * 1e3), "qps": float(1 / lat.mean()), "qps_batch_one_thread": batch}
    if not reached and pt["recall"] >= target:
        reached = True
        t0 = time.perf_counter()
        p.knn_query(Q, k=k, num_threads=cpus)
        pt["qps_all_cpus"] = len(Q) / (time.perf_counter() - t0)
    out["ef"].append(pt)
if ball and target_ef:
    ball["recall_at_target_ef"] = recall(p, target_ef)
print(json.dumps(out))
