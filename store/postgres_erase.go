package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EraseActor erases the actor r names from its tenant by the rule in
// erase.go: in one transaction what indexes find, and it records the sweep
// of the rest (SweepErasures); a dry run counts that first step and rolls
// back.
func (s *Postgres) EraseActor(ctx context.Context, r EraseRequest) (ActorErasure, error) {
	out := ActorErasure{DryRun: r.DryRun}
	key, err := s.setting(ctx, auditKeyName, newAuditKey())
	if err != nil {
		return out, fmt.Errorf("erase actor: audit key: %w", err)
	}
	out.Subject = auditSubject(key, r.TenantID, r.Actor)
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		pos, err := pgHoldRollups(ctx, tx, r.TenantID)
		if err != nil {
			return err
		}
		ru := newErasedRollup()
		deleted, envelopes, err := pgDeleteActorEvents(ctx, tx, r, pos, ru)
		if err != nil {
			return err
		}
		out.EventsDeleted = int64(len(deleted))
		if out.EventsRedacted, err = pgRedactEvents(ctx, tx, r, pos, ru); err != nil {
			return err
		}
		if out.EntitiesDeleted, out.EntitiesRedacted, err = pgEraseEntities(ctx, tx, r); err != nil {
			return err
		}
		if out.EnvelopesDeleted, out.EnvelopesRedacted, err = pgEraseEnvelopes(ctx, tx, r, deleted, envelopes); err != nil {
			return err
		}
		if err := pgSubtractCounts(ctx, tx, r.TenantID, ru); err != nil {
			return err
		}
		if r.DryRun {
			return errDryRun
		}
		out.ID, err = pgAudit(ctx, tx, r, out, encodeSketches(ru.sketches))
		return err
	})
	if errors.Is(err, errDryRun) {
		return out, nil
	}
	if err != nil {
		return ActorErasure{}, translate(fmt.Errorf("erase actor: %w", err))
	}
	return out, nil
}

// pgHoldRollups locks the tenant's roll-up position until the transaction
// ends and bumps its generation, so that a worker's batch read before the
// erasure cannot be applied after it (its compare-and-set fails and it
// reads again); it returns the position.
func pgHoldRollups(ctx context.Context, tx pgx.Tx, tenant int64) (Position, error) {
	var txText string
	var pos Position
	err := tx.QueryRow(ctx, `
INSERT INTO rollup_positions (tenant_id, tx, seq, generation) VALUES ($1, '0', 0, 1)
ON CONFLICT (tenant_id) DO UPDATE SET generation = rollup_positions.generation + 1
RETURNING tx::text, seq`, tenant).Scan(&txText, &pos.Seq)
	if err != nil {
		return pos, fmt.Errorf("hold roll-ups: %w", err)
	}
	pos.Tx, err = strconv.ParseUint(txText, 10, 64)
	return pos, err
}

