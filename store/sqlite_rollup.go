package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lrs-dev/lrs/internal/hll"
)

// Stats counts a tenant's events by up to two dimensions, from roll-ups
// when they can answer exactly (see rollup.go), else by a scan.
func (s *SQLite) Stats(ctx context.Context, q StatsQuery) (StatsAnswer, error) {
	if table := countRollup(q); table != "" || actorRollup(q) {
		ans, ok, err := s.rollupStats(ctx, q, table)
		if err != nil || ok {
			return ans, err
		}
	}
	c := filterConditions(q.Filter, sqliteDialect)
	query, err := statsQuery(c, q.By, q.Limit, q.Distinct == DistinctActors)
	if err != nil {
		return StatsAnswer{}, err
	}
	rows, err := s.r.QueryContext(ctx, query, c.args...)
	if err != nil {
		return StatsAnswer{}, translateSQLite(fmt.Errorf("stats: %w", err))
	}
	defer rows.Close()
	out, err := scanStats(rows, len(q.By))
	return StatsAnswer{Rows: out, Source: SourceScan}, translateSQLite(err)
}

// rollupStats answers q from the count roll-up table (or, table "", the
// actor sketches) and the events after the tenant's position, in one read
// transaction; ok is false when the worker has not started on the tenant.
func (s *SQLite) rollupStats(ctx context.Context, q StatsQuery, table string) (StatsAnswer, bool, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return StatsAnswer{}, false, translateSQLite(fmt.Errorf("stats: %w", err))
	}
	defer tx.Rollback() //nolint:errcheck // read only
	var pos Position
	err = tx.QueryRowContext(ctx, `SELECT seq FROM rollup_positions WHERE tenant_id = ?`, q.Filter.TenantID).Scan(&pos.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return StatsAnswer{}, false, nil
	}
	if err != nil {
		return StatsAnswer{}, false, translateSQLite(fmt.Errorf("stats: %w", err))
	}
	ans := StatsAnswer{Source: SourceRollup}
	if table == "" {
		ans.Approximate = true
		ans.Rows, err = sqliteActorStats(ctx, tx, q, pos)
	} else {
		ans.Rows, err = sqliteCountStats(ctx, tx, q, table, pos)
	}
	if err != nil {
		return StatsAnswer{}, false, translateSQLite(fmt.Errorf("stats: %w", err))
	}
	return ans, true, nil
}

func sqliteCountStats(ctx context.Context, tx *sql.Tx, q StatsQuery, table string, pos Position) ([]StatRow, error) {
	query, args, err := rollupStatsQuery(sqliteDialect, table, q.Filter, q.By, q.Limit, pos)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanStats(rows, len(q.By))
}

