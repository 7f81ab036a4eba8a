package library

// Vector returns the stored embedding of an item in the library's embedding
// space (for evaluation: `m3ret eval` ranks labelled items by it).
func (l *Library) Vector(id string) ([]float32, error) {
	return l.cat.Vector(l.emb.ModelID(), id)
}
