DROP TRIGGER IF EXISTS tenants_notify_truncate ON tenants;
DROP TRIGGER IF EXISTS tenants_notify_delete ON tenants;
DROP TRIGGER IF EXISTS tenants_notify_update ON tenants;
DROP TRIGGER IF EXISTS api_keys_notify_truncate ON api_keys;
DROP TRIGGER IF EXISTS api_keys_notify_delete ON api_keys;
DROP TRIGGER IF EXISTS api_keys_notify_update ON api_keys;
DROP FUNCTION IF EXISTS lrs_notify_keys();
