package store

import (
	"context"
	"slices"
	"sync"
)

// PatientCache keeps encoded answers derived from patients (an API face's
// JSON body, say), so that a hot read path does not go to SQLite and
// encoding/json for every request.
//
// It is never stale for a reader that starts after a write returned: the
// store drops a patient's entries as soon as a transaction that wrote the
// patient commits, before that write is acknowledged. Only unique keys are
// cached (id, uuid, the client's id): a lookup by MRN or HSID picks the
// oldest of several matches, and a write to another patient could change
// which one that is.
type PatientCache struct {
	s      *Store
	budget int // bytes of keys and values

	mu    sync.Mutex
	gen   uint64 // bumped by every drop; a fill that saw an older gen is discarded
	size  int
	byKey map[patientCacheKey]patientCacheEntry
	keys  map[int64][]patientCacheKey // patient id -> its entries' keys
}

type patientCacheKey struct {
	view  string // which encoding: a face may cache several shapes
	org   int64
	key   PatientKey
	value string
}

type patientCacheEntry struct {
	patientID int64
	body      []byte
}

// entryOverhead approximates the map and slice bookkeeping of one entry.
const entryOverhead = 96

// NewPatientCache returns a cache of at most budget bytes that the store
// keeps coherent with its writes. A budget of 0 or less disables caching.
func (s *Store) NewPatientCache(budget int) *PatientCache {
	c := &PatientCache{
		s:      s,
		budget: budget,
		byKey:  map[patientCacheKey]patientCacheEntry{},
		keys:   map[int64][]patientCacheKey{},
	}
	s.cachesMu.Lock()
	s.caches = append(s.caches, c)
	s.cachesMu.Unlock()
	return c
}

// Get returns the body that encode makes of the patient found by key and
// value, and the patient's id. view names the encoding, so that different
// shapes of the same patient do not collide. The returned body is shared:
// callers must not modify it.
func (c *PatientCache) Get(ctx context.Context, view string, orgID int64, key PatientKey, value string,
	encode func(*Patient) ([]byte, error)) ([]byte, int64, error) {
	cacheable := c.budget > 0 && (key == ByID || key == ByUUID || key == ByExternalID)
	k := patientCacheKey{view, orgID, key, value}
	var gen uint64
	if cacheable {
		c.mu.Lock()
		e, ok := c.byKey[k]
		gen = c.gen
		c.mu.Unlock()
		if ok {
			return e.body, e.patientID, nil
		}
	}
	p, err := c.s.PatientBy(ctx, orgID, key, value)
	if err != nil {
		return nil, 0, err
	}
	body, err := encode(p)
	if err != nil {
		return nil, 0, err
	}
	if cacheable {
		c.mu.Lock()
		// A drop since the lookup began may concern this patient: the row
		// read may already be outdated, so it is not kept.
		if c.gen == gen {
			c.put(k, patientCacheEntry{p.ID, body})
		}
		c.mu.Unlock()
	}
	return body, p.ID, nil
}

func (c *PatientCache) put(k patientCacheKey, e patientCacheEntry) {
	if _, ok := c.byKey[k]; ok {
		return
	}
	n := entrySize(k, e)
	if n > c.budget {
		return
	}
	// Evict arbitrary entries (map order) until the new one fits: the
	// cache is for a working set that fits; when it does not, which entry
	// goes matters less than the cost of tracking recency on every hit.
	for c.size+n > c.budget && len(c.byKey) > 0 {
		for old, oe := range c.byKey {
			c.remove(old, oe)
			break
		}
	}
	c.byKey[k] = e
	c.keys[e.patientID] = append(c.keys[e.patientID], k)
	c.size += n
}

func (c *PatientCache) remove(k patientCacheKey, e patientCacheEntry) {
	delete(c.byKey, k)
	c.size -= entrySize(k, e)
	ks := c.keys[e.patientID]
	for i, x := range ks {
		if x == k {
			ks = append(ks[:i], ks[i+1:]...)
			break
		}
	}
	if len(ks) == 0 {
		delete(c.keys, e.patientID)
	} else {
		c.keys[e.patientID] = ks
	}
}

func entrySize(k patientCacheKey, e patientCacheEntry) int {
	return len(k.view) + len(k.value) + len(e.body) + entryOverhead
}

// drop forgets every entry of the given patients.
func (c *PatientCache) drop(ids []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		for _, k := range slices.Clone(c.keys[id]) {
			c.remove(k, c.byKey[k])
		}
	}
}

// Len is the number of cached entries (tests, metrics).
func (c *PatientCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}

type touchedKey struct{}

// touchPatient records that this write changes the patient, so that its
// cached answers are dropped when the transaction ends, before any write of
// it is acknowledged.
func (tx *txn) touchPatient(id int64) {
	first := false
	ids := tx.Shared(touchedKey{}, func() any { first = true; return new([]int64) }).(*[]int64)
	*ids = append(*ids, id)
	if first {
		s := tx.s
		tx.AfterCommit(func() { s.dropPatients(*ids) })
	}
}

// dropPatients forgets the cached answers of the given patients.
func (s *Store) dropPatients(ids []int64) {
	if len(ids) == 0 {
		return
	}
	s.cachesMu.Lock()
	caches := s.caches
	s.cachesMu.Unlock()
	for _, c := range caches {
		c.drop(ids)
	}
}
