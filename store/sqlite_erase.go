package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// EraseActor erases the actor r names from its tenant by the rule in
// erase.go: in one transaction what indexes find, and it records the sweep
// of the rest (SweepErasures); a dry run counts that first step and rolls
// back.
func (s *SQLite) EraseActor(ctx context.Context, r EraseRequest) (ActorErasure, error) {
	out := ActorErasure{DryRun: r.DryRun}
	key, err := s.setting(ctx, auditKeyName, newAuditKey())
	if err != nil {
		return out, fmt.Errorf("erase actor: audit key: %w", err)
	}
	out.Subject = auditSubject(key, r.TenantID, r.Actor)
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		pos, err := sqliteHoldRollups(ctx, tx, r.TenantID)
		if err != nil {
			return err
		}
		ru := newErasedRollup()
		deleted, envelopes, err := sqliteDeleteActorEvents(ctx, tx, r, pos, ru)
		if err != nil {
			return err
		}
		out.EventsDeleted = int64(len(deleted))
		if out.EventsRedacted, err = sqliteRedactEvents(ctx, tx, r, pos, ru); err != nil {
			return err
		}
		if out.EntitiesDeleted, out.EntitiesRedacted, err = sqliteEraseEntities(ctx, tx, r); err != nil {
			return err
		}
		if out.EnvelopesDeleted, out.EnvelopesRedacted, err = sqliteEraseEnvelopes(ctx, tx, r, deleted, envelopes); err != nil {
			return err
		}
		if err := sqliteSubtractCounts(ctx, tx, r.TenantID, ru); err != nil {
			return err
		}
		if r.DryRun {
			return errDryRun
		}
		out.ID, err = sqliteAudit(ctx, tx, r, out, encodeSketches(ru.sketches))
		return err
	})
	if errors.Is(err, errDryRun) {
		return out, nil
	}
	if err != nil {
		return ActorErasure{}, translateSQLite(fmt.Errorf("erase actor: %w", err))
	}
	return out, nil
}

// sqliteHoldRollups bumps the tenant's roll-up generation, so that a
// worker's batch read before this cannot be added after it
// (sqlite_rollup.go), and returns the position.
func sqliteHoldRollups(ctx context.Context, tx *sql.Tx, tenant int64) (Position, error) {
	var pos Position
	if err := tx.QueryRowContext(ctx, `
INSERT INTO rollup_positions (tenant_id, seq, generation) VALUES (?, 0, 1)
ON CONFLICT (tenant_id) DO UPDATE SET generation = generation + 1
RETURNING seq`, tenant).Scan(&pos.Seq); err != nil {
		return pos, fmt.Errorf("hold roll-ups: %w", err)
	}
	return pos, nil
}

// sqliteAudit records the erasure and the sweep of the rest (pgAudit).
func sqliteAudit(ctx context.Context, tx *sql.Tx, r EraseRequest, out ActorErasure, sketches string) (int64, error) {
	counts, err := json.Marshal(out)
	if err != nil {
		return 0, err
	}
	var keyID any
	if r.KeyID != 0 {
		keyID = r.KeyID
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO erasures (at, tenant_id, api_key_id, kind, subject, counts) VALUES (?, ?, ?, 'actor', ?, ?) RETURNING id`,
		micros(time.Now()), r.TenantID, keyID, out.Subject, string(counts)).Scan(&id); err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
INSERT INTO erasure_sweeps (erasure_id, tenant_id, iri, events_through, envelopes_through, sketches)
VALUES (?1, ?2, ?3,
    (SELECT coalesce(max(seq), 0) FROM events WHERE tenant_id = ?2),
    (SELECT coalesce(max(id), 0) FROM envelopes WHERE tenant_id = ?2), ?4)`, id, r.TenantID, r.Actor, sketches)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	return id, nil
}

