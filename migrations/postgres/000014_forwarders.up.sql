-- Forwarders (docs/forwarding.md): each pushes a tenant's events, in stored
-- order, to one receiver. The events table is the queue: a forwarder keeps
-- only its position in it (the last event acknowledged or skipped by its
-- filter), written after each acknowledged batch. One node delivers for a
-- forwarder at a time: the one whose lease (lease_owner, lease_until) is
-- current. Times are unix microseconds, as in the embedded store, so that
-- one set of statements serves both (store/forward.go); leases compare them
-- with the nodes' clocks.
CREATE TABLE forwarders (
    id              bigserial PRIMARY KEY,
    tenant_id       bigint  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind            text    NOT NULL,
    url             text    NOT NULL,
    filter          text    NOT NULL,
    credentials     bytea,  -- sealed with the forwarder key (forward/seal.go); never returned
    batch_size      integer NOT NULL,
    max_wait_us     bigint  NOT NULL,
    on_reject       text    NOT NULL,
    paused          boolean NOT NULL DEFAULT false,
    pos_tx          bigint  NOT NULL DEFAULT 0,
    pos_seq         bigint  NOT NULL DEFAULT 0,
    delivered       bigint  NOT NULL DEFAULT 0,
    attempts        integer NOT NULL DEFAULT 0,
    last_success_at bigint  NOT NULL DEFAULT 0,
    last_error_at   bigint  NOT NULL DEFAULT 0,
    last_error      text    NOT NULL DEFAULT '',
    lease_owner     text    NOT NULL DEFAULT '',
    lease_until     bigint  NOT NULL DEFAULT 0,
    created_at      bigint  NOT NULL,
    updated_at      bigint  NOT NULL
);
CREATE INDEX forwarders_tenant_idx ON forwarders (tenant_id);

-- A batch the receiver refused for good (a 4xx other than 408 and 429): the
-- events after after_* up to last_* that the forwarder's filter selects,
-- and the receiver's answer. The events themselves stay in the events
-- table (an erased event is not sent again on replay).
CREATE TABLE forwarder_dead_letters (
    id                  bigserial PRIMARY KEY,
    forwarder_id        bigint  NOT NULL REFERENCES forwarders (id) ON DELETE CASCADE,
    after_tx            bigint  NOT NULL,
    after_seq           bigint  NOT NULL,
    last_tx             bigint  NOT NULL,
    last_seq            bigint  NOT NULL,
    events              integer NOT NULL,
    status              integer NOT NULL,
    response            text    NOT NULL,
    created_at          bigint  NOT NULL,
    replay_requested_at bigint  NOT NULL DEFAULT 0,
    replayed_at         bigint  NOT NULL DEFAULT 0
);
CREATE INDEX forwarder_dead_letters_forwarder_idx ON forwarder_dead_letters (forwarder_id);
