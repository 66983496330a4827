package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lrs-dev/lrs/internal/hll"
)

// Stats counts a tenant's events by up to two dimensions, from roll-ups
// when they can answer exactly (see rollup.go), else by a scan.
func (s *Postgres) Stats(ctx context.Context, q StatsQuery) (StatsAnswer, error) {
	if table := countRollup(q); table != "" || actorRollup(q) {
		ans, ok, err := s.rollupStats(ctx, q, table)
		if err != nil || ok {
			return ans, err
		}
	}
	c := filterConditions(q.Filter, postgres)
	sql, err := statsQuery(c, q.By, q.Limit, q.Distinct == DistinctActors)
	if err != nil {
		return StatsAnswer{}, err
	}
	rows, err := s.pool.Query(ctx, sql, c.args...)
	if err != nil {
		return StatsAnswer{}, translate(fmt.Errorf("stats: %w", err))
	}
	out, err := scanStats(rows, len(q.By))
	return StatsAnswer{Rows: out, Source: SourceScan}, translate(err)
}

// rollupStats answers q from the count roll-up table (or, table "", the
// actor sketches) and the events after the tenant's position, all in one
// snapshot; ok is false when the worker has not started on the tenant. The
// position is read first and passed as a value, so that the planner sees
// how few events follow it and reads them by the stored-order index.
func (s *Postgres) rollupStats(ctx context.Context, q StatsQuery, table string) (ans StatsAnswer, ok bool, err error) {
	snapshot := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err = pgx.BeginTxFunc(ctx, s.pool, snapshot, func(tx pgx.Tx) error {
		var txText string
		var pos Position
		err := tx.QueryRow(ctx, `SELECT tx::text, seq FROM rollup_positions WHERE tenant_id = $1`, q.Filter.TenantID).Scan(&txText, &pos.Seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if pos.Tx, err = strconv.ParseUint(txText, 10, 64); err != nil {
			return err
		}
		ok = true
		ans.Source = SourceRollup
		if table == "" {
			ans.Approximate = true
			ans.Rows, err = pgActorStats(ctx, tx, q, pos)
			return err
		}
		sql, args, err := rollupStatsQuery(postgres, table, q.Filter, q.By, q.Limit, pos)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		ans.Rows, err = scanStats(rows, len(q.By))
		return err
	})
	if err != nil {
		return StatsAnswer{}, false, translate(fmt.Errorf("stats: %w", err))
	}
	return ans, ok, nil
}

// pgActorStats estimates distinct actors by day from the sketches and the
// events after pos.
func pgActorStats(ctx context.Context, tx pgx.Tx, q StatsQuery, pos Position) ([]StatRow, error) {
	f := q.Filter
	courses := f.Courses
	if len(courses) == 0 {
		courses = []string{""}
	}
	c := &conditions{d: postgres}
	c.add("tenant_id = " + c.arg(f.TenantID))
	c.add("course = ANY(" + c.arg(courses) + "::text[])")
	if f.Since != nil {
		c.add("bucket >= " + c.time(*f.Since))
	}
	if f.Until != nil {
		c.add("bucket < " + c.time(*f.Until))
	}
	var acc actorSketches
	rows, err := tx.Query(ctx, `SELECT bucket, sketch FROM rollup_actors WHERE `+c.sql(), c.args...)
	if err != nil {
		return nil, err
	}
	var day time.Time
	var b []byte
	_, err = pgx.ForEachRow(rows, []any{&day, &b}, func() error {
		sk := new(hll.Sketch)
		if err := sk.UnmarshalBinary(b); err != nil {
			return err
		}
		acc.add(day.UTC(), sk)
		return nil
	})
	if err != nil {
		return nil, err
	}
	c = &conditions{d: postgres}
	c.filter(f)
	c.tailAfter(pos)
	c.add("e.actor_id IS NOT NULL")
	rows, err = tx.Query(ctx, `SELECT e.event_time, e.actor_id FROM events e WHERE `+c.sql(), c.args...)
	if err != nil {
		return nil, err
	}
	var actor string
	_, err = pgx.ForEachRow(rows, []any{&day, &actor}, func() error {
		acc.addActor(utcDay(day), actor)
		return nil
	})
	return acc.rows(q.Limit), err
}

// Rollup adds up to rollupBatch events of each tenant to its roll-ups and
// returns how many it added in all.
func (s *Postgres) Rollup(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM tenants ORDER BY id`)
	if err != nil {
		return 0, translate(fmt.Errorf("roll-up: %w", err))
	}
	tenants, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, translate(fmt.Errorf("roll-up: %w", err))
	}
	total := 0
	for _, t := range tenants {
		n, err := s.rollupTenant(ctx, t)
		if err != nil {
			return total, translate(fmt.Errorf("roll-up tenant %d: %w", t, err))
		}
		total += n
	}
	return total, nil
}

func (s *Postgres) rollupTenant(ctx context.Context, tenant int64) (int, error) {
	txText, pos, gen, err := s.rollupPosition(ctx, tenant) // gen: bumped by an erasure (postgres_erase.go)
	if err != nil {
		return 0, fmt.Errorf("position: %w", err)
	}
	// Only events of transactions older than every running one: none can
	// commit later before the new position.
	rows, err := s.pool.Query(ctx, `
SELECT e.tx::text, e.seq, e.event_time, e.action, e.type, coalesce(e.profile, ''),
    coalesce(e.group_id, ''), coalesce(e.actor_id, '')
FROM events e
WHERE e.tenant_id = $1 AND (e.tx, e.seq) > ($2::text::xid8, $3)
  AND e.tx < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY e.tx, e.seq
LIMIT $4`, tenant, txText, pos.Seq, rollupBatch)
	if err != nil {
		return 0, fmt.Errorf("read events: %w", err)
	}
	var events []rollupEvent
	var e rollupEvent
	_, err = pgx.ForEachRow(rows, []any{&txText, &e.pos.Seq, &e.time, &e.action, &e.typ, &e.profile, &e.course, &e.actor}, func() error {
		var err error
		e.pos.Tx, err = strconv.ParseUint(txText, 10, 64)
		events = append(events, e)
		return err
	})
	if err != nil || len(events) == 0 {
		return 0, err
	}
	d := newRollupDelta(events)
	applied := false
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE rollup_positions SET tx = $2::text::xid8, seq = $3
WHERE tenant_id = $1 AND tx = $4::text::xid8 AND seq = $5 AND generation = $6`,
			tenant, strconv.FormatUint(d.last.Tx, 10), d.last.Seq, strconv.FormatUint(pos.Tx, 10), pos.Seq, gen)
		if err != nil || tag.RowsAffected() == 0 {
			return err // another node rolled these up first, or an erasure changed them
		}
		applied = true
		for _, table := range []string{"rollup_hourly", "rollup_daily"} {
			counts := d.hourly
			if table == "rollup_daily" {
				counts = d.daily
			}
			if err := pgUpsertCounts(ctx, tx, table, tenant, counts); err != nil {
				return err
			}
		}
		return pgMergeSketches(ctx, tx, tenant, d.actors)
	})
	if err != nil || !applied {
		return 0, err
	}
	return len(events), nil
}

