-- Tenants own every row that holds learner data; nothing is queried across them.
CREATE TABLE tenants (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- API keys: only a SHA-256 of the token is kept. Tokens are 256-bit random values,
-- so a fast hash is enough and lets a request be authenticated with one index lookup.
CREATE TABLE api_keys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  bigint      NOT NULL REFERENCES tenants (id),
    label      text        NOT NULL DEFAULT '',
    scopes     text[]      NOT NULL,
    token_hash bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- One row per accepted envelope: the metadata it came with.
CREATE TABLE envelopes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    bigint      NOT NULL REFERENCES tenants (id),
    sensor       text        NOT NULL,
    send_time    timestamptz NOT NULL,
    data_version text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    api_key_id   bigint      REFERENCES api_keys (id),
    item_count   integer     NOT NULL
);
CREATE INDEX envelopes_tenant_received_idx ON envelopes (tenant_id, received_at);

-- Events: the full JSON as sent, plus the columns queries filter on.
-- Column-by-column documentation: docs/schema.md.
CREATE TABLE events (
    tenant_id   bigint      NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL,
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    envelope_id bigint      NOT NULL REFERENCES envelopes (id),
    type        text        NOT NULL,
    action      text        NOT NULL,
    actor_id    text,
    object_id   text,
    object_type text,
    group_id    text,
    session_id  text,
    edapp_id    text,
    profile     text,
    event_time  timestamptz NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    data        jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX events_tenant_seq_idx ON events (tenant_id, seq);
CREATE INDEX events_tenant_time_idx ON events (tenant_id, event_time);
CREATE INDEX events_tenant_actor_time_idx ON events (tenant_id, actor_id, event_time);
CREATE INDEX events_tenant_object_time_idx ON events (tenant_id, object_id, event_time);
CREATE INDEX events_tenant_group_time_idx ON events (tenant_id, group_id, event_time);
CREATE INDEX events_tenant_action_time_idx ON events (tenant_id, action, event_time);
CREATE INDEX events_envelope_idx ON events (envelope_id);

-- Entities sent as "describes": upserted by id, so the row is the latest description.
-- A bare IRI item has a NULL type and never replaces a full description.
CREATE TABLE entities (
    tenant_id   bigint      NOT NULL REFERENCES tenants (id),
    id          text        NOT NULL,
    type        text,
    envelope_id bigint      NOT NULL REFERENCES envelopes (id),
    first_seen  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    data        jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX entities_envelope_idx ON entities (envelope_id);
