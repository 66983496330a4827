-- Per-course time queries (stats by day or hour for a course, a course's
-- events in a time range) read this index alone: with the visibility map set
-- by autovacuum they never touch the table.
CREATE INDEX events_tenant_group_event_time_idx ON events (tenant_id, group_id, event_time);
