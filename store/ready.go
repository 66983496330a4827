package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
)

// minFreeDisk is the free space below which the embedded store reports
// itself unready: less than this and the next envelope may not fit.
const minFreeDisk = 1 << 20

// Ready reports whether a write would succeed now. Recent real writes
// decide first (see writeHealth). Then, when every pooled connection is at
// work and writes keep succeeding, it answers without waiting for one: a
// probe queued behind a busy pool would time out and flap readiness while
// the store serves fine. Otherwise one pooled connection (never a new one
// per probe) checks that the server answers, is not read-only, and has the
// schema.
func (s *Postgres) Ready(ctx context.Context) (SchemaStatus, error) {
	if err := s.health.failing(); err != nil {
		return SchemaStatus{}, err
	}
	stat := s.pool.Stat()
	if last := s.schema.Load(); last != nil && stat.AcquiredConns() >= stat.MaxConns() && s.health.recentOK() {
		return *last, nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return SchemaStatus{}, &NotReady{Reason: "database unreachable", Err: translate(err)}
	}
	defer conn.Release()
	var readOnly string
	if err := conn.QueryRow(ctx, `SELECT current_setting('transaction_read_only')`).Scan(&readOnly); err != nil {
		return SchemaStatus{}, &NotReady{Reason: "database unreachable", Err: translate(err)}
	}
	if readOnly == "on" {
		return SchemaStatus{}, &NotReady{Reason: "database is read-only (a standby?)"}
	}
	st, err := schemaStatus(postgres, func(dest ...any) error {
		return translate(conn.QueryRow(ctx, schemaVersionSQL).Scan(dest...))
	})
	if err != nil {
		return SchemaStatus{}, &NotReady{Reason: "database unreachable", Err: err}
	}
	s.schema.Store(&st)
	return st, nil
}

// Ready reports whether a write would succeed now: recent real writes
// decide first (see writeHealth), then the file system (free space, not
// mounted read-only), then the schema, read over a pooled read connection
// so that a probe never queues behind the single writer.
func (s *SQLite) Ready(ctx context.Context) (SchemaStatus, error) {
	if err := s.health.failing(); err != nil {
		return SchemaStatus{}, err
	}
	if err := checkDisk(filepath.Dir(s.path)); err != nil {
		return SchemaStatus{}, err
	}
	st, err := s.SchemaStatus(ctx)
	if err != nil {
		return SchemaStatus{}, &NotReady{Reason: "database unreadable", Err: err}
	}
	return st, nil
}

// schemaCache keeps the last status a probe read.
type schemaCache = atomic.Pointer[SchemaStatus]

func diskFullError(free uint64) error {
	return &NotReady{Reason: "disk full", Err: fmt.Errorf("%d bytes free, %d needed", free, minFreeDisk)}
}
