# M3Ret Viewer — two commands do all set-up on a fresh Debian/Ubuntu machine:
#   make run    install what is missing, build, build the demo library, open the window
#   make test   install what is missing, then vet and run every test with -race
#               (the serial packages and the heavy tests without it: make test-heavy)
#               (as root, inside a private network namespace with loopback
#               only, where the tests start a real Orthanc PACS and a real
#               Weaviate server, built once into the cache)
SHELL := /bin/bash
GO ?= go
BIN := build/m3ret
DATA_HOME := $(or $(XDG_DATA_HOME),$(HOME)/.local/share)
DEMO_LIBRARY ?= $(DATA_HOME)/m3ret/demo-library
SAMPLES = $(shell .ci/fetch-samples.sh)
DEFAULT_MODEL := $(shell sed -n 's/^const DefaultModel = "\(.*\)"/\1/p' assets/assets.go)
VERSION := $(shell sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
LDFLAGS := -X github.com/m3ret/viewer/app.Version=$(VERSION)

.PHONY: run test setup deps ort samples build build-headless device-bundle demo gui-check baseline-model clean

run: setup build demo
	$(BIN) --library "$(DEMO_LIBRARY)"

test: setup weaviate
	$(GO) vet ./...
	$(GO) vet -tags headless ./...
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(MAKE) --no-print-directory layering
	$(GO) list -deps -test ./... >/dev/null # every test dependency in the module cache: nothing downloads in the namespace
	$(MAKE) --no-print-directory -j3 --output-sync=line test-race test-heavy test-checks

setup: deps ort samples

# The three parts of make test, run side by side (-j3): the race run
# (test-race), whose tests leave a core idle much of the time (waiting on
# Orthanc, Weaviate, ffmpeg, child processes); the tests without -race
# (test-heavy: the serial packages and the heavy tests, CPU-bound); and the
# checks of the built program (test-checks), mostly single-threaded (Xvfb,
# Orthanc, xz, makensis, wine). Each writes its output when a step ends
# (--output-sync=line).
#   test-race    every test but test-heavy's with -race (as root, in a
#                private network namespace: real Orthanc and Weaviate)
#   test-heavy   the serial packages and the heavy tests, without -race
#   test-checks  exporters-check, gui-check, pacs-check, package-test, in turn
#                (PyTorch on one thread: its OpenMP workers spin while they
#                wait, and the three parts share two cores)
#   test-go      test-race and test-heavy
# -j1 in each (make says "resetting jobserver mode"): the targets
# package-test runs in turn (package-check after the packages it checks)
# have no prerequisites between them.
.PHONY: test-go test-race test-checks
test-go: test-race test-heavy

# RACE_P: how many test binaries run at once (go test -p; its default is
# the number of CPUs). Many of the race run's tests wait on servers and
# child processes with a core idle: make test took 3 min 4 s here with 4,
# 3 min 14 s with 2.
RACE_P ?= 4
# TEST_GOGC: the race run's test binaries collect garbage 4 times less
# often (GOGC 400 for Go's 100): library's tests used 62 s of CPU instead
# of 70. Memory is plenty here; the tests that bound memory count bytes
# allocated (TotalAlloc), which GOGC leaves alone.
TEST_GOGC ?= 400
test-race:
	GOGC=$(TEST_GOGC) M3RET_REQUIRE_ORT=1 M3RET_REQUIRE_SAMPLES=1 M3RET_REQUIRE_WEAVIATE=1 .ci/netns.sh $(GO) test -race -count=1 -p $(RACE_P) $(RACE_PKGS)

# make test's pacs-check pulls a 300-slice series, with the same checks as
# make pacs-check's 1,000 (which took 63 s here, a third of them the series
# made, stored and pulled three times over).
TEST_PACS_SLICES ?= 300
test-checks:
	OMP_NUM_THREADS=1 $(MAKE) --no-print-directory -j1 exporters-check
	$(MAKE) --no-print-directory -j1 gui-check
	$(MAKE) --no-print-directory -j1 pacs-check N=$(TEST_PACS_SLICES)
	$(MAKE) --no-print-directory -j1 package-test

# The heavy tests, without -race: large single-goroutine
# number-crunching tests (HNSW recall over 20,000 vectors, filtered recall,
# recall after removals, parallel-build quality, int8 recall, allocations per
# search, the library's hybrid filter over 10,000 vectors, a
# 300 MiB archive member, int8 save and load, recall of the department
# index on the sample data, the video and NIfTI import) that call
# racetest.Heavy, so skip under -race,
# where they took 220 of the race run's 5.5 minutes with nothing to race.
# Here they run with the same sizes and assertions. make test runs this after
# the race run (test-go); library/racetest checks that the tests calling
# Heavy are exactly those listed here.
HEAVY_PKGS := ./library/index ./library ./library/ingest ./app
HEAVY_TESTS := TestHNSWRecall TestHNSWFilteredSearch TestHNSWRemoveRepairs TestHybridFilter TestLargeMemberNotInMemory TestAddBatchQuality TestQuantizedRecall TestSearchAllocations TestQuantizedGraph TestDeptRecallOnSamples TestImportVideoAndNIfTI
# The serial packages run without -race too, every test of them: their
# code, their tests and the module packages they import start no goroutine,
# use no channel and import neither sync nor errgroup, so the race detector
# has nothing to find there; it slowed their decoders 8-13 times (the DICOM
# decoders' tests: 54 s under -race, 6.6 s without). TestSerialPackages
# (library/racetest) checks each listed package against those rules
# and logs any other package that would qualify.
SERIAL_PKGS := ./library/ingest/dicom ./library/ingest/nifti ./library/ingest/video ./library/ingest/raster ./library/export ./library/media ./library/perturb ./library/ingest/internal/ctxio ./app/quietlocale
MODULE := github.com/m3ret/viewer
RACE_PKGS = $(filter-out $(addprefix $(MODULE)/,$(SERIAL_PKGS:./%=%)),$(shell $(GO) list ./...))
.PHONY: test-heavy
test-heavy: samples ort weaviate
	M3RET_REQUIRE_ORT=1 M3RET_REQUIRE_SAMPLES=1 $(GO) test -count=1 $(SERIAL_PKGS)
	M3RET_REQUIRE_ORT=1 M3RET_REQUIRE_SAMPLES=1 M3RET_REQUIRE_WEAVIATE=1 .ci/netns.sh $(GO) test -count=1 -run '^($(shell echo $(HEAVY_TESTS) | tr ' ' '|'))$$' $(HEAVY_PKGS)

# app/ reaches the domain through the library facade only (go list: no
# package under app/ imports library/ingest, library/catalog or library/index).
.PHONY: layering
layering:
	@bad=$$($(GO) list -f '{{.ImportPath}}: {{join .Imports " "}}' ./app/... | grep -E '/library/(ingest|catalog|index)( |/|$$)'); \
	if [ -n "$$bad" ]; then echo "$$bad"; echo "layering: the packages above import library internals; use the library facade"; exit 1; fi

deps: go-check
	@.ci/deps.sh

.PHONY: go-check
go-check:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or newer is needed: https://go.dev/doc/install (Debian's golang-go is too old)"; exit 1; }
	@$(GO) version | awk '{split($$3,v,"."); sub("go","",v[1]); if (v[1]<1 || (v[1]==1 && v[2]<26)) {print "Go 1.26 or newer is needed, found " $$3; exit 1}}'

ort:
	@.ci/fetch-ort.sh >/dev/null

samples:
	@.ci/fetch-samples.sh >/dev/null

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

# The command line without the window: links no OpenGL or X11 libraries.
build-headless:
	$(GO) build -tags headless -ldflags "$(LDFLAGS) -s -w" -o build/m3ret-headless .

# The demo library: every sample file, imported once. Files the readers do
# not support yet are listed as failures (exit code 3) and skipped. A demo
# library built with another model is re-embedded with the default one.
demo: build
	@if [ ! -f "$(DEMO_LIBRARY)/catalog.db" ]; then \
	  echo "building the demo library in $(DEMO_LIBRARY) from $(SAMPLES)"; \
	  $(BIN) import --library "$(DEMO_LIBRARY)" "$(SAMPLES)"; rc=$$?; \
	  [ $$rc = 0 ] || [ $$rc = 3 ] || exit $$rc; \
	elif ! $(BIN) info --library "$(DEMO_LIBRARY)" --model "$(DEFAULT_MODEL)" >/dev/null 2>&1; then \
	  echo "re-embedding the demo library in $(DEMO_LIBRARY) with the default model"; \
	  $(BIN) reindex --library "$(DEMO_LIBRARY)"; \
	fi

# The real window under Xvfb: the command line drops a sample folder on the
# library and a slice on the query pane (through the window's drop handler),
# opens the second result beside the query; then a screenshot is taken and
# what the window shows is checked.
GUI_CHECK := build/gui-check
gui-check: build
	@rm -rf $(GUI_CHECK) && mkdir -p $(GUI_CHECK)
	xvfb-run -a -s "-screen 0 1400x900x24" .ci/gui-check.sh $(BIN) $(GUI_CHECK) "$(SAMPLES)"

# Screenshots of the main views on the demo library, under Xvfb (software
# GL): the library grid, volumes in three planes, a CT slice, a cine, a query
# beside its neighbour with the metadata table; and the frame rate of
# scrolling a 512x512 CT volume. PNGs and summary.txt in build/screenshots/.
.PHONY: screenshots
screenshots: build demo
	@rm -rf build/screenshots && mkdir -p build/screenshots
	xvfb-run -a -s "-screen 0 1400x900x24" .ci/screenshots.sh $(BIN) build/screenshots "$(SAMPLES)" "$(DEMO_LIBRARY)"

# A real Orthanc PACS with the sample studies and a 1000-slice CT series,
# in a private network namespace: `m3ret bench pacs` (pull against local
# import) and screenshots of the PACS tab under Xvfb, in build/pacs-check/.
.PHONY: pacs-check
pacs-check: build
	@rm -rf build/pacs-check && mkdir -p build/pacs-check
	@if ! unshare -n -- true 2>/dev/null; then echo "pacs-check: SKIP cannot make a private network namespace here (needs root)"; \
	  [ "$${M3RET_REQUIRE_ORTHANC:-0}" != 1 ] || exit 1; exit 0; fi; \
	.ci/netns.sh xvfb-run -a -s "-screen 0 1400x900x24" .ci/pacs-check.sh $(BIN) build/pacs-check "$(SAMPLES)" $(or $(N),1000)

# The kill harness at length: 60 imports killed (SIGKILL) at random moments
# while storing, each library checked after (it opens; info, unfiltered and
# filtered searches agree; a resume completes the set). make test runs 4.
.PHONY: soak
soak:
	M3RET_KILLS=$(or $(KILLS),60) $(GO) test -count=1 -run 'TestKillDuringImport' -v ./library

# Every parser's fuzz target in turn, FUZZTIME each (default 10m):
#   make fuzz FUZZTIME=1m
# Crashers land in the package's testdata/fuzz/ and become regression tests.
FUZZTIME ?= 10m
FUZZ_TARGETS := ./library/ingest:FuzzIngest ./library/ingest/dicom:FuzzRead ./library/ingest/dicom:FuzzReadUnguarded ./library/ingest/raster:FuzzRead \
	./library/ingest/nifti:FuzzParseHeader ./library/ingest/video:FuzzProbeJSON ./library/index:FuzzParseHNSW \
	./library/export:FuzzAnonymise ./library/measure:FuzzUnmarshal
.PHONY: fuzz
fuzz: samples
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $${t#*:} in $${t%%:*} for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

# What the accelerator machine's check (.ci/gpu-check.sh) needs: the headless
# CLI and the ONNX Runtime library, in build/device/.
device-bundle: ort build-headless
	mkdir -p build/device
	cp build/m3ret-headless build/device/
	cp "$$(.ci/fetch-ort.sh)" build/device/libonnxruntime.so.1

# Regenerate the baseline encoder (needs Debian's python3-onnx, python3-numpy).
baseline-model:
	/usr/bin/python3 inference/baseline/make_baseline.py assets/models

clean:
	rm -rf build

# Installers. The version comes from FyneApp.toml alone.
DIST := build/dist
RELEASE_BIN := build/release/m3ret
.PHONY: package-deps package-linux package-windows package-darwin package-check package-test packages
package-deps:
	@.ci/deps.sh --packaging

$(RELEASE_BIN): FORCE
	$(GO) build -ldflags "$(LDFLAGS) -s -w" -o $(RELEASE_BIN) .
.PHONY: FORCE
FORCE:

package-linux: ort $(RELEASE_BIN)
	.ci/package-linux.sh $(RELEASE_BIN) $(VERSION) $(DIST)

package-windows: ort
	.ci/package-windows.sh $(VERSION) $(DIST)

# macOS arm64 .app in a .dmg: runs on a Mac only (release.yml's macos job).
package-darwin:
	.ci/package-darwin.sh $(VERSION) $(DIST)

package-check:
	.ci/package-check.sh $(DIST) $(VERSION)

packages: package-deps package-linux package-windows package-check

# The CUDA flavour of the .deb: m3ret-cuda_VERSION_amd64.deb with
# ONNX Runtime's official Linux GPU archive (CUDA and TensorRT providers), a
# local file (release.yml downloads it), checked against the sha256 pinned in
# .ci/ort-gpu.sha256 (ORT_GPU_SHA256=... overrides it).
ORT_GPU_ARCHIVE ?=
ORT_GPU_SHA256 ?=
.PHONY: package-linux-cuda package-cuda-check
package-linux-cuda: $(RELEASE_BIN)
	@[ -n "$(ORT_GPU_ARCHIVE)" ] || { echo "package-linux-cuda: set ORT_GPU_ARCHIVE to a download of $$(.ci/package-linux-cuda.sh --url)"; exit 1; }
	ORT_GPU_SHA256="$(ORT_GPU_SHA256)" .ci/package-linux-cuda.sh "$(ORT_GPU_ARCHIVE)" $(RELEASE_BIN) $(VERSION) $(DIST)

# Its layout, checked here without the internet or a GPU: a stand-in archive
# made from the CPU library (about 10 s; part of package-test).
package-cuda-check: ort $(RELEASE_BIN)
	.ci/package-cuda-check.sh $(RELEASE_BIN) $(VERSION) $(DIST)

# Part of `make test`: build and smoke-test the packages when the packaging
# tools are installed (`make package-deps`; CI installs them), else say so.
# make test builds the installers only where M3RET_REQUIRE_PACKAGING=1 (CI:
# .ci/run sets it) or through make test-packages: they take 4.5-6.5 of its
# minutes here; the CUDA layout check (10 s) always runs.
package-test:
	@if [ "$${M3RET_REQUIRE_PACKAGING:-0}" = 1 ] && .ci/deps.sh --packaging --check; then \
	  $(MAKE) --no-print-directory package-linux package-windows package-check package-cuda-check; \
	else \
	  $(MAKE) --no-print-directory package-cuda-check || exit 1; \
	  if [ "$${M3RET_REQUIRE_PACKAGING:-0}" = 1 ]; then \
	    echo "package-test: packaging tools missing (make package-deps installs them)"; exit 1; \
	  fi; \
	  echo "package-test: installers not built (make test-packages builds and checks them; CI does)"; \
	fi

.PHONY: test-packages
test-packages: package-deps
	M3RET_REQUIRE_PACKAGING=1 $(MAKE) --no-print-directory -j1 package-test

# The trained encoder: fetch the registry sample data (.ci/fetch-samples.sh),
# preprocess it with the Go code, train MAE then SimDINO and fit the whitening
# (7,152 MAE and 600 SimDINO steps, capped at 66 and 22 minutes: at most
# 90 minutes on this 2-core CPU, which trains fastest on one thread; a GPU
# when present) and install
# assets/models/m3ret-vit.*. See inference/train/README.md. Installs Debian's
# python3-torch, python3-onnx, python3-nibabel and python3-pil when missing.
.PHONY: train eval
train: samples
	inference/train/make_train.sh

# The dev-set tables and plots of inference/train/README.md: baseline, random-init,
# MAE only, MAE + SimDINO before whitening, the model the last `make train`
# replaced ("previous") and shipped (from build/train/out when present); leave-one-out,
# perturbed copies as queries, and cross-modal (the query's MR contrast left out).
eval: samples
	inference/train/eval_dev.sh

# `m3ret adapt` end to end: the shipped model adapted on a
# sample library for a few steps, scored before and after, switched to
# (--use, then --accept from the adapted model's checkpoint); and cancelled
# while training (the scratch folder removed). 45-50 s on the 2-core CPU
# (4 minutes with both cores busy); 125 s under -race, too long for the race
# run of make test, where these tests skip.
# Installs the training stack when missing (.ci/deps.sh --train).
.PHONY: test-adapt
test-adapt: samples ort
	@$${M3RET_PYTHON:-/usr/bin/python3} -c "import torch, onnx, numpy" 2>/dev/null || .ci/deps.sh --train
	M3RET_REQUIRE_ORT=1 M3RET_REQUIRE_SAMPLES=1 M3RET_REQUIRE_TORCH=1 $(GO) test -count=1 -run '^TestAdapt' ./app/

# The foundation-model exporters (inference/export/), each on a random
# checkpoint with the official tensor names and shapes: export, ONNX Runtime
# against PyTorch, import and query with the model (test_exporters.sh).
# make test runs ViT-S (exporters-check, about 45 s); test-exporters all three
# (ViT-B and RAD-DINO: about 330 MB of ONNX each, minutes). Installs Debian's
# PyTorch when missing, as make train does.
.PHONY: exporters-check test-exporters
exporters-check: build samples ort
	M3RET_BIN=$(BIN) inference/export/test_exporters.sh dinov2_vits14

test-exporters: build samples ort
	M3RET_BIN=$(BIN) inference/export/test_exporters.sh dinov2_vits14 dinov2_vitb14 rad-dino

# The department index. make test builds the Weaviate server
# once into the cache (about 11 minutes; .ci/fetch-weaviate.sh) and runs the
# single-node tests; the 3-node fault tests (kill -9 of the Raft leader
# during inserts and queries, restart and catch-up; replication factor 1
# refused) run here, in a private network namespace (about 4 minutes):
.PHONY: weaviate test-cluster bench-dept
weaviate:
	@.ci/fetch-weaviate.sh >/dev/null

test-cluster: weaviate
	M3RET_CLUSTER_TESTS=1 M3RET_REQUIRE_WEAVIATE=1 .ci/netns.sh $(GO) test -count=1 -run 'TestCluster' -v ./library/dept/

# `m3ret bench index --backend weaviate://…` on 1 and 3 nodes against the
# local HNSW on the same vectors: build/bench-dept/ (N vectors, default 100000;
# DATA=random for isotropic vectors, the hard case).
bench-dept: build weaviate
	@rm -rf build/bench-dept && mkdir -p build/bench-dept
	.ci/netns.sh .ci/bench-dept.sh $(BIN) build/bench-dept $(or $(N),100000) $(or $(DATA),clustered)
