-- loket schema: conversations by email (SQLite). Times are Unix ms (UTC).

-- Codes of other cases that a message quoted without belonging to them (a stranger quoting a
-- code gets a case of their own): a JSON array of tracking codes, for triage.
ALTER TABLE cases ADD COLUMN mentions TEXT;

-- Which message brought a document, so a follow-up acknowledgement lists what arrived in it.
ALTER TABLE documents ADD COLUMN message_id INTEGER;

-- Files of a message that its case already had (the same files sent again): a JSON array of
-- names, so the message's acknowledgement can say they were received before.
ALTER TABLE messages ADD COLUMN repeated_files TEXT;

-- When the applicant last wrote to an open case (a reply, more documents): the desk shows the case
-- as having news until an officer opens it.
ALTER TABLE cases ADD COLUMN news_at INTEGER;

-- The text of each incoming email (capped), so the desk's thread shows every message, not only
-- the first (whose text is also the case's body).
ALTER TABLE messages ADD COLUMN body TEXT;

-- Addresses a permanent bounce said do not exist (or refuse mail). A later message from the
-- address clears the mark.
CREATE TABLE undeliverable (
    address TEXT PRIMARY KEY,             -- lower-case
    status TEXT,                          -- enhanced status code, 5.1.1
    diagnostic TEXT,                      -- the remote server's words
    bounce_message INTEGER,               -- messages.id of the bounce
    outbox_id INTEGER,                    -- the mail that bounced
    marked_at INTEGER NOT NULL
);

-- Answers to status questions from strangers belong to no case: outbox.case_id becomes
-- nullable (SQLite cannot drop NOT NULL, so the table is rebuilt), and such rows are unique per
-- purpose.
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER REFERENCES cases(id), -- NULL: an answer that belongs to no case
    purpose TEXT NOT NULL,                -- ack:<message> | status-answer:<message> | ...
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    message_id TEXT NOT NULL,
    in_reply_to TEXT,
    references_ids TEXT,
    state TEXT NOT NULL,                  -- pending | sent | failed | held | combined
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    error TEXT
);
INSERT INTO outbox_new (id, case_id, purpose, to_addr, subject, body, message_id, in_reply_to,
    references_ids, state, created_at, sent_at, error)
SELECT id, case_id, purpose, to_addr, subject, body, message_id, in_reply_to, references_ids,
    state, created_at, sent_at, error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE UNIQUE INDEX outbox_once ON outbox(case_id, purpose);
CREATE UNIQUE INDEX outbox_caseless_once ON outbox(purpose) WHERE case_id IS NULL;
CREATE INDEX outbox_message_id ON outbox(message_id);
