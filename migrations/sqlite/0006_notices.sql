-- loket schema: department notices and status-notice letters (SQLite). Times are Unix ms (UTC).

-- A case arrived in a department's queue (sorted there, or re-routed there by an officer): it is
-- announced to the department's address once, by its own mail (`each`) or in the day's digest.
CREATE TABLE department_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    department TEXT NOT NULL,
    routed_at INTEGER NOT NULL,
    state TEXT NOT NULL,                  -- new | waiting | mailed | digested | skipped
    detail TEXT,                          -- why it was skipped
    outbox_id INTEGER,                    -- `each`: its mail
    digest_id INTEGER                     -- `digest`: the digest that listed it
);
CREATE UNIQUE INDEX department_notices_once ON department_notices(case_id, department);
CREATE INDEX department_notices_pending ON department_notices(department, state);

-- The digest mail: exactly one per department and office day, across every worker (the unique
-- key). Not about one case, so not in `outbox` (whose rows belong to a case).
CREATE TABLE notice_digests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    department TEXT NOT NULL,
    day TEXT NOT NULL,                    -- office-local date, YYYY-MM-DD
    state TEXT NOT NULL,                  -- pending | sent | failed | empty | skipped
    cases INTEGER NOT NULL DEFAULT 0,
    to_addr TEXT,
    subject TEXT,
    body TEXT,
    message_id TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    error TEXT
);
CREATE UNIQUE INDEX notice_digests_once ON notice_digests(department, day);
CREATE INDEX notice_digests_message_id ON notice_digests(message_id);

-- Loket's own mail coming back into a watched mailbox is recognised by its Message-ID.
CREATE INDEX outbox_message_id ON outbox(message_id);

-- Status-notice letters (purpose `status:<key>`) carry the new status and the officer's note.
ALTER TABLE letters ADD COLUMN status TEXT;
ALTER TABLE letters ADD COLUMN note TEXT;
