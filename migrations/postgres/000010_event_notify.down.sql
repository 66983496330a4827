DROP TRIGGER events_notify ON events;
DROP FUNCTION lrs_notify_events();
