package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// EnsureTenant returns the id of the tenant called name, creating it if need be.
func (s *SQLite) EnsureTenant(ctx context.Context, name string) (int64, error) {
	var id int64
	err := s.w.QueryRowContext(ctx, `
INSERT INTO tenants (name, created_at) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET name = excluded.name
RETURNING id`, name, micros(time.Now())).Scan(&id)
	if err != nil {
		return 0, translateSQLite(fmt.Errorf("ensure tenant: %w", err))
	}
	return id, nil
}

// CreateKey creates an API key for tenant, creating the tenant on first use.
func (s *SQLite) CreateKey(ctx context.Context, tenant, label string, scopes []string) (Key, string, error) {
	return s.IssueKey(ctx, KeySpec{Tenant: tenant, Label: label, Scopes: scopes})
}

// IssueKey creates the key spec describes (creating its tenant on first use)
// and returns it with its token, which is not kept and cannot be shown again.
func (s *SQLite) IssueKey(ctx context.Context, spec KeySpec) (Key, string, error) {
	token, err := NewToken()
	if err != nil {
		return Key{}, "", err
	}
	k := Key{Tenant: spec.Tenant, Label: spec.Label, Scopes: spec.Scopes, RateLimit: spec.RateLimit}
	var expires any
	if spec.ExpiresAt != nil {
		at := fromMicros(micros(*spec.ExpiresAt))
		k.ExpiresAt, expires = &at, micros(at)
	}
	now := time.Now()
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `
INSERT INTO tenants (name, created_at) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET name = excluded.name
RETURNING id`, spec.Tenant, micros(now)).Scan(&k.TenantID); err != nil {
			return fmt.Errorf("ensure tenant: %w", err)
		}
		return tx.QueryRowContext(ctx, `
INSERT INTO api_keys (tenant_id, label, scopes, token_hash, created_at, expires_at, rate_limit) VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING id`, k.TenantID, spec.Label, strings.Join(spec.Scopes, ","), HashToken(token), micros(now), expires, spec.RateLimit).Scan(&k.ID)
	})
	if err != nil {
		return Key{}, "", translateSQLite(fmt.Errorf("create key: %w", err))
	}
	k.CreatedAt = fromMicros(micros(now))
	return k, token, nil
}

const sqliteKeySQL = `
SELECT k.id, k.tenant_id, t.name, k.label, k.scopes, k.created_at, k.revoked_at, k.rate_limit, k.expires_at, k.last_used_at
FROM api_keys k JOIN tenants t ON t.id = k.tenant_id`

func scanSQLiteKey(scan func(...any) error) (Key, error) {
	var (
		k       Key
		scopes  string
		created int64
		revoked sql.NullInt64
		limit   sql.NullFloat64
		expires sql.NullInt64
		used    sql.NullInt64
	)
	if err := scan(&k.ID, &k.TenantID, &k.Tenant, &k.Label, &scopes, &created, &revoked, &limit, &expires, &used); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Key{}, ErrNotFound
		}
		return Key{}, err
	}
	k.Scopes = strings.Split(scopes, ",")
	k.CreatedAt = fromMicros(created)
	if limit.Valid {
		k.RateLimit = &limit.Float64
	}
	k.RevokedAt, k.ExpiresAt, k.LastUsedAt = microsPtr(revoked), microsPtr(expires), microsPtr(used)
	return k, nil
}

// microsPtr reads a nullable time column.
func microsPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// KeyByToken returns the live (not revoked, not expired) key for token, or
// ErrNotFound, and notes that it was used.
func (s *SQLite) KeyByToken(ctx context.Context, token string) (Key, error) {
	now := time.Now()
	k, err := scanSQLiteKey(s.rstmts.queryRow(ctx, s.r, sqliteKeySQL+`
WHERE k.token_hash = ? AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)`, HashToken(token), micros(now)).Scan)
	if err != nil {
		return Key{}, translateSQLite(fmt.Errorf("key by token: %w", err))
	}
	s.use.record(k.ID, now)
	return k, nil
}

// ListKeys returns every key, oldest first.
func (s *SQLite) ListKeys(ctx context.Context) ([]Key, error) {
	rows, err := s.r.QueryContext(ctx, sqliteKeySQL+` ORDER BY k.id`)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("list keys: %w", err))
	}
	defer rows.Close()
	var keys []Key
	for rows.Next() {
		k, err := scanSQLiteKey(rows.Scan)
		if err != nil {
			return nil, translateSQLite(fmt.Errorf("list keys: %w", err))
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, translateSQLite(fmt.Errorf("list keys: %w", err))
	}
	withUnwritten(keys, s.use.unwritten())
	return keys, nil
}

// RevokeKey revokes key id; ErrNotFound if there is none.
func (s *SQLite) RevokeKey(ctx context.Context, id int64) error {
	r, err := s.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micros(time.Now()), id)
	if err != nil {
		return translateSQLite(fmt.Errorf("revoke key: %w", err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke key %d: %w", id, ErrNotFound)
	}
	return nil
}

// KeyCacheStats: the embedded store has no key cache (a lookup is a local
// index probe), so it is always off.
func (s *SQLite) KeyCacheStats() KeyCacheStats { return KeyCacheStats{} }
