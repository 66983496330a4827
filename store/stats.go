package store

import (
	"database/sql"
	"time"
)

// PoolStats is a snapshot of a store's database connections and of the
// envelopes waiting to be written, for metrics.
type PoolStats struct {
	InUse, Idle, Max int           // connections now: in use, idle, the cap
	Waits            int64         // connection requests that had to wait, since open
	WaitTime         time.Duration // their total wait, since open
	WritesWaiting    int           // envelopes waiting now for a writer (a writer holds a connection)
}

// PoolStats reads the pgx pool's counters.
func (s *Postgres) PoolStats() PoolStats {
	st := s.pool.Stat()
	return PoolStats{
		InUse:         int(st.AcquiredConns()),
		Idle:          int(st.IdleConns()),
		Max:           int(st.MaxConns()),
		Waits:         st.EmptyAcquireCount(),
		WaitTime:      st.EmptyAcquireWaitTime(),
		WritesWaiting: int(s.group.waiting.Load()),
	}
}

// PoolStats adds up database/sql's counters of the write connection and the
// read pool.
func (s *SQLite) PoolStats() PoolStats {
	p := PoolStats{WritesWaiting: int(s.group.waiting.Load())}
	for _, db := range []*sql.DB{s.w, s.r} {
		st := db.Stats()
		p.InUse += st.InUse
		p.Idle += st.Idle
		p.Max += st.MaxOpenConnections
		p.Waits += st.WaitCount
		p.WaitTime += st.WaitDuration
	}
	return p
}
