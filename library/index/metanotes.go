package index

import "encoding/binary"

// keyAnnotations records the catalog's annotation generation (notes and
// labels, see catalog.SetIndexedAnnotation) the index holds.
var keyAnnotations = []byte("annotation-generation")

// PutAnnotated indexes documents whose notes or labels changed, recording
// the catalog generation and the annotation generation they bring the
// index to, in one batch.
func (m *Meta) PutAnnotated(docs map[string]Doc, generation, annotations uint64) error {
	return m.put(docs, map[string]uint64{string(keyGeneration): generation, string(keyAnnotations): annotations})
}

// AnnotationGeneration is the annotation generation the index holds (0
// when none was recorded).
func (m *Meta) AnnotationGeneration() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.idx == nil {
		return 0
	}
	v, err := m.idx.GetInternal(keyAnnotations)
	if err != nil || len(v) != 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(v)
}
