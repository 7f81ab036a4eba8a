#!/usr/bin/python3
"""hnswlib on the same vectors, for `m3ret bench index` (Debian python3-hnswlib).

usage: hnswlib_bench.py DATA.f32 QUERIES.f32 TRUTH.i32 DIM M EF_CONSTRUCTION K EF,EF,...
Builds with one thread (and reports it), then for each ef: recall@K against
the given exact neighbours, and single-thread query latencies.
Prints one JSON object.
"""
import json
import sys
import time

import numpy as np
import hnswlib

data_f, query_f, truth_f, dim, m, efc, k, efs = sys.argv[1:9]
dim, m, efc, k = int(dim), int(m), int(efc), int(k)
X = np.fromfile(data_f, dtype=np.float32).reshape(-1, dim)
Q = np.fromfile(query_f, dtype=np.float32).reshape(-1, dim)
T = np.fromfile(truth_f, dtype=np.int32).reshape(len(Q), k)
p = hnswlib.Index(space="ip", dim=dim)
p.init_index(max_elements=len(X), ef_construction=efc, M=m, random_seed=1)
p.set_num_threads(1)
t0 = time.perf_counter()
p.add_items(X, np.arange(len(X), dtype=np.int64))
build = time.perf_counter() - t0
out = {"build_seconds": build, "build_per_s": len(X) / build, "ef": []}
for ef in [int(e) for e in efs.split(",")]:
    p.set_ef(ef)
    lat, found = [], 0
    for i, q in enumerate(Q):
        t = time.perf_counter()
        labels, _ = p.knn_query(q, k=k)
        lat.append(time.perf_counter() - t)
        found += len(set(labels[0].tolist()) & set(T[i].tolist()))
    lat = np.array(lat)
    out["ef"].append({"ef": ef, "recall": found / (k * len(Q)), "p50_ms": float(np.percentile(lat, 50) * 1e3),
                      "p99_ms": float(np.percentile(lat, 99) * 1e3), "qps": float(1 / lat.mean())})
print(json.dumps(out))