// rollupPosition reads the tenant's position, creating it at the start. When
// another node creates it at the same moment, the INSERT waits for that
// node's commit and does nothing, while the SELECT's snapshot, taken before
// that commit, cannot see the row: no row at all comes back. The next
// statement sees it, so that case is asked once more.
func (s *Postgres) rollupPosition(ctx context.Context, tenant int64) (txText string, pos Position, gen int64, err error) {
	for range 3 {
		err = s.pool.QueryRow(ctx, `
WITH ins AS (
    INSERT INTO rollup_positions (tenant_id, tx, seq) VALUES ($1, '0', 0)
    ON CONFLICT (tenant_id) DO NOTHING
    RETURNING tx::text, seq, generation
)
SELECT * FROM ins
UNION ALL
SELECT tx::text, seq, generation FROM rollup_positions WHERE tenant_id = $1
LIMIT 1`, tenant).Scan(&txText, &pos.Seq, &gen)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return "", pos, 0, err
	}
	pos.Tx, err = strconv.ParseUint(txText, 10, 64)
	return txText, pos, gen, err
}

func pgUpsertCounts(ctx context.Context, tx pgx.Tx, table string, tenant int64, counts map[countKey]int64) error {
	var (
		buckets               []time.Time
		actions, typs, profls []string
		ns                    []int64
	)
	for k, n := range counts {
		buckets, actions, typs, profls, ns = append(buckets, k.bucket), append(actions, k.action), append(typs, k.typ), append(profls, k.profile), append(ns, n)
	}
	_, err := tx.Exec(ctx, `
INSERT INTO `+table+` (tenant_id, bucket, action, type, profile, count)
SELECT $1, * FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::bigint[])
ON CONFLICT (tenant_id, bucket, action, type, profile) DO UPDATE SET count = `+table+`.count + excluded.count`,
		tenant, buckets, actions, typs, profls, ns)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// pgMergeSketches merges the batch's sketches into the stored ones; the
// position's row lock, taken first in the transaction, keeps other workers
// off them.
func pgMergeSketches(ctx context.Context, tx pgx.Tx, tenant int64, add map[sketchKey]*hll.Sketch) error {
	var (
		buckets []time.Time
		courses []string
	)
	for k := range add {
		buckets, courses = append(buckets, k.bucket), append(courses, k.course)
	}
	rows, err := tx.Query(ctx, `
SELECT r.bucket, r.course, r.sketch
FROM rollup_actors r
JOIN unnest($2::timestamptz[], $3::text[]) AS k(bucket, course) ON r.bucket = k.bucket AND r.course = k.course
WHERE r.tenant_id = $1`, tenant, buckets, courses)
	if err != nil {
		return fmt.Errorf("read sketches: %w", err)
	}
	var k sketchKey
	var b []byte
	_, err = pgx.ForEachRow(rows, []any{&k.bucket, &k.course, &b}, func() error {
		var stored hll.Sketch
		if err := stored.UnmarshalBinary(b); err != nil {
			return err
		}
		k.bucket = k.bucket.UTC()
		add[k].Merge(&stored)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read sketches: %w", err)
	}
	buckets, courses = buckets[:0], courses[:0]
	var sketches [][]byte
	for k, sk := range add {
		b, _ := sk.MarshalBinary()
		buckets, courses, sketches = append(buckets, k.bucket), append(courses, k.course), append(sketches, b)
	}
	_, err = tx.Exec(ctx, `
INSERT INTO rollup_actors (tenant_id, bucket, course, sketch)
SELECT $1, * FROM unnest($2::timestamptz[], $3::text[], $4::bytea[])
ON CONFLICT (tenant_id, course, bucket) DO UPDATE SET sketch = excluded.sketch`, tenant, buckets, courses, sketches)
	if err != nil {
		return fmt.Errorf("write sketches: %w", err)
	}
	return nil
}
