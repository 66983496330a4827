-- Per-course time queries (stats by day or hour for a course) read this index alone.
CREATE INDEX events_tenant_group_event_time_idx ON events (tenant_id, group_id, event_time);
