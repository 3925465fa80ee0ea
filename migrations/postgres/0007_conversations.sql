-- loket schema: conversations by email (PostgreSQL). Times are Unix ms (UTC).

-- Codes of other cases that a message quoted without belonging to them (a stranger quoting a
-- code gets a case of their own): a JSON array of tracking codes, for triage.
ALTER TABLE cases ADD COLUMN mentions TEXT;

-- Which message brought a document, so a follow-up acknowledgement lists what arrived in it.
ALTER TABLE documents ADD COLUMN message_id BIGINT;

-- Files of a message that its case already had (the same files sent again): a JSON array of
-- names, so the message's acknowledgement can say they were received before.
ALTER TABLE messages ADD COLUMN repeated_files TEXT;

-- When the applicant last wrote to an open case (a reply, more documents): the desk shows the case
-- as having news until an officer opens it.
ALTER TABLE cases ADD COLUMN news_at BIGINT;

-- The text of each incoming email (capped), so the desk's thread shows every message, not only
-- the first (whose text is also the case's body).
ALTER TABLE messages ADD COLUMN body TEXT;

-- Addresses a permanent bounce said do not exist (or refuse mail). A later message from the
-- address clears the mark.
CREATE TABLE undeliverable (
    address TEXT PRIMARY KEY,             -- lower-case
    status TEXT,                          -- enhanced status code, 5.1.1
    diagnostic TEXT,                      -- the remote server's words
    bounce_message BIGINT,                -- messages.id of the bounce
    outbox_id BIGINT,                     -- the mail that bounced
    marked_at BIGINT NOT NULL
);

-- Answers to status questions from strangers belong to no case.
ALTER TABLE outbox ALTER COLUMN case_id DROP NOT NULL;
CREATE UNIQUE INDEX outbox_caseless_once ON outbox(purpose) WHERE case_id IS NULL;
