package index

import (
	"errors"
	"fmt"
	"os"

	"github.com/blevesearch/bleve/v2"
)

// ErrSuspended is what a metadata index between two openings answers
// (see Suspend): the library is changing hands.
var ErrSuspended = errors.New("the metadata index is closed while the library changes hands; try again")

// ErrStale is returned by OpenMetaReadOnly for an index a reader cannot
// use as it is (missing, of an older mapping, or unreadable): a reader
// builds one in memory instead (NewMemMeta), a writer rebuilds it.
var ErrStale = errors.New("the metadata index needs rebuilding")

// OpenMetaReadOnly opens the bleve index in dir for reading: scorch opens
// its root read-only (a shared lock) and runs no persister or merger, so
// nothing is written.
func OpenMetaReadOnly(dir string) (*Meta, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStale, err)
	}
	idx, err := bleve.OpenUsing(dir, map[string]any{"read_only": true})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStale, err)
	}
	if v, _ := idx.GetInternal(keyMapping); string(v) != mappingVersion {
		idx.Close()
		return nil, fmt.Errorf("%w: older mapping", ErrStale)
	}
	return &Meta{idx: idx}, nil
}

// NewMemMeta makes an empty index in memory (with the lean mapping), for
// a reader whose index on disk is stale: nothing is written.
func NewMemMeta() (*Meta, error) {
	idx, err := bleve.NewMemOnly(leanMapping())
	if err != nil {
		return nil, fmt.Errorf("create metadata index in memory: %w", err)
	}
	return &Meta{idx: idx}, nil
}

// Suspend closes the index, waiting for the calls under way; until Adopt,
// every call fails with ErrSuspended.
func (m *Meta) Suspend() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.idx == nil {
		return nil
	}
	err := m.idx.Close()
	m.idx = nil
	return err
}

// Adopt makes m use the index o holds (o is not to be used after), closing
// m's own if it has one.
func (m *Meta) Adopt(o *Meta) error {
	o.mu.Lock()
	idx := o.idx
	o.idx = nil
	o.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	var err error
	if m.idx != nil {
		err = m.idx.Close()
	}
	m.idx = idx
	return err
}

// Close closes the index.
func (m *Meta) Close() error { return m.Suspend() }
