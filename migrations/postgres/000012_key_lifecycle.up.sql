-- Keys over the API (docs/api.md): an optional expiry, checked on every
-- request, and when a key was last used, written in batches off the
-- request path (store/keys_api.go).
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;

-- last_used_at changes all the time and is nothing a key cache holds: its
-- updates must not empty every node's cache (migration 5). Any other change
-- still notifies, columns added later included.
DROP TRIGGER api_keys_notify_update ON api_keys;
CREATE TRIGGER api_keys_notify_update AFTER UPDATE ON api_keys
    FOR EACH ROW WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
    EXECUTE FUNCTION lrs_notify_keys();
