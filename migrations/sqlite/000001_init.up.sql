-- The embedded store: the same tables as PostgreSQL (docs/schema.md), in SQLite's types.
-- Times are integer microseconds since 1970-01-01 UTC; event ids 16-byte blobs;
-- JSON is kept as the text that was sent.
CREATE TABLE tenants (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    label      TEXT    NOT NULL DEFAULT '',
    scopes     TEXT    NOT NULL, -- comma-separated
    token_hash BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE envelopes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    sensor       TEXT    NOT NULL,
    send_time    INTEGER NOT NULL,
    data_version TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    api_key_id   INTEGER REFERENCES api_keys (id),
    item_count   INTEGER NOT NULL,
    skeleton     TEXT
);
CREATE INDEX envelopes_tenant_sensor_idx ON envelopes (tenant_id, sensor);

-- seq is the rowid: SQLite runs one writer at a time, so insert order is
-- commit order and paging by seq is exact for incremental sync.
-- AUTOINCREMENT: a seq is never reused, even after deletes.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    id          BLOB    NOT NULL,
    envelope_id INTEGER NOT NULL REFERENCES envelopes (id),
    type        TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    actor_id    TEXT,
    object_id   TEXT,
    object_type TEXT,
    group_id    TEXT,
    session_id  TEXT,
    edapp_id    TEXT,
    profile     TEXT,
    event_time  INTEGER NOT NULL,
    stored_at   INTEGER NOT NULL,
    data        TEXT    NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX events_tenant_seq_idx ON events (tenant_id, seq);
CREATE INDEX events_tenant_time_idx ON events (tenant_id, event_time);
CREATE INDEX events_tenant_actor_idx ON events (tenant_id, actor_id, seq);
CREATE INDEX events_tenant_object_idx ON events (tenant_id, object_id, seq);
CREATE INDEX events_tenant_group_idx ON events (tenant_id, group_id, seq);
CREATE INDEX events_tenant_action_idx ON events (tenant_id, action, seq);
CREATE INDEX events_envelope_idx ON events (envelope_id);

CREATE TABLE entities (
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    id          TEXT    NOT NULL,
    type        TEXT,
    envelope_id INTEGER NOT NULL REFERENCES envelopes (id),
    first_seen  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX entities_envelope_idx ON entities (envelope_id);
