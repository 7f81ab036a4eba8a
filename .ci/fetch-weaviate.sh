#!/usr/bin/env bash
# Build the Weaviate server (pinned version) from the Go module proxy into the
# user cache once, and print the binary's path. The build takes about 11
# minutes and 1.8 GB of memory on 2 cores; later runs reuse the binary.
# The department-index tests start this binary as a child process inside a
# private network namespace (see .ci/netns.sh); it is never run as a service.
#   usage: fetch-weaviate.sh
set -euo pipefail
version=v1.35.2
cache=${XDG_CACHE_HOME:-$HOME/.cache}/m3ret/weaviate/$version
bin=$cache/weaviate-server
if [ -x "$bin" ] && [ -f "$cache/.complete" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"
# A scratch module: `go install pkg@version` refuses a module whose go.mod has
# replace directives, which Weaviate's has.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetch-weaviate: building weaviate-server $version into $cache (about 11 minutes, once)" >&2
(
  cd "$work"
  go mod init m3ret.local/weaviate-build >/dev/null 2>&1
  GOFLAGS=-mod=mod go get "github.com/weaviate/weaviate@$version" >&2
  GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" github.com/weaviate/weaviate/cmd/weaviate-server >&2
)
mv "$bin.tmp" "$bin"
"$bin" --help >/dev/null 2>&1 || { echo "fetch-weaviate: the built server does not start" >&2; exit 1; }
touch "$cache/.complete"
echo "$bin"
