package web

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lrs-dev/lrs/store"
)

// PoolStater reports a store's database connections (store.Backend does).
type PoolStater interface {
	PoolStats() store.PoolStats
}

// storeCollector reads the store's pool and readiness at each scrape. Until
// WatchStore is called (lrs serve is still waiting for the database) it
// reports lrs_ready 0 and no pool.
type storeCollector struct {
	watched atomic.Pointer[watchedStore]

	ready, inUse, idle, max, waits, waitTime, writesWaiting *prometheus.Desc
	commits, committed, keyHits, keyMisses, keyCacheOn      *prometheus.Desc
}

// groupStater reports the store's group commits (both stores do).
type groupStater interface{ GroupStats() store.GroupStats }

// keyCacheStater reports a store's key cache (PostgreSQL has one).
type keyCacheStater interface{ KeyCacheStats() store.KeyCacheStats }

type watchedStore struct {
	pool   PoolStater
	health Health
}

func newStoreCollector() *storeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &storeCollector{
		ready:         d("lrs_ready", "1 when a write would succeed now (what /readyz answers 200 for), else 0; checked at each scrape."),
		inUse:         d("lrs_db_pool_connections_in_use", "Database connections in use now."),
		idle:          d("lrs_db_pool_connections_idle", "Database connections open and idle now."),
		max:           d("lrs_db_pool_connections_max", "The most database connections the pool opens."),
		waits:         d("lrs_db_pool_acquire_waits_total", "Connection requests that had to wait for a free connection."),
		waitTime:      d("lrs_db_pool_acquire_wait_seconds_total", "Time connection requests spent waiting for a free connection."),
		writesWaiting: d("lrs_store_writes_waiting", "Envelopes waiting now for a store writer (each writer holds a connection while it commits)."),
		commits:       d("lrs_store_commits_total", "Write transactions committed by the group commit; envelopes per commit is lrs_store_committed_envelopes_total over this."),
		committed:     d("lrs_store_committed_envelopes_total", "Envelopes written by those commits (redone alone after a refusal in their group included)."),
		keyHits:       d("lrs_key_cache_hits_total", "API key lookups answered from this node's key cache (PostgreSQL)."),
		keyMisses:     d("lrs_key_cache_misses_total", "API key lookups that asked the database while the cache was on (PostgreSQL)."),
		keyCacheOn:    d("lrs_key_cache_on", "1 while this node caches API keys (its change listener is connected), else 0 (PostgreSQL)."),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ready, c.inUse, c.idle, c.max, c.waits, c.waitTime, c.writesWaiting,
		c.commits, c.committed, c.keyHits, c.keyMisses, c.keyCacheOn} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	w := c.watched.Load()
	if w == nil {
		ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, 0)
		return
	}
	ready := 0.0
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	st, err := w.health.Ready(ctx)
	cancel()
	if err == nil && st.Compatible() {
		ready = 1
	}
	p := w.pool.PoolStats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.ready, ready)
	gauge(c.inUse, float64(p.InUse))
	gauge(c.idle, float64(p.Idle))
	gauge(c.max, float64(p.Max))
	counter(c.waits, float64(p.Waits))
	counter(c.waitTime, p.WaitTime.Seconds())
	gauge(c.writesWaiting, float64(p.WritesWaiting))
	if g, ok := w.pool.(groupStater); ok {
		st := g.GroupStats()
		counter(c.commits, float64(st.Commits))
		counter(c.committed, float64(st.Envelopes))
	}
	if k, ok := w.pool.(keyCacheStater); ok {
		st := k.KeyCacheStats()
		counter(c.keyHits, float64(st.Hits))
		counter(c.keyMisses, float64(st.Misses))
		on := 0.0
		if st.On {
			on = 1
		}
		gauge(c.keyCacheOn, on)
	}
}

// WatchStore makes the metrics report the store's pool and readiness; lrs
// serve calls it once the store is open.
func (m *Metrics) WatchStore(pool PoolStater, health Health) {
	m.store.watched.Store(&watchedStore{pool: pool, health: health})
}
