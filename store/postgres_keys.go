package store

import (
	"context"
	"fmt"

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
	token, err := NewToken()
	if err != nil {
		return Key{}, "", err
	}
	k := Key{Tenant: tenant, Label: label, Scopes: scopes}
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, ensureTenantSQL, tenant).Scan(&k.TenantID); err != nil {
			return fmt.Errorf("ensure tenant: %w", err)
		}
		return tx.QueryRow(ctx, `
INSERT INTO api_keys (tenant_id, label, scopes, token_hash)
VALUES ($1, $2, $3, $4)
RETURNING id, created_at`, k.TenantID, label, scopes, HashToken(token)).Scan(&k.ID, &k.CreatedAt)
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
    k.rate_limit
FROM api_keys k
JOIN tenants t ON t.id = k.tenant_id`

func scanKey(row pgx.Row) (Key, error) {
	var k Key
	err := row.Scan(&k.ID, &k.TenantID, &k.Tenant, &k.Label, &k.Scopes, &k.CreatedAt, &k.RevokedAt, &k.RateLimit)
	return k, translate(err)
}

// KeyByToken returns the live (not revoked) key for token, or ErrNotFound.
// Keys are cached on each node while changes are notified (see
// postgres_keycache.go).
func (s *Postgres) KeyByToken(ctx context.Context, token string) (Key, error) {
	return s.cachedKeyByToken(ctx, token, s.keyByHash)
}

func (s *Postgres) keyByHash(ctx context.Context, hash []byte) (Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, selectKeySQL+`
WHERE k.token_hash = $1 AND k.revoked_at IS NULL`, hash))
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