// pgDeleteActorEvents deletes the actor's events and returns their ids and
// the envelopes that held them.
func pgDeleteActorEvents(ctx context.Context, tx pgx.Tx, r EraseRequest, pos Position, ru *erasedRollup) (map[uuid.UUID]bool, map[int64]bool, error) {
	rows, err := tx.Query(ctx, `
DELETE FROM events
WHERE tenant_id = $1 AND actor_id = $2
RETURNING id, envelope_id, tx::text, seq, event_time, action, type, coalesce(profile, ''), coalesce(group_id, '')`, r.TenantID, r.Actor)
	if err != nil {
		return nil, nil, fmt.Errorf("delete events: %w", err)
	}
	deleted, envelopes := map[uuid.UUID]bool{}, map[int64]bool{}
	var (
		id     uuid.UUID
		env    int64
		txText string
		e      = rollupEvent{actor: r.Actor}
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &env, &txText, &e.pos.Seq, &e.time, &e.action, &e.typ, &e.profile, &e.course}, func() error {
		deleted[id], envelopes[env] = true, true
		var err error
		if e.pos.Tx, err = strconv.ParseUint(txText, 10, 64); err != nil {
			return err
		}
		if e.pos.within(pos) {
			ru.deleted(e)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("delete events: %w", err)
	}
	return deleted, envelopes, nil
}

// pgRedactEvents redacts the IRI in the tenant's other events whose object
// or course is the IRI (indexed); the sweep finds the rest.
func pgRedactEvents(ctx context.Context, tx pgx.Tx, r EraseRequest, pos Position, ru *erasedRollup) (int64, error) {
	rows, err := tx.Query(ctx, `
SELECT id, data, tx::text, seq, event_time, coalesce(group_id, '')
FROM events
WHERE tenant_id = $1 AND (object_id = $2 OR group_id = $2)`, r.TenantID, r.Actor)
	if err != nil {
		return 0, fmt.Errorf("find events: %w", err)
	}
	var (
		ids   []uuid.UUID
		datas [][]byte
		id    uuid.UUID
		data  []byte
		txt   string
		p     Position
		at    time.Time
		group string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &data, &txt, &p.Seq, &at, &group}, func() error {
		red, changed, err := redact(data, r.Actor)
		if err != nil || !changed {
			return err
		}
		ids, datas = append(ids, id), append(datas, red)
		if p.Tx, err = strconv.ParseUint(txt, 10, 64); err != nil {
			return err
		}
		if group == r.Actor && p.within(pos) {
			ru.recoursed(at, r.Actor)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("find events: %w", err)
	}
	return int64(len(ids)), pgUpdateRedacted(ctx, tx, r, ids, datas)
}

// pgUpdateRedacted writes redacted events and their indexed columns.
func pgUpdateRedacted(ctx context.Context, tx pgx.Tx, r EraseRequest, ids []uuid.UUID, datas [][]byte) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
UPDATE events e SET
    data = u.data,
    object_id = CASE WHEN e.object_id = $3 THEN $4 ELSE e.object_id END,
    group_id = CASE WHEN e.group_id = $3 THEN $4 ELSE e.group_id END,
    session_id = CASE WHEN e.session_id = $3 THEN $4 ELSE e.session_id END,
    edapp_id = CASE WHEN e.edapp_id = $3 THEN $4 ELSE e.edapp_id END
FROM unnest($2::uuid[], $5::jsonb[]) AS u(id, data)
WHERE e.tenant_id = $1 AND e.id = u.id`, r.TenantID, ids, r.Actor, ErasedIRI, jsonTexts(datas))
	if err != nil {
		return fmt.Errorf("redact events: %w", err)
	}
	return nil
}

func jsonTexts(b [][]byte) []string {
	out := make([]string, len(b))
	for i, v := range b {
		out[i] = string(v)
	}
	return out
}

// pgEraseEntities deletes the actor's entity and redacts the others.
func pgEraseEntities(ctx context.Context, tx pgx.Tx, r EraseRequest) (deleted, redacted int64, err error) {
	tag, err := tx.Exec(ctx, `DELETE FROM entities WHERE tenant_id = $1 AND id = $2`, r.TenantID, r.Actor)
	if err != nil {
		return 0, 0, fmt.Errorf("delete entity: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT id, data FROM entities WHERE tenant_id = $1 AND strpos(data::text, $2) > 0`, r.TenantID, r.Actor)
	if err != nil {
		return 0, 0, fmt.Errorf("find entities: %w", err)
	}
	var (
		ids, datas []string
		id         string
		data       []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		red, changed, err := redact(data, r.Actor)
		if changed {
			ids, datas = append(ids, id), append(datas, string(red))
		}
		return err
	})
	if err != nil || len(ids) == 0 {
		return tag.RowsAffected(), 0, err
	}
	_, err = tx.Exec(ctx, `
UPDATE entities e SET data = u.data, updated_at = now()
FROM unnest($2::text[], $3::jsonb[]) AS u(id, data)
WHERE e.tenant_id = $1 AND e.id = u.id`, r.TenantID, ids, datas)
	if err != nil {
		return 0, 0, fmt.Errorf("redact entities: %w", err)
	}
	return tag.RowsAffected(), int64(len(ids)), nil
}

// pgEraseEnvelopes redacts the IRI in the skeletons (entity items as sent)
// of the envelopes that held the deleted events, and deletes those left
// with nothing else; the sweep redacts the other envelopes.
func pgEraseEnvelopes(ctx context.Context, tx pgx.Tx, r EraseRequest, deleted map[uuid.UUID]bool, candidates map[int64]bool) (gone, redacted int64, err error) {
	var maybe []int64
	for id := range candidates {
		maybe = append(maybe, id)
	}
	rows, err := tx.Query(ctx, `
SELECT id, skeleton FROM envelopes
WHERE tenant_id = $1 AND id = ANY($3) AND skeleton IS NOT NULL AND strpos(skeleton::text, $2) > 0`, r.TenantID, r.Actor, maybe)
	if err != nil {
		return 0, 0, fmt.Errorf("find envelopes: %w", err)
	}
	var (
		ids   []int64
		skels []string
		id    int64
		skel  []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &skel}, func() error {
		red, changed, err := redact(skel, r.Actor)
		if changed {
			ids, skels = append(ids, id), append(skels, string(red))
		}
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, `
UPDATE envelopes e SET skeleton = u.skeleton
FROM unnest($2::bigint[], $3::jsonb[]) AS u(id, skeleton)
WHERE e.tenant_id = $1 AND e.id = u.id`, r.TenantID, ids, skels); err != nil {
			return 0, 0, fmt.Errorf("redact envelopes: %w", err)
		}
	}
	rows, err = tx.Query(ctx, `
SELECT v.id, v.skeleton FROM envelopes v
WHERE v.tenant_id = $1 AND v.id = ANY($2)
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.envelope_id = v.id)
  AND NOT EXISTS (SELECT 1 FROM entities n WHERE n.envelope_id = v.id)`, r.TenantID, maybe)
	if err != nil {
		return 0, 0, fmt.Errorf("find empty envelopes: %w", err)
	}
	var empty []int64
	_, err = pgx.ForEachRow(rows, []any{&id, &skel}, func() error {
		if skel == nil || onlyDeletedEvents(skel, deleted) {
			empty = append(empty, id)
		}
		return nil
	})
	if err != nil || len(empty) == 0 {
		return 0, int64(len(ids)), err
	}
	tag, err := tx.Exec(ctx, `DELETE FROM envelopes WHERE tenant_id = $1 AND id = ANY($2)`, r.TenantID, empty)
	if err != nil {
		return 0, 0, fmt.Errorf("delete envelopes: %w", err)
	}
	return tag.RowsAffected(), int64(len(ids)), nil
}

