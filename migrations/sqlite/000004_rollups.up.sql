-- Roll-ups (store/rollup.go; the PostgreSQL migration 6 explains them).
-- Positions are seq alone: insert order is commit order here.
CREATE TABLE rollup_positions (
    tenant_id INTEGER NOT NULL PRIMARY KEY REFERENCES tenants (id),
    seq       INTEGER NOT NULL
);

CREATE TABLE rollup_hourly (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    bucket    INTEGER NOT NULL,
    action    TEXT    NOT NULL,
    type      TEXT    NOT NULL,
    profile   TEXT    NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, bucket, action, type, profile)
) WITHOUT ROWID;

CREATE TABLE rollup_daily (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    bucket    INTEGER NOT NULL,
    action    TEXT    NOT NULL,
    type      TEXT    NOT NULL,
    profile   TEXT    NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, bucket, action, type, profile)
) WITHOUT ROWID;

CREATE TABLE rollup_actors (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    bucket    INTEGER NOT NULL,
    course    TEXT    NOT NULL,
    sketch    BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, course, bucket)
) WITHOUT ROWID;
