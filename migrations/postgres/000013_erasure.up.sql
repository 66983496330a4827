-- Erasure of one actor (store/erase.go, docs/privacy.md).

-- An erasure changes a tenant's roll-ups up to the worker's position and
-- bumps generation; the worker's compare-and-set includes it, so that a
-- batch it read before the erasure is never added after it.
ALTER TABLE rollup_positions ADD COLUMN generation bigint NOT NULL DEFAULT 0;

-- One row per erasure: when, by which key (NULL: the command line), what
-- it counted, and a keyed hash of the erased id (never the id). No
-- reference to tenants: the record outlives a deleted tenant.
CREATE TABLE erasures (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    tenant_id    bigint      NOT NULL,
    api_key_id   bigint,
    kind         text        NOT NULL,
    subject      text        NOT NULL,
    counts       jsonb       NOT NULL,
    completed_at timestamptz -- NULL while its sweep runs
);
CREATE INDEX erasures_tenant_at_idx ON erasures (tenant_id, at);

-- The rest of an erasure, done in the background in short transactions:
-- occurrences of the id that no index finds (group members, graders,
-- extensions, envelope items) in the rows stored before the erasure, and
-- the actor sketches to rebuild. The id is kept here, and only here, until
-- the sweep ends; then the row goes.
CREATE TABLE erasure_sweeps (
    erasure_id         bigint NOT NULL PRIMARY KEY REFERENCES erasures (id) ON DELETE CASCADE,
    tenant_id          bigint NOT NULL,
    iri                text   NOT NULL,
    events_through     bigint NOT NULL, -- sweep events with seq <= this
    events_at          bigint NOT NULL DEFAULT 0, -- swept up to this seq
    envelopes_through  bigint NOT NULL,
    envelopes_at       bigint NOT NULL DEFAULT 0,
    sketches           jsonb  NOT NULL DEFAULT '[]', -- [{"day": …, "course": …}] to rebuild
    events_redacted    bigint NOT NULL DEFAULT 0,
    envelopes_redacted bigint NOT NULL DEFAULT 0
);
