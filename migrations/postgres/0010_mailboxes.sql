-- loket schema: several mailboxes, and wake-ups (PostgreSQL). Times are Unix ms (UTC).

-- The `kind` of the mailbox a message came from ([[mailbox]] kind = "complaint" for
-- pengaduan@): its case is of that kind unless the rules know better. NULL: no such default.
ALTER TABLE messages ADD COLUMN mailbox_kind TEXT;
-- A case's messages (its first one decides the mailbox default).
CREATE INDEX messages_case ON messages(case_id);

-- Wake-ups: every job that becomes due to run now is announced on channel `loket_jobs`, so
-- idle workers in every process (LISTEN loket_jobs) take it at once instead of at their next
-- poll. NOTIFY is delivered when the enqueuing transaction commits, and notifications with the
-- same payload in one transaction are folded into one, so a batch of 50 messages is one
-- wake-up. Polling stays: a worker that missed one (reconnecting) finds the job anyway.
CREATE FUNCTION loket_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('loket_jobs', NEW.kind);
    RETURN NULL;
END;
$$;
-- The payload is the job's kind: `move` jobs wake the mailbox's watcher, the others the job
-- runners; `letter` jobs wait for `loket letters` and wake nobody.
CREATE TRIGGER jobs_enqueued AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.state = 'pending' AND NEW.kind <> 'letter')
    EXECUTE FUNCTION loket_notify_jobs();
-- A finished or parked job queued again (more documents came, an officer retried it).
CREATE TRIGGER jobs_queued_again AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'pending' AND OLD.state IN ('done', 'parked')
                       AND NEW.kind <> 'letter')
    EXECUTE FUNCTION loket_notify_jobs();
