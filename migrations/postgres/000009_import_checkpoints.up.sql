-- How far `lrs import --follow` has stored each tracking log: a log is named
-- by the hash of its first line, which survives a rename, a copy and
-- compression, so a follower restarted (or killed) resumes where its last
-- stored batch ended. One row per log and sink (a tenant or an endpoint).
CREATE TABLE import_checkpoints (
    sink            text        NOT NULL,
    first_line_hash text        NOT NULL,
    source          text        NOT NULL,
    inode           bigint      NOT NULL,
    byte_offset     bigint      NOT NULL,
    line            bigint      NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (sink, first_line_hash)
);
