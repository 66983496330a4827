-- The live stream (GET /api/v1/stream) wakes on commit instead of polling:
-- every statement that inserts into events notifies channel lrs_events, and
-- PostgreSQL delivers the notification to every listening node when (and
-- only if) the transaction commits. One notification per transaction
-- whatever its size: identical notifications of a transaction are merged.
CREATE FUNCTION lrs_notify_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lrs_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION lrs_notify_events();
