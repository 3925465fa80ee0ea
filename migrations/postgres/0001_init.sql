-- loket schema v1 (PostgreSQL). Times are Unix milliseconds (UTC).
CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,                 -- imap | spool | import
    mailbox TEXT,
    uidvalidity BIGINT,
    uid BIGINT,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    truncated BIGINT NOT NULL DEFAULT 0, -- 1: only headers were stored (too big)
    message_id TEXT,                      -- the Message-ID header
    sender TEXT,                          -- where a reply goes (Reply-To, else From)
    subject TEXT,
    references_ids TEXT,                  -- References + Message-ID, for threading the reply
    no_reply TEXT,                        -- why it must not be answered (RFC 3834 ...)
    original_name TEXT,                   -- spool/import: the scanned file's name
    details TEXT,                         -- import: applicant details typed by the clerk (JSON)
    received_at BIGINT NOT NULL,
    state TEXT NOT NULL,                  -- new | filed | duplicate | failed
    error TEXT,
    case_id BIGINT
);
-- A copy of a message already filed (same bytes) is recorded as a duplicate, never a second case.
CREATE UNIQUE INDEX messages_filed_once ON messages(sha256) WHERE state = 'filed';
CREATE INDEX messages_sha256 ON messages(sha256);
CREATE UNIQUE INDEX messages_uid ON messages(mailbox, uidvalidity, uid);
CREATE INDEX messages_message_id ON messages(message_id);

CREATE TABLE mailbox_state (
    mailbox TEXT PRIMARY KEY,
    uidvalidity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE cases (
    id BIGSERIAL PRIMARY KEY,
    tracking_code TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    permit_type TEXT,
    department TEXT,
    application_type TEXT,
    confidence DOUBLE PRECISION,
    triage BIGINT NOT NULL DEFAULT 0,
    applicant_name TEXT,
    applicant_email TEXT,
    applicant_address TEXT,
    applicant_phone TEXT,
    subject TEXT,
    body TEXT,
    no_reply TEXT,
    decision TEXT,                        -- JSON: reasons, identifiers
    requirements TEXT,                    -- JSON array
    missing TEXT,                         -- JSON array of ids
    error TEXT,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cases_received ON cases(received_at);
CREATE INDEX cases_department ON cases(department, status);

CREATE TABLE documents (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    position BIGINT NOT NULL,
    filename TEXT NOT NULL,
    original_filename TEXT,
    declared_type TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    state TEXT NOT NULL,                  -- pending | done
    pages BIGINT,
    page_info TEXT,                       -- JSON: per page source and confidence
    text TEXT,
    doc_type TEXT,
    error_alasan TEXT,                    -- the error in Bahasa Indonesia, for the applicant
    error TEXT
);
CREATE INDEX documents_case ON documents(case_id);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX events_case ON events(case_id);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    purpose TEXT NOT NULL,                -- ack | ...
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    message_id TEXT NOT NULL,
    in_reply_to TEXT,
    references_ids TEXT,
    state TEXT NOT NULL,                  -- pending | sent | failed
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    error TEXT
);
CREATE UNIQUE INDEX outbox_once ON outbox(case_id, purpose);

-- Letters to post to applicants (receipts for postal applications), printed in daily batches.
CREATE TABLE letters (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    purpose TEXT NOT NULL,                -- receipt:<message id> | ...
    created_at BIGINT NOT NULL,
    printed_at BIGINT
);
CREATE UNIQUE INDEX letters_once ON letters(case_id, purpose);

CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    target BIGINT NOT NULL,
    state TEXT NOT NULL,                  -- pending | running | done | parked
    attempts BIGINT NOT NULL DEFAULT 0,  -- claims that did not end in a transient failure
    retries BIGINT NOT NULL DEFAULT 0,   -- transient failures (drive the backoff)
    run_after BIGINT NOT NULL,
    lease_until BIGINT,
    owner TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX jobs_once ON jobs(kind, target);
CREATE INDEX jobs_due ON jobs(state, run_after);
