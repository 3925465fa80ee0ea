-- loket schema v4 (PostgreSQL): the officers' desk. Accounts, sessions and API tokens shared by every
-- `serve` process; who did what on a case (events.actor) and who read what (access_log);
-- assignment, deadlines and the officers' corrections of the sorting. Times are Unix ms (UTC).

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    name TEXT,
    email TEXT,
    role TEXT NOT NULL,                   -- admin | head | officer | triage | mailroom
    department TEXT,                      -- head and officer: their bidang
    password_hash TEXT NOT NULL,          -- argon2id PHC string
    disabled_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A session cookie carries a random secret; only its SHA-256 is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    client TEXT,
    created_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);

-- Failed logins, counted per account and per client address over a window.
CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures(username, at);
CREATE INDEX login_failures_client ON login_failures(client, at);

-- Who read which case page or downloaded which document (UU PDP audit).
CREATE TABLE access_log (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    username TEXT NOT NULL,
    action TEXT NOT NULL,                 -- view | download | preview
    document_id BIGINT,
    client TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX access_log_case ON access_log(case_id, at);
CREATE INDEX access_log_at ON access_log(at);

-- Who did it: a username for officers' actions, NULL for loket itself.
ALTER TABLE events ADD COLUMN actor TEXT;

ALTER TABLE cases ADD COLUMN assignee TEXT;
-- The service-standard deadline (office-local date, YYYY-MM-DD) and the instant the file
-- became complete, from which it is counted.
ALTER TABLE cases ADD COLUMN due_date TEXT;
ALTER TABLE cases ADD COLUMN complete_at BIGINT;
-- Officers' corrections that later re-sorting keeps (JSON: permit_type, department, kind,
-- requirements marked by hand, document types).
ALTER TABLE cases ADD COLUMN overrides TEXT;
ALTER TABLE cases ADD COLUMN merged_into BIGINT REFERENCES cases(id);
CREATE INDEX cases_queue ON cases(department, status, received_at);
CREATE INDEX cases_assignee ON cases(assignee, status);
CREATE INDEX cases_due ON cases(status, due_date);

-- Each correction of the sorting, kept as a labelled example for tuning the rules.
CREATE TABLE sorting_examples (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    document_id BIGINT,
    field TEXT NOT NULL,                  -- permit_type | department | kind | doc_type
    old_value TEXT,
    new_value TEXT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);

-- Every status a case was put in, with when: the deadline's clock pauses while a case is
-- needs_correction. The history keeps the words; this keeps the facts.
CREATE TABLE status_changes (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    status TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT
);
CREATE INDEX status_changes_case ON status_changes(case_id, at);
