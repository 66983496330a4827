-- Keys over the API (docs/api.md): an optional expiry, checked on every
-- request, and when a key was last used, written in batches off the
-- request path (store/keys_api.go). Unix microseconds.
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
