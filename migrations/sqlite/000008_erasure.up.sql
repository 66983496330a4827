-- Erasure (store/erase.go; the PostgreSQL migration 13 explains each table).
ALTER TABLE rollup_positions ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;

CREATE TABLE erasures (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL, -- unix microseconds
    tenant_id    INTEGER NOT NULL,
    api_key_id   INTEGER,
    kind         TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    counts       TEXT    NOT NULL,
    completed_at INTEGER -- NULL while its sweep runs
);
CREATE INDEX erasures_tenant_at_idx ON erasures (tenant_id, at);

CREATE TABLE erasure_sweeps (
    erasure_id         INTEGER NOT NULL PRIMARY KEY REFERENCES erasures (id) ON DELETE CASCADE,
    tenant_id          INTEGER NOT NULL,
    iri                TEXT    NOT NULL,
    events_through     INTEGER NOT NULL,
    events_at          INTEGER NOT NULL DEFAULT 0,
    envelopes_through  INTEGER NOT NULL,
    envelopes_at       INTEGER NOT NULL DEFAULT 0,
    sketches           TEXT    NOT NULL DEFAULT '[]',
    events_redacted    INTEGER NOT NULL DEFAULT 0,
    envelopes_redacted INTEGER NOT NULL DEFAULT 0
);
