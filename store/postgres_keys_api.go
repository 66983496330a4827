package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// writeKeyUse stores when keys were last used, in one statement; it never
// moves a time back (two nodes may write out of order). Migration 10's
// trigger does not notify for it, so the key caches stay warm.
func (s *Postgres) writeKeyUse(ctx context.Context, at map[int64]time.Time) error {
	ids := make([]int64, 0, len(at))
	times := make([]time.Time, 0, len(at))
	for id, t := range at {
		ids, times = append(ids, id), append(times, t)
	}
	_, err := s.pool.Exec(ctx, `
UPDATE api_keys AS k SET last_used_at = u.at
FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, at)
WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`, ids, times)
	return translate(err)
}

// FlushKeyUse writes the last-used times this node holds now (they are
// otherwise written every keyUseEvery, and at Close).
func (s *Postgres) FlushKeyUse(ctx context.Context) error { return s.use.flushNow(ctx) }

// Tenants lists every tenant, oldest first, with its number of live keys.
func (s *Postgres) Tenants(ctx context.Context) ([]Tenant, error) {
	rows, err := s.pool.Query(ctx, `
SELECT
    t.id,
    t.name,
    t.created_at,
    count(k.id) FILTER (WHERE k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()))
FROM tenants t
LEFT JOIN api_keys k ON k.tenant_id = t.id
GROUP BY t.id
ORDER BY t.id`)
	if err != nil {
		return nil, translate(fmt.Errorf("list tenants: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tenant, error) {
		var t Tenant
		return t, r.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.LiveKeys)
	})
	return out, translate(err)
}

// CreateTenant creates the tenant called name; ErrConflict if it exists.
func (s *Postgres) CreateTenant(ctx context.Context, name string) (Tenant, error) {
	t := Tenant{Name: name}
	err := s.pool.QueryRow(ctx, `INSERT INTO tenants (name) VALUES ($1) RETURNING id, created_at`, name).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return Tenant{}, translate(fmt.Errorf("create tenant %q: %w", name, err))
	}
	return t, nil
}

// tenantTables are the tables that hold a tenant's rows, in an order that
// deletes no row another still references.
var tenantTables = []string{"erasure_sweeps", "rollup_actors", "rollup_daily", "rollup_hourly", "rollup_positions", "events", "entities", "envelopes", "api_keys"}

// DeleteTenant deletes the tenant called name and everything it holds
// (events, entities, envelopes, keys, roll-ups, import checkpoints), in one
// transaction, and counts what went; with dryRun it only counts.
// ErrNotFound if there is no such tenant.
func (s *Postgres) DeleteTenant(ctx context.Context, name string, dryRun bool) (TenantDeletion, error) {
	var d TenantDeletion
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT id FROM tenants WHERE name = $1 FOR UPDATE`, name).Scan(&d.TenantID); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("tenant %q: %w", name, ErrNotFound)
			}
			return err
		}
		err := tx.QueryRow(ctx, `
SELECT
    (SELECT count(*) FROM events WHERE tenant_id = $1),
    (SELECT count(*) FROM entities WHERE tenant_id = $1),
    (SELECT count(*) FROM envelopes WHERE tenant_id = $1),
    (SELECT count(*) FROM api_keys WHERE tenant_id = $1)`, d.TenantID).Scan(&d.Events, &d.Entities, &d.Envelopes, &d.Keys)
		if err != nil || dryRun {
			return err
		}
		for _, table := range tenantTables {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1`, d.TenantID); err != nil {
				return fmt.Errorf("delete from %s: %w", table, err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM import_checkpoints WHERE sink = $1`, "tenant:"+name); err != nil {
			return fmt.Errorf("delete import checkpoints: %w", err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, d.TenantID)
		return err
	})
	if !dryRun {
		s.keys.changed() // this node at once; others when notified
	}
	if err != nil {
		return TenantDeletion{}, translate(fmt.Errorf("delete tenant: %w", err))
	}
	return d, nil
}
