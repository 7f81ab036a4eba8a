#!/usr/bin/env bash
# Run a command in a private network namespace with loopback only, when we
# can (root, unshare and ip present): the real servers the tests start
# (Orthanc) listen on all interfaces, and nothing may reach them, nor they
# anything, but the tests on loopback. Inside, M3RET_NETNS=1 lets those
# tests run and M3RET_REQUIRE_ORTHANC=1 makes a missing Orthanc a failure;
# GOPROXY=off since nothing can be downloaded there. Without the means, the
# command runs as it is and those tests skip.
#   usage: .ci/netns.sh COMMAND [ARGS...]
set -euo pipefail
if command -v unshare >/dev/null && command -v ip >/dev/null && unshare -n -- true 2>/dev/null; then
  exec unshare -n -- bash -c 'ip link set lo up && export M3RET_NETNS=1 M3RET_REQUIRE_ORTHANC=1 GOPROXY=off && exec "$@"' netns "$@"
fi
echo "netns: cannot make a private network namespace here (needs root, unshare and ip): the tests that need one (Orthanc) skip" >&2
exec "$@"