func sqliteDeleteActorEvents(ctx context.Context, tx *sql.Tx, r EraseRequest, pos Position, ru *erasedRollup) (map[uuid.UUID]bool, map[int64]bool, error) {
	rows, err := tx.QueryContext(ctx, `
DELETE FROM events WHERE tenant_id = ? AND actor_id = ?
RETURNING id, envelope_id, seq, event_time, action, type, coalesce(profile, ''), coalesce(group_id, '')`, r.TenantID, r.Actor)
	if err != nil {
		return nil, nil, fmt.Errorf("delete events: %w", err)
	}
	defer rows.Close()
	deleted, envelopes := map[uuid.UUID]bool{}, map[int64]bool{}
	for rows.Next() {
		var (
			id  []byte
			env int64
			at  int64
			e   = rollupEvent{actor: r.Actor}
		)
		if err := rows.Scan(&id, &env, &e.pos.Seq, &at, &e.action, &e.typ, &e.profile, &e.course); err != nil {
			return nil, nil, fmt.Errorf("delete events: %w", err)
		}
		u, err := uuid.FromBytes(id)
		if err != nil {
			return nil, nil, err
		}
		deleted[u], envelopes[env] = true, true
		e.time = fromMicros(at)
		if e.pos.within(pos) {
			ru.deleted(e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("delete events: %w", err)
	}
	return deleted, envelopes, nil
}

// sqliteCandidates is the condition that finds every row whose JSON text may
// hold iri: the text as sent may escape it (\/, \u…), so any backslash
// makes a row a candidate; redact decides.
const sqliteCandidates = `(instr(%[1]s, ?) > 0 OR instr(%[1]s, '\') > 0)`

// sqliteRedactEvents redacts the IRI in the tenant's other events whose
// object or course is the IRI (indexed); the sweep finds the rest.
func sqliteRedactEvents(ctx context.Context, tx *sql.Tx, r EraseRequest, pos Position, ru *erasedRollup) (int64, error) {
	var changes []redactedEvent
	rows, err := tx.QueryContext(ctx, `SELECT seq, data, event_time, coalesce(group_id, '') FROM events
WHERE tenant_id = ?1 AND (object_id = ?2 OR group_id = ?2)`, r.TenantID, r.Actor)
	if err != nil {
		return 0, fmt.Errorf("find events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq, at int64
			data    []byte
			group   string
		)
		if err := rows.Scan(&seq, &data, &at, &group); err != nil {
			return 0, fmt.Errorf("find events: %w", err)
		}
		red, changed, err := redact(data, r.Actor)
		if err != nil {
			return 0, err
		}
		if !changed {
			continue
		}
		changes = append(changes, redactedEvent{seq, red})
		if group == r.Actor && (Position{Seq: seq}).within(pos) {
			ru.recoursed(fromMicros(at), r.Actor)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find events: %w", err)
	}
	rows.Close()
	return int64(len(changes)), sqliteUpdateRedacted(ctx, tx, r.Actor, changes)
}

// redactedEvent is an event's redacted data, by seq.
type redactedEvent struct {
	seq  int64
	data []byte
}

// sqliteUpdateRedacted writes redacted events and their indexed columns.
func sqliteUpdateRedacted(ctx context.Context, tx *sql.Tx, iri string, changes []redactedEvent) error {
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, `
UPDATE events SET
    data = ?1,
    object_id = CASE WHEN object_id = ?2 THEN ?3 ELSE object_id END,
    group_id = CASE WHEN group_id = ?2 THEN ?3 ELSE group_id END,
    session_id = CASE WHEN session_id = ?2 THEN ?3 ELSE session_id END,
    edapp_id = CASE WHEN edapp_id = ?2 THEN ?3 ELSE edapp_id END
WHERE seq = ?4`, string(c.data), iri, ErasedIRI, c.seq); err != nil {
			return fmt.Errorf("redact events: %w", err)
		}
	}
	return nil
}

func sqliteEraseEntities(ctx context.Context, tx *sql.Tx, r EraseRequest) (deleted, redacted int64, err error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM entities WHERE tenant_id = ? AND id = ?`, r.TenantID, r.Actor)
	if err != nil {
		return 0, 0, fmt.Errorf("delete entity: %w", err)
	}
	deleted, _ = res.RowsAffected()
	changes, err := sqliteRedactRows(ctx, tx, r.Actor, `SELECT id, data FROM entities WHERE tenant_id = ? AND `+fmt.Sprintf(sqliteCandidates, "data"), r.TenantID, r.Actor)
	if err != nil {
		return 0, 0, fmt.Errorf("find entities: %w", err)
	}
	for id, data := range changes {
		if _, err := tx.ExecContext(ctx, `UPDATE entities SET data = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			data, micros(time.Now()), r.TenantID, id); err != nil {
			return 0, 0, fmt.Errorf("redact entities: %w", err)
		}
	}
	return deleted, int64(len(changes)), nil
}

// sqliteRedactRows runs query (id, JSON text) and returns the redacted text
// of each row that changed, by id.
func sqliteRedactRows(ctx context.Context, tx *sql.Tx, iri, query string, args ...any) (map[any]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[any]string{}
	for rows.Next() {
		var (
			id   any
			data []byte
		)
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		red, changed, err := redact(data, iri)
		if err != nil {
			return nil, err
		}
		if changed {
			out[id] = string(red)
		}
	}
	return out, rows.Err()
}

