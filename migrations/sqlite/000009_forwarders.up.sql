-- Forwarders (docs/forwarding.md): each pushes a tenant's events, in stored
-- order, to one receiver. The events table is the queue: a forwarder keeps
-- only its position in it (the last event acknowledged or skipped by its
-- filter), written after each acknowledged batch. One node delivers for a
-- forwarder at a time: the one whose lease (lease_owner, lease_until) is
-- current. Times are unix microseconds, as in the embedded store, so that
-- one set of statements serves both (store/forward.go); leases compare them
-- with the nodes' clocks.
CREATE TABLE forwarders (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    filter          TEXT    NOT NULL,
    credentials     BLOB,  -- sealed with the forwarder key (forward/seal.go); never returned
    batch_size      INTEGER NOT NULL,
    max_wait_us     INTEGER NOT NULL,
    on_reject       TEXT    NOT NULL,
    paused          INTEGER NOT NULL DEFAULT 0,
    pos_tx          INTEGER NOT NULL DEFAULT 0,
    pos_seq         INTEGER NOT NULL DEFAULT 0,
    delivered       INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_success_at INTEGER NOT NULL DEFAULT 0,
    last_error_at   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX forwarders_tenant_idx ON forwarders (tenant_id);

-- A batch the receiver refused for good (a 4xx other than 408 and 429): the
-- events after after_* up to last_* that the forwarder's filter selects,
-- and the receiver's answer. The events themselves stay in the events
-- table (an erased event is not sent again on replay).
CREATE TABLE forwarder_dead_letters (
    id                  INTEGER PRIMARY KEY,
    forwarder_id        INTEGER NOT NULL REFERENCES forwarders (id) ON DELETE CASCADE,
    after_tx            INTEGER NOT NULL,
    after_seq           INTEGER NOT NULL,
    last_tx             INTEGER NOT NULL,
    last_seq            INTEGER NOT NULL,
    events              INTEGER NOT NULL,
    status              INTEGER NOT NULL,
    response            TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    replay_requested_at INTEGER NOT NULL DEFAULT 0,
    replayed_at         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX forwarder_dead_letters_forwarder_idx ON forwarder_dead_letters (forwarder_id);