// pgSubtractCounts subtracts the deleted events' counts from the count
// roll-ups; the sweep rebuilds the sketches.
func pgSubtractCounts(ctx context.Context, tx pgx.Tx, tenant int64, ru *erasedRollup) error {
	for table, counts := range map[string]map[countKey]int64{"rollup_hourly": ru.hourly, "rollup_daily": ru.daily} {
		if len(counts) == 0 {
			continue
		}
		var (
			buckets               []time.Time
			actions, typs, profls []string
			ns                    []int64
		)
		for k, n := range counts {
			buckets, actions, typs, profls, ns = append(buckets, k.bucket), append(actions, k.action), append(typs, k.typ), append(profls, k.profile), append(ns, n)
		}
		if _, err := tx.Exec(ctx, `
UPDATE `+table+` r SET count = r.count - d.n
FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS d(bucket, action, type, profile, n)
WHERE r.tenant_id = $1 AND r.bucket = d.bucket AND r.action = d.action AND r.type = d.type AND r.profile = d.profile`,
			tenant, buckets, actions, typs, profls, ns); err != nil {
			return fmt.Errorf("subtract from %s: %w", table, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1 AND bucket = ANY($2) AND count <= 0`, tenant, buckets); err != nil {
			return fmt.Errorf("subtract from %s: %w", table, err)
		}
	}
	return nil
}

// pgRebuildSketches rebuilds the days' actor sketches from the events the
// roll-ups hold (those up to pos), one read of each day.
func pgRebuildSketches(ctx context.Context, tx pgx.Tx, tenant int64, pos Position, days []sketchDay) error {
	for _, d := range days {
		c := &conditions{d: postgres}
		c.add("tenant_id = " + c.arg(tenant))
		c.add("event_time >= " + c.time(d.day))
		c.add("event_time < " + c.time(d.day.Add(24*time.Hour)))
		c.add("actor_id IS NOT NULL")
		c.add("(tx, seq) <= (" + c.arg(strconv.FormatUint(pos.Tx, 10)) + "::text::xid8, " + c.arg(pos.Seq) + ")")
		if !d.whole {
			c.add("group_id = ANY(" + c.arg(d.courses) + ")")
		}
		rows, err := tx.Query(ctx, `SELECT DISTINCT coalesce(group_id, ''), actor_id FROM events WHERE `+c.sql(), c.args...)
		if err != nil {
			return fmt.Errorf("rebuild sketches: %w", err)
		}
		byCourse := map[string][]string{}
		var course, actor string
		if _, err := pgx.ForEachRow(rows, []any{&course, &actor}, func() error {
			byCourse[course] = append(byCourse[course], actor)
			return nil
		}); err != nil {
			return fmt.Errorf("rebuild sketches: %w", err)
		}
		for k, sk := range d.sketches(byCourse) {
			if sk != nil {
				b, _ := sk.MarshalBinary()
				_, err = tx.Exec(ctx, `
INSERT INTO rollup_actors (tenant_id, bucket, course, sketch) VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant_id, course, bucket) DO UPDATE SET sketch = excluded.sketch`, tenant, k.bucket, k.course, b)
			} else {
				_, err = tx.Exec(ctx, `DELETE FROM rollup_actors WHERE tenant_id = $1 AND course = $2 AND bucket = $3`, tenant, k.course, k.bucket)
			}
			if err != nil {
				return fmt.Errorf("rebuild sketches: %w", err)
			}
		}
	}
	return nil
}

// pgAudit records the erasure (when, which key, the counts, the hash) and
// the sweep of the rest: the rows stored so far, the sketches to rebuild.
func pgAudit(ctx context.Context, tx pgx.Tx, r EraseRequest, out ActorErasure, sketches string) (int64, error) {
	counts, err := json.Marshal(out)
	if err != nil {
		return 0, err
	}
	var key *int64
	if r.KeyID != 0 {
		key = &r.KeyID
	}
	var id int64
	err = tx.QueryRow(ctx, `
INSERT INTO erasures (tenant_id, api_key_id, kind, subject, counts)
VALUES ($1, $2, 'actor', $3, $4) RETURNING id`, r.TenantID, key, out.Subject, counts).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	_, err = tx.Exec(ctx, `
INSERT INTO erasure_sweeps (erasure_id, tenant_id, iri, events_through, envelopes_through, sketches)
VALUES ($1, $2, $3,
    (SELECT coalesce(max(seq), 0) FROM events WHERE tenant_id = $2),
    (SELECT coalesce(max(id), 0) FROM envelopes WHERE tenant_id = $2), $4)`, id, r.TenantID, r.Actor, sketches)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	return id, nil
}
