DROP INDEX IF EXISTS events_tenant_group_event_time_idx;
