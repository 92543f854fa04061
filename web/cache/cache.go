package cache

import "sync"

// entryOverhead approximates the maps' and slices' bookkeeping per entry.
const entryOverhead = 128

// recentDrops is how many invalidations are remembered for fills in
// flight; a fill that started before the oldest one remembered is not kept.
const recentDrops = 4096

// Cache is a tagged cache of at most Budget bytes (as the fills report
// them). The zero budget caches nothing. It is safe for concurrent use.
type Cache struct {
	budget int

	mu      sync.Mutex
	size    int
	entries map[string]*entry
	byTag   map[string]map[string]struct{} // tag -> keys
	// seq counts invalidations; drops[seq%recentDrops] is the tag of the
	// seq-th. A fill remembers seq when it starts and keeps its value only
	// if none of its tags was dropped since.
	seq   uint64
	drops [recentDrops]string
}

type entry struct {
	value any
	size  int
	tags  []string
}

// New returns a cache of at most budget bytes; 0 or less caches nothing.
func New(budget int) *Cache {
	return &Cache{budget: budget, entries: map[string]*entry{}, byTag: map[string]map[string]struct{}{}}
}

// Budget is the cache's size in bytes.
func (c *Cache) Budget() int { return c.budget }

// Get returns the value under key. When there is none, fill makes it: it
// answers the value, its size in bytes and the tags it depends on. The
// value is kept unless one of its tags was invalidated while fill ran (the
// value may then already be outdated), or it does not fit. An error from
// fill is returned as it is and nothing is kept. Values are shared:
// callers must not modify them.
func (c *Cache) Get(key string, fill func() (value any, size int, tags []string, err error)) (any, error) {
	if c.budget <= 0 {
		v, _, _, err := fill()
		return v, err
	}
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.mu.Unlock()
		return e.value, nil
	}
	start := c.seq
	c.mu.Unlock()

	v, size, tags, err := fill()
	if err != nil {
		return v, err
	}
	c.Put(start, key, v, size, tags)
	return v, nil
}

// Peek returns the value under key, if the cache has it; it fills
// nothing. With Mark and Put it serves a caller that fills several keys
// from one read (Get fills one key at a time).
func (c *Cache) Peek(key string) (any, bool) {
	if c.budget <= 0 {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return e.value, true
}

// Mark is the cache's point in its invalidations: take it before reading
// what a Put will keep.
func (c *Cache) Mark() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq
}

// Put keeps value under key, as Get keeps what its fill made: unless one
// of tags was invalidated since mark (the value may then already be
// outdated), or it does not fit.
func (c *Cache) Put(mark uint64, key string, value any, size int, tags []string) {
	if c.budget <= 0 {
		return
	}
	c.mu.Lock()
	if !c.droppedSince(mark, tags) {
		c.put(key, &entry{value: value, size: size + len(key) + entryOverhead + tagsSize(tags), tags: tags})
	}
	c.mu.Unlock()
}

func tagsSize(tags []string) int {
	n := 0
	for _, t := range tags {
		n += len(t) + 16
	}
	return n
}

// droppedSince tells whether any of tags was invalidated after the start-th
// invalidation (or whether that can no longer be told).
func (c *Cache) droppedSince(start uint64, tags []string) bool {
	if c.seq == start {
		return false
	}
	if c.seq-start > recentDrops {
		return true
	}
	for s := start + 1; s <= c.seq; s++ {
		d := c.drops[s%recentDrops]
		for _, t := range tags {
			if t == d {
				return true
			}
		}
	}
	return false
}

func (c *Cache) put(key string, e *entry) {
	if old, ok := c.entries[key]; ok {
		c.remove(key, old)
	}
	if e.size > c.budget {
		return
	}
	// Evict arbitrary entries (map order) until the new one fits: the
	// cache is for a working set that fits; when it does not, which entry
	// goes matters less than the cost of tracking recency on every hit.
	for c.size+e.size > c.budget && len(c.entries) > 0 {
		for k, old := range c.entries {
			c.remove(k, old)
			break
		}
	}
	c.entries[key] = e
	c.size += e.size
	for _, t := range e.tags {
		keys := c.byTag[t]
		if keys == nil {
			keys = map[string]struct{}{}
			c.byTag[t] = keys
		}
		keys[key] = struct{}{}
	}
}

func (c *Cache) remove(key string, e *entry) {
	delete(c.entries, key)
	c.size -= e.size
	for _, t := range e.tags {
		if keys := c.byTag[t]; keys != nil {
			delete(keys, key)
			if len(keys) == 0 {
				delete(c.byTag, t)
			}
		}
	}
}

// Invalidate drops every entry carrying any of tags, and keeps fills in
// flight that depend on them from being kept.
func (c *Cache) Invalidate(tags ...string) {
	if c.budget <= 0 || len(tags) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range tags {
		c.seq++
		c.drops[c.seq%recentDrops] = t
		for k := range c.byTag[t] {
			c.remove(k, c.entries[k])
		}
	}
}

// Len is the number of entries (tests, metrics).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Size is the bytes the entries take, as counted against the budget.
func (c *Cache) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
