-- The live stream's wake-up moves out of the ingest transaction: lrs sends
-- NOTIFY lrs_events itself after its commits, one at a time, so that
-- commits made meanwhile share one. Inside every transaction (migration
-- 10) NOTIFY serialised the commits and cost a third of them per second.
DROP TRIGGER events_notify ON events;
DROP FUNCTION lrs_notify_events();
