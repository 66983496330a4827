-- Roll-ups: event counts and sketches of distinct actors, kept by a worker
-- that consumes each tenant's events in stored order (store/rollup.go). A
-- tenant's roll-ups hold exactly its events up to its position; stats add a
-- scan of the events after it, so answers are exact at any moment.
CREATE TABLE rollup_positions (
    tenant_id bigint NOT NULL PRIMARY KEY REFERENCES tenants (id),
    tx        xid8   NOT NULL,
    seq       bigint NOT NULL
);

-- bucket: the UTC hour (rollup_hourly) or day (rollup_daily) of event time.
-- profile: '' for events without one.
CREATE TABLE rollup_hourly (
    tenant_id bigint      NOT NULL REFERENCES tenants (id),
    bucket    timestamptz NOT NULL,
    action    text        NOT NULL,
    type      text        NOT NULL,
    profile   text        NOT NULL,
    count     bigint      NOT NULL,
    PRIMARY KEY (tenant_id, bucket, action, type, profile)
);
CREATE TABLE rollup_daily (LIKE rollup_hourly INCLUDING ALL);
ALTER TABLE rollup_daily ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id);

-- HyperLogLog sketches (internal/hll) of the actors of each UTC day, for the
-- whole tenant (course '') and for each course.
CREATE TABLE rollup_actors (
    tenant_id bigint      NOT NULL REFERENCES tenants (id),
    bucket    timestamptz NOT NULL,
    course    text        NOT NULL,
    sketch    bytea       NOT NULL,
    PRIMARY KEY (tenant_id, course, bucket)
);
