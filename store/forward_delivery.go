package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// The delivering node's statements: the lease, progress after a batch,
// failures and dead letters.

// leaseForwarder takes or renews the lease of forwarder id for owner until
// until, if the forwarder is not paused and no other node holds a current
// lease; ok reports whether owner holds it now.
func leaseForwarder(ctx context.Context, db forwardDB, id int64, owner string, now, until time.Time) (Forwarder, bool, error) {
	n, err := db.exec(ctx, `
UPDATE forwarders SET lease_owner = ?, lease_until = ?
WHERE id = ? AND paused = ? AND (lease_owner = ? OR lease_until < ?)`,
		owner, usOf(until), id, false, owner, usOf(now))
	if err != nil {
		return Forwarder{}, false, db.translate(fmt.Errorf("lease forwarder %d: %w", id, err))
	}
	if n == 0 {
		return Forwarder{}, false, nil
	}
	fs, err := forwarderQuery(ctx, db, `f.id = ?`, id)
	if err != nil {
		return Forwarder{}, false, db.translate(fmt.Errorf("lease forwarder %d: %w", id, err))
	}
	if len(fs) == 0 {
		return Forwarder{}, false, nil // deleted meanwhile
	}
	return fs[0], fs[0].LeaseOwner == owner, nil
}

func releaseForwarder(ctx context.Context, db forwardDB, id int64, owner string) error {
	_, err := db.exec(ctx, `UPDATE forwarders SET lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?`, id, owner)
	return db.translate(err)
}

// advanceForwarder writes a batch's outcome if owner still holds the lease
// (else ErrLeaseLost), with its dead letter in the same transaction.
func advanceForwarder(ctx context.Context, db forwardDB, id int64, owner string, p ForwardProgress) error {
	err := db.inTx(ctx, func(tx forwardDB) error {
		success := `last_success_at`
		if p.Success {
			success = `?`
		}
		args := []any{int64(p.Position.Tx), p.Position.Seq, p.Delivered}
		if p.Success {
			args = append(args, usOf(p.At))
		}
		args = append(args, usOf(p.LeaseUntil), id, owner)
		n, err := tx.exec(ctx, `
UPDATE forwarders SET
    pos_tx          = ?,
    pos_seq         = ?,
    delivered       = delivered + ?,
    attempts        = 0,
    last_success_at = `+success+`,
    lease_until     = ?
WHERE id = ? AND lease_owner = ?`, args...)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrLeaseLost
		}
		if d := p.DeadLetter; d != nil {
			_, err = tx.exec(ctx, `
INSERT INTO forwarder_dead_letters (forwarder_id, after_tx, after_seq, last_tx, last_seq, events, status, response, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, int64(d.After.Tx), d.After.Seq, int64(d.Last.Tx), d.Last.Seq, d.Events, d.Status,
				clip(d.Response, maxDeadLetterBody), usOf(p.At))
		}
		return err
	})
	if err != nil {
		return db.translate(fmt.Errorf("forwarder %d progress: %w", id, err))
	}
	return nil
}

// failForwarder counts a failed attempt and keeps its error, if owner
// still holds the lease (else ErrLeaseLost).
func failForwarder(ctx context.Context, db forwardDB, id int64, owner, msg string, at, leaseUntil time.Time) error {
	n, err := db.exec(ctx, `
UPDATE forwarders SET attempts = attempts + 1, last_error_at = ?, last_error = ?, lease_until = ?
WHERE id = ? AND lease_owner = ?`, usOf(at), clip(msg, maxForwardError), usOf(leaseUntil), id, owner)
	if err != nil {
		return db.translate(fmt.Errorf("forwarder %d failure: %w", id, err))
	}
	if n == 0 {
		return fmt.Errorf("forwarder %d failure: %w", id, ErrLeaseLost)
	}
	return nil
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func deadLetters(ctx context.Context, db forwardDB, tenantID, forwarderID int64) ([]DeadLetter, error) {
	rows, err := db.query(ctx, `
SELECT d.id, d.forwarder_id, d.after_tx, d.after_seq, d.last_tx, d.last_seq, d.events, d.status, d.response,
    d.created_at, d.replay_requested_at, d.replayed_at
FROM forwarder_dead_letters d
JOIN forwarders f ON f.id = d.forwarder_id
WHERE d.forwarder_id = ? AND f.tenant_id = ?
ORDER BY d.id`, forwarderID, tenantID)
	if err != nil {
		return nil, db.translate(fmt.Errorf("dead letters: %w", err))
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var (
			d                      DeadLetter
			afterTx, lastTx        int64
			created, asked, played int64
		)
		if err := rows.Scan(&d.ID, &d.ForwarderID, &afterTx, &d.After.Seq, &lastTx, &d.Last.Seq, &d.Events, &d.Status,
			&d.Response, &created, &asked, &played); err != nil {
			return nil, db.translate(fmt.Errorf("dead letters: %w", err))
		}
		d.After.Tx, d.Last.Tx = uint64(afterTx), uint64(lastTx)
		d.CreatedAt, d.ReplayRequestedAt, d.ReplayedAt = timeOfUs(created), timeOfUs(asked), timeOfUs(played)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, db.translate(fmt.Errorf("dead letters: %w", err))
	}
	return out, nil
}

// requestReplay asks the delivering node to send a dead letter's events
// again; ErrNotFound unless the tenant's forwarder has it.
func requestReplay(ctx context.Context, db forwardDB, tenantID, forwarderID, id int64) (DeadLetter, error) {
	n, err := db.exec(ctx, `
UPDATE forwarder_dead_letters SET replay_requested_at = ?, replayed_at = 0
WHERE id = ? AND forwarder_id = ? AND forwarder_id IN (SELECT id FROM forwarders WHERE tenant_id = ?)`,
		usOf(time.Now()), id, forwarderID, tenantID)
	if err != nil {
		return DeadLetter{}, db.translate(fmt.Errorf("replay dead letter %d: %w", id, err))
	}
	if n == 0 {
		return DeadLetter{}, fmt.Errorf("dead letter %d of forwarder %d: %w", id, forwarderID, ErrNotFound)
	}
	all, err := deadLetters(ctx, db, tenantID, forwarderID)
	if err != nil {
		return DeadLetter{}, err
	}
	for _, d := range all {
		if d.ID == id {
			return d, nil
		}
	}
	return DeadLetter{}, fmt.Errorf("dead letter %d of forwarder %d: %w", id, forwarderID, ErrNotFound)
}

// replayDone records a replay's outcome: delivered (replayed_at), or
// refused again (its new answer kept, the request cleared).
func replayDone(ctx context.Context, db forwardDB, id int64, delivered bool, status int, response string, at time.Time) error {
	var err error
	if delivered {
		_, err = db.exec(ctx, `UPDATE forwarder_dead_letters SET replayed_at = ? WHERE id = ?`, usOf(at), id)
	} else {
		_, err = db.exec(ctx, `UPDATE forwarder_dead_letters SET replay_requested_at = 0, status = ?, response = ? WHERE id = ?`,
			status, clip(response, maxDeadLetterBody), id)
	}
	return db.translate(err)
}
