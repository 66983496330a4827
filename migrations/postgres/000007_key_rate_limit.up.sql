-- A key's own ingest rate limit in events per second (lrs keys create
-- --rate-limit N): NULL takes the server's --rate-limit, 0 means no limit.
ALTER TABLE api_keys ADD COLUMN rate_limit double precision CHECK (rate_limit >= 0);
