package store

import (
	"sync"
	"sync/atomic"
	"time"
)

// keyCache remembers live keys by token hash, so that most requests are
// authenticated without a database round trip. It is on only while the
// store is told about every change to keys and tenants (PostgreSQL: the
// listener in postgres_keycache.go); any change empties it, since keys
// change rarely. A generation counter stops a lookup that raced with a
// change from putting back what the change removed. Entries also expire
// after keyCacheTTL, which bounds how stale a key can be if a notification
// is ever lost without the connection failing.
type keyCache struct {
	mu      sync.Mutex
	on      bool
	gen     uint64
	entries map[[32]byte]cachedKey

	hits, misses atomic.Int64
}

type cachedKey struct {
	key     Key
	expires time.Time
}

const (
	keyCacheTTL = time.Minute
	keyCacheMax = 10_000 // more distinct live tokens than this on one node are unusual
)

// KeyCacheStats is what a node's key cache has done.
type KeyCacheStats struct {
	On           bool // whether keys are served from memory
	Hits, Misses int64
}

// get returns the cached key for hash and, for a later put, the generation
// the lookup started in.
func (c *keyCache) get(hash []byte) (Key, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return Key{}, false, c.gen
	}
	h := [32]byte(hash)
	e, ok := c.entries[h]
	if ok && time.Now().Before(e.expires) {
		c.hits.Add(1)
		return e.key, true, c.gen
	}
	if ok {
		delete(c.entries, h)
	}
	c.misses.Add(1)
	return Key{}, false, c.gen
}

// put caches k for hash unless something changed since generation gen.
func (c *keyCache) put(hash []byte, k Key, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || gen != c.gen {
		return
	}
	if len(c.entries) >= keyCacheMax {
		for h := range c.entries { // drop an arbitrary entry
			delete(c.entries, h)
			break
		}
	}
	c.entries[[32]byte(hash)] = cachedKey{key: k, expires: time.Now().Add(keyCacheTTL)}
}

// changed forgets every key: a key or tenant was changed or deleted.
func (c *keyCache) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
}

// setOn turns the cache on or off; either way it starts empty.
func (c *keyCache) setOn(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = on
	c.reset()
}

func (c *keyCache) reset() {
	c.gen++
	clear(c.entries)
	if c.entries == nil {
		c.entries = make(map[[32]byte]cachedKey)
	}
}

func (c *keyCache) isOn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

func (c *keyCache) stats() KeyCacheStats {
	return KeyCacheStats{On: c.isOn(), Hits: c.hits.Load(), Misses: c.misses.Load()}
}
