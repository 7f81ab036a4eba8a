package library

import (
	"context"

	"github.com/m3ret/viewer/library/index"
	"github.com/m3ret/viewer/library/ingest"
	"github.com/m3ret/viewer/library/media"
)

// ReadFile decodes a file that need not be in the library (the viewer's
// --open, the training-data exporter) with the reader Import would use; it
// stops with ctx.Err() when ctx is done.
func ReadFile(ctx context.Context, path string) (*media.Sample, error) {
	return ingest.ReadFileContext(ctx, path)
}

// Walk expands a file, folder, DICOMDIR or ZIP archive into the files
// Import would try, in lexical order (archive members as ARCHIVE!/MEMBER).
func Walk(root string) ([]string, error) { return ingest.Walk(root) }

// IndexBenchOptions and IndexBenchReport are those of the vector index
// benchmark (`m3ret bench index`).
type (
	IndexBenchOptions = index.BenchOptions
	IndexBenchReport  = index.BenchReport
	IndexBuildRun     = index.BuildRun
)

// BenchIndex builds the library's vector index over synthetic data and
// measures it against the exact search and, when Python has it, hnswlib.
func BenchIndex(o IndexBenchOptions, logf func(string, ...any)) (*IndexBenchReport, error) {
	return index.BenchHNSW(o, logf)
}

// IndexOpenReport is a saved vector index opened as a library opens it.
type IndexOpenReport = index.OpenReport

// OpenIndexHere opens a saved vector index in this process, as a library
// does, and runs the benchmark's queries on it (the benchmark runs this in
// a fresh process: `m3ret bench load`).
func OpenIndexHere(graph, queries string, k, ef int) (*IndexOpenReport, error) {
	return index.OpenHere(graph, queries, k, ef)
}
