package store

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"
)

// KeySpec is what a new API key is made of.
type KeySpec struct {
	Tenant    string // created on first use
	Label     string
	Scopes    []string
	ExpiresAt *time.Time // nil: never expires
	RateLimit *float64   // nil: the server's --rate-limit
}

// Tenant is a tenant and how many live (not revoked, not expired) keys it has.
type Tenant struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	LiveKeys  int64
}

// TenantDeletion counts what deleting a tenant removes (or, on a dry run,
// would remove).
type TenantDeletion struct {
	TenantID  int64 `json:"tenantId"`
	Events    int64 `json:"events"`
	Entities  int64 `json:"entities"`
	Envelopes int64 `json:"envelopes"`
	Keys      int64 `json:"keys"`
}

// keyUseEvery is how often a node writes when its keys were last used: a
// request only notes the time in memory, and the first request after this
// interval starts one batched UPDATE in the background.
const keyUseEvery = 10 * time.Second

// keyUse collects when each key was last used and writes the times in
// batches, off the requests' path. The PostgreSQL trigger of migration 12
// ignores updates of last_used_at alone, so a write never empties the key
// caches.
type keyUse struct {
	write func(ctx context.Context, at map[int64]time.Time) error

	mu       sync.Mutex
	pending  map[int64]time.Time
	writing  map[int64]time.Time // the batch being written: still unwritten for listings
	last     time.Time           // when the last write started
	inflight chan struct{}       // closed when the write in the background ends; nil: none
	closed   bool
}

// record notes that key id was used at, and starts a write if the last one
// is keyUseEvery old.
func (u *keyUse) record(id int64, at time.Time) {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return
	}
	if u.pending == nil {
		u.pending = map[int64]time.Time{}
	}
	if at.After(u.pending[id]) {
		u.pending[id] = at
	}
	start := u.inflight == nil && at.Sub(u.last) >= keyUseEvery
	var done chan struct{}
	if start {
		done = make(chan struct{})
		u.inflight, u.last = done, at
	}
	u.mu.Unlock()
	if start {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := u.flush(ctx); err != nil {
				slog.Debug("key last-used times not written; retried with the next batch", "err", err)
			}
			u.mu.Lock()
			u.inflight = nil
			u.mu.Unlock()
			close(done)
		}()
	}
}

// flushNow waits for a write in flight, then writes what is left.
func (u *keyUse) flushNow(ctx context.Context) error {
	u.mu.Lock()
	done := u.inflight
	u.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return u.flush(ctx)
}

// flush writes what is pending; on failure it is kept for the next write.
func (u *keyUse) flush(ctx context.Context) error {
	u.mu.Lock()
	batch := u.pending
	u.pending = nil
	if len(batch) > 0 {
		u.writing = batch
	}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := u.write(ctx, batch)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.writing = nil
	if err != nil {
		if u.pending == nil {
			u.pending = map[int64]time.Time{}
		}
		for id, at := range batch {
			if at.After(u.pending[id]) {
				u.pending[id] = at
			}
		}
	}
	return err
}

// unwritten returns the times not written yet, for listings on this node:
// those pending and those of a write in flight, which a listing racing the
// write would otherwise see neither in memory nor in the database.
func (u *keyUse) unwritten() map[int64]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	at := maps.Clone(u.pending)
	for id, t := range u.writing {
		if at == nil {
			at = map[int64]time.Time{}
		}
		if t.After(at[id]) {
			at[id] = t
		}
	}
	return at
}

// close waits for a write in flight and writes what is left.
func (u *keyUse) close() {
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := u.flushNow(ctx); err != nil {
		slog.Debug("key last-used times not written at close", "err", err)
	}
}

// withUnwritten sets each key's LastUsedAt to the later of the stored time
// and this node's unwritten one.
func withUnwritten(keys []Key, pending map[int64]time.Time) {
	for i := range keys {
		at, ok := pending[keys[i].ID]
		if ok && (keys[i].LastUsedAt == nil || keys[i].LastUsedAt.Before(at)) {
			keys[i].LastUsedAt = &at
		}
	}
}
