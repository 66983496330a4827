-- Stored order for the read API: the id of the transaction that stored a row,
-- then its sequence number. Paging in this order up to the oldest transaction
-- still running (pg_snapshot_xmin) never skips a transaction that commits late.
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();

-- Indexes in (filter, stored order), so that every page is one index range scan
-- whatever its depth. They replace the (filter, event_time) indexes.
DROP INDEX events_tenant_actor_time_idx;
DROP INDEX events_tenant_object_time_idx;
DROP INDEX events_tenant_group_time_idx;
DROP INDEX events_tenant_action_time_idx;
CREATE INDEX events_tenant_stored_idx ON events (tenant_id, tx, seq);
CREATE INDEX events_tenant_actor_stored_idx ON events (tenant_id, actor_id, tx, seq);
CREATE INDEX events_tenant_object_stored_idx ON events (tenant_id, object_id, tx, seq);
CREATE INDEX events_tenant_group_stored_idx ON events (tenant_id, group_id, tx, seq);
CREATE INDEX events_tenant_action_stored_idx ON events (tenant_id, action, tx, seq);

-- The envelope as received, without repeating its events: each event item is
-- replaced by {"$event": "<uuid>"} (the stored event with that id has, by the
-- duplicate rule, exactly the content that was sent); entities stay as sent,
-- since the entities table keeps only their latest description.
ALTER TABLE envelopes ADD COLUMN skeleton jsonb;
CREATE INDEX envelopes_tenant_sensor_idx ON envelopes (tenant_id, sensor);
