package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// forwardStore gives both stores the forwarders' methods, over the
// statements of forward.go and forward_delivery.go.
type forwardStore struct{ fdb forwardDB }

// CreateForwarder stores a new forwarder for f.TenantID and returns it.
func (s forwardStore) CreateForwarder(ctx context.Context, f Forwarder) (Forwarder, error) {
	return createForwarder(ctx, s.fdb, f)
}

// Forwarders lists the tenant's forwarders (tenantID 0: every tenant's), oldest first.
func (s forwardStore) Forwarders(ctx context.Context, tenantID int64) ([]Forwarder, error) {
	where, args := `f.tenant_id = ?`, []any{tenantID}
	if tenantID == 0 {
		where, args = `true`, nil
	}
	fs, err := forwarderQuery(ctx, s.fdb, where, args...)
	if err != nil {
		return nil, s.fdb.translate(fmt.Errorf("list forwarders: %w", err))
	}
	return fs, nil
}

// Forwarder returns one of the tenant's forwarders; ErrNotFound if it has no such one.
func (s forwardStore) Forwarder(ctx context.Context, tenantID, id int64) (Forwarder, error) {
	return oneForwarder(ctx, s.fdb, tenantID, id)
}

// UpdateForwarder changes what u gives; ErrNotFound if the tenant has no such forwarder.
func (s forwardStore) UpdateForwarder(ctx context.Context, tenantID, id int64, u ForwarderUpdate) (Forwarder, error) {
	return updateForwarder(ctx, s.fdb, tenantID, id, u)
}

// DeleteForwarder deletes the forwarder and its dead letters; ErrNotFound if the tenant has no such one.
func (s forwardStore) DeleteForwarder(ctx context.Context, tenantID, id int64) error {
	return deleteForwarder(ctx, s.fdb, tenantID, id)
}

// LeaseForwarder takes or renews the forwarder's lease for owner for ttl,
// unless it is paused or another node's lease is current; held reports
// whether owner delivers for it now (f is then its row).
func (s forwardStore) LeaseForwarder(ctx context.Context, id int64, owner string, ttl time.Duration) (f Forwarder, held bool, err error) {
	now := time.Now()
	return leaseForwarder(ctx, s.fdb, id, owner, now, now.Add(ttl))
}

// ReleaseForwarder gives the lease up, if owner holds it, so that another
// node may take over at once.
func (s forwardStore) ReleaseForwarder(ctx context.Context, id int64, owner string) error {
	return releaseForwarder(ctx, s.fdb, id, owner)
}

// AdvanceForwarder writes a batch's outcome (position, counts, a dead
// letter) and renews the lease; ErrLeaseLost if owner no longer holds it.
func (s forwardStore) AdvanceForwarder(ctx context.Context, id int64, owner string, p ForwardProgress) error {
	return advanceForwarder(ctx, s.fdb, id, owner, p)
}

// FailForwarder counts a failed attempt with its error and renews the
// lease until leaseUntil; ErrLeaseLost if owner no longer holds it.
func (s forwardStore) FailForwarder(ctx context.Context, id int64, owner, msg string, leaseUntil time.Time) error {
	return failForwarder(ctx, s.fdb, id, owner, msg, time.Now(), leaseUntil)
}

// DeadLetters lists the dead letters of the tenant's forwarder, oldest first.
func (s forwardStore) DeadLetters(ctx context.Context, tenantID, forwarderID int64) ([]DeadLetter, error) {
	return deadLetters(ctx, s.fdb, tenantID, forwarderID)
}

// ReplayDeadLetter asks the delivering node to send the dead letter's
// events again; ErrNotFound unless the tenant's forwarder has it.
func (s forwardStore) ReplayDeadLetter(ctx context.Context, tenantID, forwarderID, id int64) (DeadLetter, error) {
	return requestReplay(ctx, s.fdb, tenantID, forwarderID, id)
}

// FinishReplay records a replay's outcome: delivered, or refused again
// with the receiver's status and answer.
func (s forwardStore) FinishReplay(ctx context.Context, id int64, delivered bool, status int, response string) error {
	return replayDone(ctx, s.fdb, id, delivered, status, response, time.Now())
}

// pgForward runs the statements on PostgreSQL.
type pgForward struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	}
	s *Postgres
}

func (d pgForward) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := d.q.Exec(ctx, numbered(q), args...)
	return tag.RowsAffected(), err
}

func (d pgForward) query(ctx context.Context, q string, args ...any) (forwardRows, error) {
	return d.q.Query(ctx, numbered(q), args...)
}

func (d pgForward) inTx(ctx context.Context, fn func(forwardDB) error) error {
	return d.s.withTx(ctx, func(tx pgx.Tx) error { return fn(pgForward{q: tx, s: d.s}) })
}

func (d pgForward) translate(err error) error { return translate(err) }

// sqliteForward runs the statements on SQLite: reads on the reader pool,
// writes on the write connection.
type sqliteForward struct {
	tx *sql.Tx // in a transaction: everything on it
	s  *SQLite
}

type forwardSQLRows struct{ *sql.Rows }

func (r forwardSQLRows) Close() { r.Rows.Close() }

func (d sqliteForward) exec(ctx context.Context, q string, args ...any) (int64, error) {
	var (
		res sql.Result
		err error
	)
	if d.tx != nil {
		res, err = d.tx.ExecContext(ctx, q, args...)
	} else {
		res, err = d.s.w.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d sqliteForward) query(ctx context.Context, q string, args ...any) (forwardRows, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if d.tx != nil {
		rows, err = d.tx.QueryContext(ctx, q, args...)
	} else {
		rows, err = d.s.r.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, err
	}
	return forwardSQLRows{rows}, nil
}

func (d sqliteForward) inTx(ctx context.Context, fn func(forwardDB) error) error {
	return d.s.withTx(ctx, func(tx *sql.Tx) error { return fn(sqliteForward{tx: tx, s: d.s}) })
}

func (d sqliteForward) translate(err error) error { return translateSQLite(err) }

// ForwardBacklog counts the tenant's events after the position (before
// any filter) and returns when the oldest of them was stored (zero: none).
func (s *Postgres) ForwardBacklog(ctx context.Context, tenantID int64, after Position) (int64, time.Time, error) {
	var (
		n      int64
		oldest *time.Time
	)
	err := s.pool.QueryRow(ctx, `
SELECT count(*), min(e.stored_at)
FROM events e
WHERE e.tenant_id = $1 AND (e.tx, e.seq) > ($2::text::xid8, $3)`,
		tenantID, strconv.FormatUint(after.Tx, 10), after.Seq).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, translate(fmt.Errorf("forward backlog: %w", err))
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, oldest.UTC(), nil
}

// ForwardBacklog counts the tenant's events after the position (before
// any filter) and returns when the oldest of them was stored (zero: none).
func (s *SQLite) ForwardBacklog(ctx context.Context, tenantID int64, after Position) (int64, time.Time, error) {
	var (
		n      int64
		oldest sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT count(*), min(e.stored_at) FROM events e WHERE e.tenant_id = ? AND e.seq > ?`,
		tenantID, after.Seq).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, translateSQLite(fmt.Errorf("forward backlog: %w", err))
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, fromMicros(oldest.Int64), nil
}
