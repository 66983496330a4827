-- Values a database keeps for itself, such as the key that makes envelope
-- ids opaque (created by lrs on first use).
CREATE TABLE settings (
    name  text  PRIMARY KEY,
    value bytea NOT NULL
);
