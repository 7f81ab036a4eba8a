package index

import (
	"math"
	"slices"
	"unsafe"
)

// Vector storage. A graph keeps its vectors in one of two forms, both in
// node order in one contiguous arena:
//
//   - float32 (the default): dim × 4 bytes a node, scored exactly;
//   - int8 (HNSWConfig.Quantize): one byte a dimension, scalar-quantized
//     per dimension (x ≈ lo[d] + scale[d]·code), the graph walked on those
//     codes; the float32 vectors are kept apart, memory-mapped from disk
//     once saved, and the walk's best candidates are re-ranked exactly on
//     them. A query is scored against codes without decoding them:
//     q·x ≈ Σ q[d]·lo[d] + Σ (q[d]·scale[d])·code[d], the first sum once a
//     query, the second one AVX2 kernel (dotU8).

// quantizer maps floats to codes per dimension.
type quantizer struct {
	lo, scale []float32
}

// fitQuantizer takes each dimension's range over vecs (at most the first
// 100,000), widened by 2 % so later vectors rarely clip.
func fitQuantizer(dim int, vecs [][]float32) *quantizer {
	q := &quantizer{lo: make([]float32, dim), scale: make([]float32, dim)}
	hi := make([]float32, dim)
	for d := range dim {
		q.lo[d], hi[d] = math.MaxFloat32, -math.MaxFloat32
	}
	for _, v := range vecs[:min(len(vecs), 100000)] {
		for d, x := range v {
			q.lo[d], hi[d] = min(q.lo[d], x), max(hi[d], x)
		}
	}
	for d := range dim {
		if q.lo[d] > hi[d] { // no vectors: the unit range
			q.lo[d], hi[d] = -1, 1
		}
		pad := 0.02*(hi[d]-q.lo[d]) + 1e-6
		q.lo[d] -= pad
		q.scale[d] = (hi[d] + pad - q.lo[d]) / 255
	}
	return q
}

// encodeTo writes the codes of v to dst (of v's length).
func (q *quantizer) encodeTo(dst []uint8, v []float32) {
	for d, x := range v {
		c := math.Round(float64((x - q.lo[d]) / q.scale[d]))
		dst[d] = uint8(min(max(c, 0), 255))
	}
}

// decode writes the vector that codes c stand for to dst.
func (q *quantizer) decode(dst []float32, c []uint8) {
	for d, x := range c {
		dst[d] = q.lo[d] + q.scale[d]*float32(x)
	}
}

// prepare turns a float vector into the form scored against codes: dst =
// v∘scale, and the bias v·lo.
func (q *quantizer) prepare(dst, v []float32) float32 {
	for d, x := range v {
		dst[d] = x * q.scale[d]
	}
	return dotF32(v, q.lo)
}

// rawVectors are the float32 vectors of a quantized graph: the ones loaded
// from disk (mapped, read-only) and those added since, in node order.
type rawVectors struct {
	dim    int
	mapped []float32 // nodes [0, len(mapped)/dim)
	tail   []float32
	unmap  func() error
	file   rawFile
}

func (r *rawVectors) vec(n int32) []float32 {
	i := int(n) * r.dim
	if i < len(r.mapped) {
		return r.mapped[i : i+r.dim]
	}
	i -= len(r.mapped)
	return r.tail[i : i+r.dim]
}

// query is a search's view of its query vector: the vector itself, and,
// in a quantized graph, its prepared form.
type query struct {
	v    []float32
	qs   []float32 // v∘scale
	bias float32   // v·lo
}

// setQuery prepares v for scoring against this graph's vectors.
func (h *Graph[K]) setQuery(q *query, v []float32) {
	q.v = v
	if h.quant != nil {
		q.qs = slices.Grow(q.qs[:0], h.dim)[:h.dim]
		q.bias = h.quant.prepare(q.qs, v)
	}
}

// dist is 1 − the cosine similarity of the query to node n, on the stored
// form (codes, in a quantized graph).
func (h *Graph[K]) dist(q *query, n int32) float32 {
	if h.quant != nil {
		i := int(n) * h.dim
		return 1 - q.bias - dotU8(q.qs, h.codes[i:i+h.dim])
	}
	i := int(n) * h.dim
	return 1 - dotF32(q.v, h.vecs[i:i+h.dim])
}

// pointer of node n's stored vector, for prefetch.
func (h *Graph[K]) vecAddr(n int32) unsafe.Pointer {
	if h.quant != nil {
		return unsafe.Pointer(&h.codes[int(n)*h.dim])
	}
	return unsafe.Pointer(&h.vecs[int(n)*h.dim])
}

// setNode makes q node n's own vector, on the stored form: the float32
// vector, or in a quantized graph the decoded codes. The graph is built on
// what it searches, so a quantized graph's links never read the float32
// copy: that copy is a memory-mapped file on disk once the graph is loaded
// (random reads of it would go to the disk), and while a large graph is
// built it is four times the codes' size, so reading it at random for each
// pair of nodes costs four times the memory traffic (measured: a 10 M
// build slowed from 3,500 to 1,400 insertions a second).
func (h *Graph[K]) setNode(s *searcher, q *query, n int32) {
	i := int(n) * h.dim
	if h.quant == nil {
		q.v = h.vecs[i : i+h.dim]
		return
	}
	s.dec = slices.Grow(s.dec[:0], h.dim)[:h.dim]
	h.quant.decode(s.dec, h.codes[i:i+h.dim])
	h.setQuery(q, s.dec)
}

// exact is node n's float32 vector (the raw copy in a quantized graph).
func (h *Graph[K]) exact(n int32) []float32 {
	if h.quant != nil {
		return h.raw.vec(n)
	}
	i := int(n) * h.dim
	return h.vecs[i : i+h.dim]
}

// appendVector stores v as the next node's vector.
func (h *Graph[K]) appendVector(v []float32) { h.storeVectors([][]float32{v}, 1) }
