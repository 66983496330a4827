package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ensureTenantSQL's no-op update makes RETURNING work for an existing
// tenant; it does not notify key caches (migration 5 ignores updates that
// change nothing).
const ensureTenantSQL = `
INSERT INTO tenants (name) VALUES ($1)
ON CONFLICT (name) DO UPDATE SET name = excluded.name
RETURNING id`

// CreateKey creates an API key for tenant (creating the tenant on first use)
// and returns it with its token, which is not kept and cannot be shown again.
func (s *Postgres) CreateKey(ctx context.Context, tenant, label string, scopes []string) (Key, string, error) {
	return s.IssueKey(ctx, KeySpec{Tenant: tenant, Label: label, Scopes: scopes})
}

// IssueKey creates the key spec describes (creating its tenant on first use)
// and returns it with its token, which is not kept and cannot be shown again.
func (s *Postgres) IssueKey(ctx context.Context, spec KeySpec) (Key, string, error) {
	token, err := NewToken()
	if err != nil {
		return Key{}, "", err
	}
	k := Key{Tenant: spec.Tenant, Label: spec.Label, Scopes: spec.Scopes, ExpiresAt: spec.ExpiresAt, RateLimit: spec.RateLimit}
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, ensureTenantSQL, spec.Tenant).Scan(&k.TenantID); err != nil {
			return fmt.Errorf("ensure tenant: %w", err)
		}
		return tx.QueryRow(ctx, `
INSERT INTO api_keys (tenant_id, label, scopes, token_hash, expires_at, rate_limit)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, created_at`, k.TenantID, spec.Label, spec.Scopes, HashToken(token), spec.ExpiresAt, spec.RateLimit).Scan(&k.ID, &k.CreatedAt)
	})
	if err != nil {
		return Key{}, "", translate(fmt.Errorf("create key: %w", err))
	}
	return k, token, nil
}

const selectKeySQL = `
SELECT
    k.id,
    k.tenant_id,
    t.name,
    k.label,
    k.scopes,
    k.created_at,
    k.revoked_at,
    k.rate_limit,
    k.expires_at,
    k.last_used_at
FROM api_keys k
JOIN tenants t ON t.id = k.tenant_id`

func scanKey(row pgx.Row) (Key, error) {
	var k Key
	err := row.Scan(&k.ID, &k.TenantID, &k.Tenant, &k.Label, &k.Scopes, &k.CreatedAt, &k.RevokedAt, &k.RateLimit, &k.ExpiresAt, &k.LastUsedAt)
	return k, translate(err)
}

// KeyByToken returns the live (not revoked, not expired) key for token, or
// ErrNotFound, and notes that it was used. Keys are cached on each node
// while changes are notified (see postgres_keycache.go); expiry is checked
// on every lookup, cached or not.
func (s *Postgres) KeyByToken(ctx context.Context, token string) (Key, error) {
	k, err := s.cachedKeyByToken(ctx, token, s.keyByHash)
	if err != nil {
		return Key{}, err
	}
	now := time.Now()
	if k.Expired(now) {
		return Key{}, fmt.Errorf("key %d expired: %w", k.ID, ErrNotFound)
	}
	s.use.record(k.ID, now)
	return k, nil
}

func (s *Postgres) keyByHash(ctx context.Context, hash []byte) (Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, selectKeySQL+`
WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`, hash))
	if err != nil {
		return Key{}, translate(fmt.Errorf("key by token: %w", err))
	}
	return k, nil
}

// ListKeys returns every key, revoked ones included, oldest first.
func (s *Postgres) ListKeys(ctx context.Context) ([]Key, error) {
	rows, err := s.pool.Query(ctx, selectKeySQL+` ORDER BY k.id`)
	if err != nil {
		return nil, translate(fmt.Errorf("list keys: %w", err))
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Key, error) { return scanKey(row) })
	if err != nil {
		return nil, translate(fmt.Errorf("list keys: %w", err))
	}
	withUnwritten(keys, s.use.unwritten())
	return keys, nil
}

// RevokeKey revokes key id; revoking twice is not an error. ErrNotFound if no such key.
func (s *Postgres) RevokeKey(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, id)
	if err != nil {
		return translate(fmt.Errorf("revoke key: %w", err))
	}
	s.keys.changed() // this node at once; others when notified
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke key %d: %w", id, ErrNotFound)
	}
	return nil
}

// EnsureTenant returns the id of the tenant called name, creating it if need be.
func (s *Postgres) EnsureTenant(ctx context.Context, name string) (int64, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, ensureTenantSQL, name).Scan(&id); err != nil {
		return 0, translate(fmt.Errorf("ensure tenant: %w", err))
	}
	return id, nil
}
