package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Forwarders push a tenant's events, in stored order, to a receiver
// (package forward delivers). The events table is the queue: a forwarder
// row keeps its position in it, its settings and its delivery status, and
// a lease saying which node delivers for it now. The statements are shared
// by both stores (times are unix microseconds in both); forwardDB runs
// them on each.

// Forwarder kinds and reactions to a refused batch.
const (
	ForwardCaliper    = "caliper"
	ForwardWebhook    = "webhook"
	RejectDeadLetter  = "dead-letter"
	RejectBlock       = "block"
	maxForwardError   = 2000     // characters of LastError kept
	maxDeadLetterBody = 64 << 10 // bytes of a refusing answer kept
)

// ErrLeaseLost is the answer to a write of a forwarder's delivery state by
// a node that no longer holds its lease: another node delivers now.
var ErrLeaseLost = errors.New("forwarder lease lost to another node")

// Forwarder is a forwarder's settings and delivery status.
type Forwarder struct {
	ID       int64
	TenantID int64
	Tenant   string
	Kind     string // ForwardCaliper or ForwardWebhook
	URL      string
	Filter   string // the read API's filter parameters, as a query string
	// Credentials are the token, header or secret, sealed by package
	// forward: the store never sees them in the clear.
	Credentials []byte
	Batch       int
	MaxWait     time.Duration
	OnReject    string // RejectDeadLetter or RejectBlock
	Paused      bool
	Position    Position // the last event acknowledged, or skipped by the filter
	CreatedAt   time.Time
	UpdatedAt   time.Time

	Delivered     int64 // events the receiver acknowledged
	Attempts      int   // failed attempts at the batch being delivered
	LastSuccessAt time.Time
	LastErrorAt   time.Time
	LastError     string
	DeadLetters   int64 // dead letters not replayed
	LeaseOwner    string
	LeaseUntil    time.Time
}

// ForwarderUpdate changes the fields that are not nil.
type ForwarderUpdate struct {
	URL         *string
	Filter      *string
	Credentials *[]byte
	Batch       *int
	MaxWait     *time.Duration
	OnReject    *string
	Paused      *bool
}

// ForwardProgress is what a delivering node writes after a batch.
type ForwardProgress struct {
	Position   Position    // the new position
	Delivered  int         // events acknowledged by the receiver
	Success    bool        // a batch was acknowledged: LastSuccessAt is At
	DeadLetter *DeadLetter // the batch was refused and parked (same transaction)
	At         time.Time
	LeaseUntil time.Time // the lease, renewed
}

// DeadLetter is a batch the receiver refused for good: the events after
// After up to Last that the forwarder's filter selects, and the answer.
type DeadLetter struct {
	ID                int64
	ForwarderID       int64
	After, Last       Position
	Events            int
	Status            int
	Response          string
	CreatedAt         time.Time
	ReplayRequestedAt time.Time // zero: no replay asked
	ReplayedAt        time.Time // zero: not delivered
}

// ReplayPending reports that a replay was asked and not done yet.
func (d DeadLetter) ReplayPending() bool {
	return !d.ReplayRequestedAt.IsZero() && d.ReplayedAt.Before(d.ReplayRequestedAt)
}

// forwardRows are query results of either store.
type forwardRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// forwardDB runs the forwarders' statements, written with ? placeholders,
// on one store.
type forwardDB interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (forwardRows, error)
	inTx(ctx context.Context, fn func(forwardDB) error) error
	translate(err error) error
}

