-- How far `lrs import --follow` has stored each tracking log: a log is named
-- by the hash of its first line, which survives a rename, a copy and
-- compression, so a follower restarted (or killed) resumes where its last
-- stored batch ended. One row per log and sink (a tenant or an endpoint).
CREATE TABLE import_checkpoints (
    sink            TEXT        NOT NULL,
    first_line_hash TEXT        NOT NULL,
    source          TEXT        NOT NULL,
    inode           INTEGER     NOT NULL,
    byte_offset     INTEGER     NOT NULL,
    line            INTEGER     NOT NULL,
    updated_at      INTEGER     NOT NULL, -- unix microseconds
    PRIMARY KEY (sink, first_line_hash)
);
