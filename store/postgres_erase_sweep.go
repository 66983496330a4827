package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SweepErasures does one step of the oldest erasure's sweep (erase.go) in
// one short transaction and reports whether there was one. The sweep's row
// is locked for the step and skipped by other nodes meanwhile, so several
// nodes sweep different erasures, never one twice.
func (s *Postgres) SweepErasures(ctx context.Context) (bool, error) {
	worked := false
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var w sweep
		var sketches []byte
		err := tx.QueryRow(ctx, `
SELECT erasure_id, tenant_id, iri, events_through, events_at, envelopes_through, envelopes_at,
    sketches, events_redacted, envelopes_redacted
FROM erasure_sweeps ORDER BY erasure_id LIMIT 1 FOR UPDATE SKIP LOCKED`).Scan(&w.erasure, &w.tenant, &w.iri,
			&w.eventsThrough, &w.eventsAt, &w.envelopesThrough, &w.envelopesAt, &sketches, &w.eventsRedacted, &w.envelopesRedacted)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		worked = true
		if w.sketches, err = decodeSketches(sketches); err != nil {
			return err
		}
		switch {
		case len(w.sketches) > 0:
			pos, err := pgHoldRollups(ctx, tx, w.tenant)
			if err != nil {
				return err
			}
			days, rest := nextSketchDays(w.sketches, sweepSketchDays)
			if err := pgRebuildSketches(ctx, tx, w.tenant, pos, days); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE erasure_sweeps SET sketches = $2 WHERE erasure_id = $1`, w.erasure, encodeSketchKeys(rest))
			return err
		case w.eventsAt < w.eventsThrough:
			upTo := min(w.eventsAt+sweepRows, w.eventsThrough)
			n, err := pgSweepEvents(ctx, tx, w, upTo)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE erasure_sweeps SET events_at = $2, events_redacted = events_redacted + $3 WHERE erasure_id = $1`, w.erasure, upTo, n)
			return err
		case w.envelopesAt < w.envelopesThrough:
			upTo := min(w.envelopesAt+sweepRows, w.envelopesThrough)
			n, err := pgSweepEnvelopes(ctx, tx, w, upTo)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE erasure_sweeps SET envelopes_at = $2, envelopes_redacted = envelopes_redacted + $3 WHERE erasure_id = $1`, w.erasure, upTo, n)
			return err
		}
		return pgEndSweep(ctx, tx, w)
	})
	if err != nil {
		return false, translate(fmt.Errorf("erasure sweep: %w", err))
	}
	return worked, nil
}

// pgSweepEvents redacts the IRI in the tenant's events with seq in
// (eventsAt, upTo]. jsonb text writes a string without escapes but for "
// \ and control characters, which an IRI cannot hold, so strpos finds
// every event that holds it.
func pgSweepEvents(ctx context.Context, tx pgx.Tx, w sweep, upTo int64) (int64, error) {
	rows, err := tx.Query(ctx, `
SELECT id, data FROM events
WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 AND strpos(data::text, $4) > 0`, w.tenant, w.eventsAt, upTo, w.iri)
	if err != nil {
		return 0, fmt.Errorf("sweep events: %w", err)
	}
	var (
		ids   []uuid.UUID
		datas [][]byte
		id    uuid.UUID
		data  []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		red, changed, err := redact(data, w.iri)
		if changed {
			ids, datas = append(ids, id), append(datas, red)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep events: %w", err)
	}
	return int64(len(ids)), pgUpdateRedacted(ctx, tx, EraseRequest{TenantID: w.tenant, Actor: w.iri}, ids, datas)
}

// pgSweepEnvelopes redacts the IRI in the skeletons of the tenant's
// envelopes with id in (envelopesAt, upTo].
func pgSweepEnvelopes(ctx context.Context, tx pgx.Tx, w sweep, upTo int64) (int64, error) {
	rows, err := tx.Query(ctx, `
SELECT id, skeleton FROM envelopes
WHERE tenant_id = $1 AND id > $2 AND id <= $3 AND skeleton IS NOT NULL AND strpos(skeleton::text, $4) > 0`,
		w.tenant, w.envelopesAt, upTo, w.iri)
	if err != nil {
		return 0, fmt.Errorf("sweep envelopes: %w", err)
	}
	var (
		ids   []int64
		skels []string
		id    int64
		skel  []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &skel}, func() error {
		red, changed, err := redact(skel, w.iri)
		if changed {
			ids, skels = append(ids, id), append(skels, string(red))
		}
		return err
	})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	_, err = tx.Exec(ctx, `
UPDATE envelopes e SET skeleton = u.skeleton
FROM unnest($2::bigint[], $3::jsonb[]) AS u(id, skeleton)
WHERE e.tenant_id = $1 AND e.id = u.id`, w.tenant, ids, skels)
	if err != nil {
		return 0, fmt.Errorf("sweep envelopes: %w", err)
	}
	return int64(len(ids)), nil
}

// pgEndSweep adds the sweep's counts to the audit record, marks it
// complete and forgets the IRI.
func pgEndSweep(ctx context.Context, tx pgx.Tx, w sweep) error {
	var counts []byte
	if err := tx.QueryRow(ctx, `SELECT counts FROM erasures WHERE id = $1`, w.erasure).Scan(&counts); err != nil {
		return err
	}
	merged, err := w.addCounts(counts)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE erasures SET counts = $2, completed_at = now() WHERE id = $1`, w.erasure, merged); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM erasure_sweeps WHERE erasure_id = $1`, w.erasure)
	return err
}

// Erasures lists a tenant's erasure records, newest first; id > 0 asks for
// that one only (ErrNotFound when the tenant has none such).
func (s *Postgres) Erasures(ctx context.Context, tenant, id int64) ([]ErasureRecord, error) {
	rows, err := s.pool.Query(ctx, `
SELECT id, at, coalesce(api_key_id, 0), counts, completed_at FROM erasures
WHERE tenant_id = $1 AND ($2 = 0 OR id = $2) ORDER BY id DESC LIMIT 1000`, tenant, id)
	if err != nil {
		return nil, translate(fmt.Errorf("erasures: %w", err))
	}
	var out []ErasureRecord
	var r ErasureRecord
	var counts []byte
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.At, &r.KeyID, &counts, &r.CompletedAt}, func() error {
		rec, err := r.withCounts(counts)
		out = append(out, rec)
		return err
	})
	if err != nil {
		return nil, translate(fmt.Errorf("erasures: %w", err))
	}
	if id > 0 && len(out) == 0 {
		return nil, fmt.Errorf("erasure %d: %w", id, ErrNotFound)
	}
	return out, nil
}