// numbered rewrites ? placeholders as $1, $2, … (none of the statements
// has a ? in a literal).
func numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func usOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func timeOfUs(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

const forwarderColumns = `
    f.id,
    f.tenant_id,
    t.name,
    f.kind,
    f.url,
    f.filter,
    f.credentials,
    f.batch_size,
    f.max_wait_us,
    f.on_reject,
    f.paused,
    f.pos_tx,
    f.pos_seq,
    f.created_at,
    f.updated_at,
    f.delivered,
    f.attempts,
    f.last_success_at,
    f.last_error_at,
    f.last_error,
    (SELECT count(*) FROM forwarder_dead_letters d WHERE d.forwarder_id = f.id AND d.replayed_at = 0),
    f.lease_owner,
    f.lease_until
FROM forwarders f
JOIN tenants t ON t.id = f.tenant_id`

func scanForwarders(rows forwardRows) ([]Forwarder, error) {
	defer rows.Close()
	var out []Forwarder
	for rows.Next() {
		var (
			f                                            Forwarder
			maxWait, posTx, created, updated, ok, eu, lu int64
		)
		err := rows.Scan(&f.ID, &f.TenantID, &f.Tenant, &f.Kind, &f.URL, &f.Filter, &f.Credentials, &f.Batch, &maxWait,
			&f.OnReject, &f.Paused, &posTx, &f.Position.Seq, &created, &updated, &f.Delivered, &f.Attempts,
			&ok, &eu, &f.LastError, &f.DeadLetters, &f.LeaseOwner, &lu)
		if err != nil {
			return nil, err
		}
		f.MaxWait, f.Position.Tx = time.Duration(maxWait)*time.Microsecond, uint64(posTx)
		f.CreatedAt, f.UpdatedAt = timeOfUs(created), timeOfUs(updated)
		f.LastSuccessAt, f.LastErrorAt, f.LeaseUntil = timeOfUs(ok), timeOfUs(eu), timeOfUs(lu)
		out = append(out, f)
	}
	return out, rows.Err()
}

func forwarderQuery(ctx context.Context, db forwardDB, where string, args ...any) ([]Forwarder, error) {
	rows, err := db.query(ctx, `SELECT`+forwarderColumns+`
WHERE `+where+`
ORDER BY f.id`, args...)
	if err != nil {
		return nil, err
	}
	return scanForwarders(rows)
}

func oneForwarder(ctx context.Context, db forwardDB, tenantID, id int64) (Forwarder, error) {
	fs, err := forwarderQuery(ctx, db, `f.id = ? AND f.tenant_id = ?`, id, tenantID)
	if err != nil {
		return Forwarder{}, db.translate(fmt.Errorf("forwarder %d: %w", id, err))
	}
	if len(fs) == 0 {
		return Forwarder{}, fmt.Errorf("forwarder %d: %w", id, ErrNotFound)
	}
	return fs[0], nil
}

func createForwarder(ctx context.Context, db forwardDB, f Forwarder) (Forwarder, error) {
	now := usOf(time.Now())
	var id int64
	err := db.inTx(ctx, func(tx forwardDB) error {
		rows, err := tx.query(ctx, `
INSERT INTO forwarders (tenant_id, kind, url, filter, credentials, batch_size, max_wait_us, on_reject, paused, pos_tx, pos_seq, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id`, f.TenantID, f.Kind, f.URL, f.Filter, f.Credentials, f.Batch, f.MaxWait.Microseconds(), f.OnReject, f.Paused,
			int64(f.Position.Tx), f.Position.Seq, now, now)
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			return errors.Join(rows.Err(), errors.New("no id returned"))
		}
		return rows.Scan(&id)
	})
	if err != nil {
		return Forwarder{}, db.translate(fmt.Errorf("create forwarder: %w", err))
	}
	return oneForwarder(ctx, db, f.TenantID, id)
}

func updateForwarder(ctx context.Context, db forwardDB, tenantID, id int64, u ForwarderUpdate) (Forwarder, error) {
	var (
		sets []string
		args []any
	)
	set := func(col string, v any) { sets, args = append(sets, col+" = ?"), append(args, v) }
	if u.URL != nil {
		set("url", *u.URL)
	}
	if u.Filter != nil {
		set("filter", *u.Filter)
	}
	if u.Credentials != nil {
		set("credentials", *u.Credentials)
	}
	if u.Batch != nil {
		set("batch_size", *u.Batch)
	}
	if u.MaxWait != nil {
		set("max_wait_us", u.MaxWait.Microseconds())
	}
	if u.OnReject != nil {
		set("on_reject", *u.OnReject)
	}
	if u.Paused != nil {
		set("paused", *u.Paused)
	}
	set("updated_at", usOf(time.Now()))
	args = append(args, id, tenantID)
	n, err := db.exec(ctx, `UPDATE forwarders SET `+strings.Join(sets, ", ")+` WHERE id = ? AND tenant_id = ?`, args...)
	if err != nil {
		return Forwarder{}, db.translate(fmt.Errorf("update forwarder %d: %w", id, err))
	}
	if n == 0 {
		return Forwarder{}, fmt.Errorf("forwarder %d: %w", id, ErrNotFound)
	}
	return oneForwarder(ctx, db, tenantID, id)
}

func deleteForwarder(ctx context.Context, db forwardDB, tenantID, id int64) error {
	n, err := db.exec(ctx, `DELETE FROM forwarders WHERE id = ? AND tenant_id = ?`, id, tenantID)
	if err != nil {
		return db.translate(fmt.Errorf("delete forwarder %d: %w", id, err))
	}
	if n == 0 {
		return fmt.Errorf("forwarder %d: %w", id, ErrNotFound)
	}
	return nil
}