// sqliteEraseEnvelopes redacts the skeletons of the envelopes that held the
// deleted events and deletes those left with nothing else (pgEraseEnvelopes).
func sqliteEraseEnvelopes(ctx context.Context, tx *sql.Tx, r EraseRequest, deleted map[uuid.UUID]bool, candidates map[int64]bool) (gone, redacted int64, err error) {
	for id := range candidates {
		changes, err := sqliteRedactRows(ctx, tx, r.Actor, `SELECT id, skeleton FROM envelopes WHERE tenant_id = ? AND id = ? AND skeleton IS NOT NULL`, r.TenantID, id)
		if err != nil {
			return 0, 0, fmt.Errorf("find envelopes: %w", err)
		}
		if skel, ok := changes[id]; ok {
			if _, err := tx.ExecContext(ctx, `UPDATE envelopes SET skeleton = ? WHERE id = ?`, skel, id); err != nil {
				return 0, 0, fmt.Errorf("redact envelopes: %w", err)
			}
			redacted++
		}
	}
	for id := range candidates {
		var skel []byte
		err := tx.QueryRowContext(ctx, `
SELECT v.skeleton FROM envelopes v
WHERE v.tenant_id = ? AND v.id = ?
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.envelope_id = v.id)
  AND NOT EXISTS (SELECT 1 FROM entities n WHERE n.envelope_id = v.id)`, r.TenantID, id).Scan(&skel)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, 0, fmt.Errorf("find empty envelopes: %w", err)
		}
		if skel != nil && !onlyDeletedEvents(skel, deleted) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM envelopes WHERE id = ?`, id); err != nil {
			return 0, 0, fmt.Errorf("delete envelopes: %w", err)
		}
		gone++
	}
	return gone, redacted, nil
}

// sqliteSubtractCounts subtracts the deleted events' counts from the count
// roll-ups; the sweep rebuilds the sketches.
func sqliteSubtractCounts(ctx context.Context, tx *sql.Tx, tenant int64, ru *erasedRollup) error {
	for table, counts := range map[string]map[countKey]int64{"rollup_hourly": ru.hourly, "rollup_daily": ru.daily} {
		for k, n := range counts {
			if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET count = count - ?
WHERE tenant_id = ? AND bucket = ? AND action = ? AND type = ? AND profile = ?`, n, tenant, micros(k.bucket), k.action, k.typ, k.profile); err != nil {
				return fmt.Errorf("subtract from %s: %w", table, err)
			}
		}
		if len(counts) == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = ? AND count <= 0`, tenant); err != nil {
			return fmt.Errorf("subtract from %s: %w", table, err)
		}
	}
	return nil
}

// sqliteRebuildSketches rebuilds the days' actor sketches from the events
// the roll-ups hold (those up to pos), one read of each day.
func sqliteRebuildSketches(ctx context.Context, tx *sql.Tx, tenant int64, pos Position, days []sketchDay) error {
	for _, d := range days {
		byCourse, err := sqliteDayActors(ctx, tx, tenant, pos, d)
		if err != nil {
			return fmt.Errorf("rebuild sketches: %w", err)
		}
		for k, sk := range d.sketches(byCourse) {
			if sk != nil {
				b, _ := sk.MarshalBinary()
				_, err = tx.ExecContext(ctx, `INSERT INTO rollup_actors (tenant_id, bucket, course, sketch) VALUES (?, ?, ?, ?)
ON CONFLICT (tenant_id, course, bucket) DO UPDATE SET sketch = excluded.sketch`, tenant, micros(k.bucket), k.course, b)
			} else {
				_, err = tx.ExecContext(ctx, `DELETE FROM rollup_actors WHERE tenant_id = ? AND course = ? AND bucket = ?`, tenant, k.course, micros(k.bucket))
			}
			if err != nil {
				return fmt.Errorf("rebuild sketches: %w", err)
			}
		}
	}
	return nil
}

// sqliteDayActors reads a day's distinct actors by course ("" for events
// without one), of the day's courses only when it needs no whole sketch.
func sqliteDayActors(ctx context.Context, tx *sql.Tx, tenant int64, pos Position, d sketchDay) (map[string][]string, error) {
	query := `SELECT DISTINCT coalesce(group_id, ''), actor_id FROM events
WHERE tenant_id = ? AND event_time >= ? AND event_time < ? AND actor_id IS NOT NULL AND seq <= ?`
	args := []any{tenant, micros(d.day), micros(d.day.Add(24 * time.Hour)), pos.Seq}
	if !d.whole {
		query += ` AND group_id IN (?` + strings.Repeat(", ?", len(d.courses)-1) + `)`
		for _, c := range d.courses {
			args = append(args, c)
		}
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byCourse := map[string][]string{}
	for rows.Next() {
		var course, actor string
		if err := rows.Scan(&course, &actor); err != nil {
			return nil, err
		}
		byCourse[course] = append(byCourse[course], actor)
	}
	return byCourse, rows.Err()
}
