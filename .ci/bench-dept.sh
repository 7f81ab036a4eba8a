#!/usr/bin/env bash
# `m3ret bench index --backend weaviate://…` on a 1-node and a 3-node
# cluster (in this network namespace), N vectors each, the local HNSW on the
# same vectors in the same run. Writes OUT/bench-dept-{1,3}.{json,txt}.
#   usage: bench-dept.sh BIN OUT N [clustered|random]
set -euo pipefail
bin=$1 out=$2 n=$3 data=${4:-clustered}
ci=$(dirname "$0")
for nodes in 1 3; do
  dir=$(mktemp -d)
  trap '"$ci/weaviate-cluster.sh" stop "$dir"; rm -rf "$dir"' EXIT
  url=$("$ci/weaviate-cluster.sh" start "$nodes" "$dir")
  echo "bench-dept: $nodes node(s) at $url"
  "$bin" bench index --backend "$url" --n "$n" --data "$data" --queries 500 --json > "$out/bench-dept-$nodes.json"
  /usr/bin/python3 - "$out/bench-dept-$nodes.json" > "$out/bench-dept-$nodes.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['n']} {r['data']} {r['dim']}-d vectors, Weaviate on {r['nodes']} node(s): insert {r['insert_per_s']:.0f}/s; local build {r['local_build_per_s']:.0f}/s; filter {r['filter']} matches {100*r['filter_match']:.1f} %")
print("| ef | Weaviate recall | p50 ms | p99 ms | filtered recall | p50 | p99 | local recall | p50 | p99 | local filtered recall | p50 | p99 |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for w, wf, l, lf in zip(r['weaviate'], r['weaviate_filtered'], r['local'], r['local_filtered']):
    cells = [str(w['ef'])] + [f"{p['recall']:.4f} | {p['p50_ms']:.2f} | {p['p99_ms']:.2f}" for p in (w, wf, l, lf)]
    print("| " + " | ".join(cells) + " |")
PY
  cat "$out/bench-dept-$nodes.txt"
  "$ci/weaviate-cluster.sh" stop "$dir"; rm -rf "$dir"; trap - EXIT
done
