package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// writeKeyUse stores when keys were last used, never moving a time back.
func (s *SQLite) writeKeyUse(ctx context.Context, at map[int64]time.Time) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for id, t := range at {
			if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?`, micros(t), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// FlushKeyUse writes the last-used times this store holds now (they are
// otherwise written every keyUseEvery, and at Close).
func (s *SQLite) FlushKeyUse(ctx context.Context) error { return s.use.flushNow(ctx) }

// Tenants lists every tenant, oldest first, with its number of live keys.
func (s *SQLite) Tenants(ctx context.Context) ([]Tenant, error) {
	rows, err := s.r.QueryContext(ctx, `
SELECT t.id, t.name, t.created_at,
    count(k.id) FILTER (WHERE k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?))
FROM tenants t
LEFT JOIN api_keys k ON k.tenant_id = t.id
GROUP BY t.id
ORDER BY t.id`, micros(time.Now()))
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("list tenants: %w", err))
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		var t Tenant
		var created int64
		if err := rows.Scan(&t.ID, &t.Name, &created, &t.LiveKeys); err != nil {
			return nil, translateSQLite(fmt.Errorf("list tenants: %w", err))
		}
		t.CreatedAt = fromMicros(created)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, translateSQLite(fmt.Errorf("list tenants: %w", err))
	}
	return out, nil
}

// CreateTenant creates the tenant called name; ErrConflict if it exists.
func (s *SQLite) CreateTenant(ctx context.Context, name string) (Tenant, error) {
	t := Tenant{Name: name, CreatedAt: fromMicros(micros(time.Now()))}
	err := s.w.QueryRowContext(ctx, `INSERT INTO tenants (name, created_at) VALUES (?, ?) RETURNING id`, name, micros(t.CreatedAt)).Scan(&t.ID)
	if err != nil {
		return Tenant{}, translateSQLite(fmt.Errorf("create tenant %q: %w", name, err))
	}
	return t, nil
}

// DeleteTenant deletes the tenant called name and everything it holds, in
// one transaction, and counts what went; with dryRun it only counts.
// ErrNotFound if there is no such tenant.
func (s *SQLite) DeleteTenant(ctx context.Context, name string, dryRun bool) (TenantDeletion, error) {
	var d TenantDeletion
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM tenants WHERE name = ?`, name).Scan(&d.TenantID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("tenant %q: %w", name, ErrNotFound)
			}
			return err
		}
		err := tx.QueryRowContext(ctx, `
SELECT
    (SELECT count(*) FROM events WHERE tenant_id = ?1),
    (SELECT count(*) FROM entities WHERE tenant_id = ?1),
    (SELECT count(*) FROM envelopes WHERE tenant_id = ?1),
    (SELECT count(*) FROM api_keys WHERE tenant_id = ?1)`, d.TenantID).Scan(&d.Events, &d.Entities, &d.Envelopes, &d.Keys)
		if err != nil || dryRun {
			return err
		}
		for _, table := range tenantTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = ?`, d.TenantID); err != nil {
				return fmt.Errorf("delete from %s: %w", table, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM import_checkpoints WHERE sink = ?`, "tenant:"+name); err != nil {
			return fmt.Errorf("delete import checkpoints: %w", err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM tenants WHERE id = ?`, d.TenantID)
		return err
	})
	if err != nil {
		return TenantDeletion{}, translateSQLite(fmt.Errorf("delete tenant: %w", err))
	}
	return d, nil
}
