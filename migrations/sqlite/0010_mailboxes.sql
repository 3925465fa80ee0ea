-- loket schema: several mailboxes (SQLite). Times are Unix ms (UTC).

-- The `kind` of the mailbox a message came from ([[mailbox]] kind = "complaint" for
-- pengaduan@): its case is of that kind unless the rules know better. NULL: no such default.
ALTER TABLE messages ADD COLUMN mailbox_kind TEXT;
-- A case's messages (its first one decides the mailbox default).
CREATE INDEX messages_case ON messages(case_id);
-- (Wake-ups: SQLite has no notifications; workers in one process wake each other, others
-- poll every worker.poll_seconds.)