// sqliteActorStats estimates distinct actors by day from the sketches and
// the events after pos.
func sqliteActorStats(ctx context.Context, tx *sql.Tx, q StatsQuery, pos Position) ([]StatRow, error) {
	f := q.Filter
	courses := f.Courses
	if len(courses) == 0 {
		courses = []string{""}
	}
	c := &conditions{d: sqliteDialect}
	c.add("tenant_id = " + c.arg(f.TenantID))
	c.anyOf("course", courses)
	if f.Since != nil {
		c.add("bucket >= " + c.time(*f.Since))
	}
	if f.Until != nil {
		c.add("bucket < " + c.time(*f.Until))
	}
	var acc actorSketches
	err := eachTxRow(ctx, tx, `SELECT bucket, sketch FROM rollup_actors WHERE `+c.sql(), c.args, func(scan func(...any) error) error {
		var day int64
		var b []byte
		sk := new(hll.Sketch)
		if err := scan(&day, &b); err != nil {
			return err
		}
		if err := sk.UnmarshalBinary(b); err != nil {
			return err
		}
		acc.add(fromMicros(day), sk)
		return nil
	})
	if err != nil {
		return nil, err
	}
	c = &conditions{d: sqliteDialect}
	c.filter(f)
	c.tailAfter(pos)
	c.add("e.actor_id IS NOT NULL")
	err = eachTxRow(ctx, tx, `SELECT e.event_time, e.actor_id FROM events e WHERE `+c.sql(), c.args, func(scan func(...any) error) error {
		var t int64
		var actor string
		if err := scan(&t, &actor); err != nil {
			return err
		}
		acc.addActor(utcDay(fromMicros(t)), actor)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return acc.rows(q.Limit), nil
}

func eachTxRow(ctx context.Context, tx *sql.Tx, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Rollup adds up to rollupBatch events of each tenant to its roll-ups and
// returns how many it added in all.
func (s *SQLite) Rollup(ctx context.Context) (int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM tenants ORDER BY id`)
	if err != nil {
		return 0, translateSQLite(fmt.Errorf("roll-up: %w", err))
	}
	var tenants []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, translateSQLite(err)
		}
		tenants = append(tenants, id)
	}
	rows.Close()
	total := 0
	for _, t := range tenants {
		n, err := s.rollupTenant(ctx, t)
		if err != nil {
			return total, translateSQLite(fmt.Errorf("roll-up tenant %d: %w", t, err))
		}
		total += n
	}
	return total, nil
}

// rollupTenant reads on the reader connection and writes on the writer in
// one short transaction, so that envelopes wait for it as little as may be.
func (s *SQLite) rollupTenant(ctx context.Context, tenant int64) (int, error) {
	var pos, gen int64 // gen: bumped by an erasure (sqlite_erase.go)
	err := s.r.QueryRowContext(ctx, `SELECT seq, generation FROM rollup_positions WHERE tenant_id = ?`, tenant).Scan(&pos, &gen)
	started := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("position: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `
SELECT seq, event_time, action, type, coalesce(profile, ''), coalesce(group_id, ''), coalesce(actor_id, '')
FROM events
WHERE tenant_id = ? AND seq > ?
ORDER BY seq
LIMIT ?`, tenant, pos, rollupBatch)
	if err != nil {
		return 0, fmt.Errorf("read events: %w", err)
	}
	var events []rollupEvent
	for rows.Next() {
		var e rollupEvent
		var t int64
		if err := rows.Scan(&e.pos.Seq, &t, &e.action, &e.typ, &e.profile, &e.course, &e.actor); err != nil {
			rows.Close()
			return 0, err
		}
		e.time = fromMicros(t)
		events = append(events, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(events) == 0 && started {
		return 0, nil
	}
	d := newRollupDelta(events)
	applied := false
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var r sql.Result
		var err error
		if started {
			r, err = tx.ExecContext(ctx, `UPDATE rollup_positions SET seq = ? WHERE tenant_id = ? AND seq = ? AND generation = ?`, d.last.Seq, tenant, pos, gen)
		} else {
			r, err = tx.ExecContext(ctx, `INSERT INTO rollup_positions (tenant_id, seq) VALUES (?, ?) ON CONFLICT DO NOTHING`, tenant, d.last.Seq)
		}
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil // rolled up meanwhile by another process on this file
		}
		applied = true
		// Prepared once per transaction: SQLite would parse each statement
		// again for every bucket, which cost more than the roll-up itself.
		for table, counts := range map[string]map[countKey]int64{"rollup_hourly": d.hourly, "rollup_daily": d.daily} {
			add, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (tenant_id, bucket, action, type, profile, count)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, bucket, action, type, profile) DO UPDATE SET count = count + excluded.count`)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			for k, n := range counts {
				if _, err := add.ExecContext(ctx, tenant, micros(k.bucket), k.action, k.typ, k.profile, n); err != nil {
					add.Close()
					return fmt.Errorf("%s: %w", table, err)
				}
			}
			add.Close()
		}
		return sqliteMergeSketches(ctx, tx, tenant, d.actors)
	})
	if err != nil || !applied {
		return 0, err
	}
	return len(events), nil
}

func sqliteMergeSketches(ctx context.Context, tx *sql.Tx, tenant int64, add map[sketchKey]*hll.Sketch) error {
	read, err := tx.PrepareContext(ctx, `SELECT sketch FROM rollup_actors WHERE tenant_id = ? AND course = ? AND bucket = ?`)
	if err != nil {
		return fmt.Errorf("read sketch: %w", err)
	}
	defer read.Close()
	write, err := tx.PrepareContext(ctx, `INSERT INTO rollup_actors (tenant_id, bucket, course, sketch) VALUES (?, ?, ?, ?)
ON CONFLICT (tenant_id, course, bucket) DO UPDATE SET sketch = excluded.sketch`)
	if err != nil {
		return fmt.Errorf("write sketch: %w", err)
	}
	defer write.Close()
	for k, sk := range add {
		var b []byte
		err := read.QueryRowContext(ctx, tenant, k.course, micros(k.bucket)).Scan(&b)
		switch {
		case err == nil:
			var stored hll.Sketch
			if err := stored.UnmarshalBinary(b); err != nil {
				return err
			}
			sk.Merge(&stored)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read sketch: %w", err)
		}
		b, _ = sk.MarshalBinary()
		if _, err := write.ExecContext(ctx, tenant, micros(k.bucket), k.course, b); err != nil {
			return fmt.Errorf("write sketch: %w", err)
		}
	}
	return nil
}
