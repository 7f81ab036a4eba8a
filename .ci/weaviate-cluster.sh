#!/usr/bin/env bash
# Start or stop a local Weaviate cluster of N nodes (the server built by
# .ci/fetch-weaviate.sh) on loopback, for benchmarks and manual checks.
# Weaviate listens on all interfaces: run this inside a private network
# namespace (.ci/netns.sh). Ports come in a block per node (HTTP, gRPC,
# gossip, data = gossip+1, Raft, Raft RPC = Raft+1), from BASE (default 18000).
#   usage: weaviate-cluster.sh start N DIR [BASE]   prints the weaviate:// URL (collection Bench)
#          weaviate-cluster.sh stop DIR
set -euo pipefail
cmd=$1
case "$cmd" in
  stop)
    dir=$2
    [ -f "$dir/pids" ] && while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < "$dir/pids"
    rm -f "$dir/pids"
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 start N DIR [BASE] | stop DIR" >&2; exit 2 ;;
esac
n=$2 dir=$3 base=${4:-18000}
bin=$("$(dirname "$0")/fetch-weaviate.sh")
mkdir -p "$dir"
: > "$dir/pids"
join="" hosts="" grpc=""
for i in $(seq 1 "$n"); do
  p=$((base + 10 * (i - 1)))
  join="${join:+$join,}node$i:$((p + 4))"
  hosts="${hosts:+$hosts,}127.0.0.1:$p"
  grpc="${grpc:+$grpc,}$((p + 1))"
done
for i in $(seq 1 "$n"); do
  p=$((base + 10 * (i - 1)))
  env=(DEFAULT_VECTORIZER_MODULE=none ENABLE_MODULES= PERSISTENCE_DATA_PATH="$dir/node$i" CLUSTER_HOSTNAME="node$i"
    CLUSTER_IN_LOCALHOST=true CLUSTER_BIND_ADDR=127.0.0.1 CLUSTER_ADVERTISE_ADDR=127.0.0.1
    CLUSTER_GOSSIP_BIND_PORT=$((p + 2)) CLUSTER_DATA_BIND_PORT=$((p + 3)) RAFT_PORT=$((p + 4))
    RAFT_INTERNAL_RPC_PORT=$((p + 5)) RAFT_JOIN="$join" RAFT_BOOTSTRAP_EXPECT="$n" GRPC_PORT=$((p + 1))
    DISABLE_TELEMETRY=true GO_PROFILING_DISABLE=true PROMETHEUS_MONITORING_ENABLED=false
    AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true LOG_LEVEL=warning)
  [ "$i" -gt 1 ] && env+=(CLUSTER_JOIN=127.0.0.1:$((base + 2)))
  # One node alone elects itself after Raft's timeouts times Weaviate's
  # multiplier (default 5: 5 s of every start); alone, nothing can call a
  # spurious election, so 1. A cluster keeps the default.
  [ "$n" = 1 ] && env+=(RAFT_TIMEOUTS_MULTIPLIER=1)
  env "${env[@]}" "$bin" --scheme http --host 127.0.0.1 --port "$p" > "$dir/node$i.log" 2>&1 &
  echo $! >> "$dir/pids"
  if [ "$i" = 1 ]; then # the others join through its gossip port
    for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/$((base + 2))) 2>/dev/null && break; sleep 0.1; done
  fi
done
for i in $(seq 1 "$n"); do
  p=$((base + 10 * (i - 1)))
  for t in $(seq 1 900); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/v1/.well-known/ready")" = 200 ] && break
    [ "$t" = 900 ] && { echo "weaviate-cluster: node$i not ready; see $dir/node$i.log" >&2; exit 1; }
    sleep 0.1
  done
done
echo "weaviate://$hosts/Bench?grpc=$grpc"
