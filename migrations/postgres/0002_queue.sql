-- loket schema v2 (PostgreSQL): leases with fencing tokens, registered workers, mailbox watcher
-- leases, constraints instead of checks. Times are Unix milliseconds (UTC).

-- A claim hands out a fresh token; every commit of the step checks it (fencing). `again` asks a
-- running job to run once more when it finishes (a document read while its case was sorted).
ALTER TABLE jobs ADD COLUMN lease_token TEXT;
ALTER TABLE jobs ADD COLUMN again BIGINT NOT NULL DEFAULT 0;
-- Leases of the previous release (owner `host:pid`, ten minutes) are given back: upgrading means
-- the old processes have stopped.
UPDATE jobs SET state = 'pending', lease_until = NULL, owner = NULL WHERE state = 'running';
CREATE INDEX jobs_token ON jobs(lease_token);

-- Every `loket` process that takes work registers itself and heartbeats.
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    version TEXT NOT NULL,
    command TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    stopped_at BIGINT
);

-- Exactly one watcher per mailbox across all processes: a lease row like a job's.
ALTER TABLE mailbox_state ADD COLUMN watcher TEXT;
ALTER TABLE mailbox_state ADD COLUMN watch_token TEXT;
ALTER TABLE mailbox_state ADD COLUMN watch_until BIGINT;

-- One case per Message-ID and sender, as a constraint. Copies filed by the previous release under
-- a race are kept, but as duplicates of the first.
UPDATE messages SET state = 'duplicate'
 WHERE state = 'filed' AND message_id IS NOT NULL AND sender IS NOT NULL
   AND id NOT IN (SELECT MIN(id) FROM messages
                   WHERE state = 'filed' AND message_id IS NOT NULL AND sender IS NOT NULL
                   GROUP BY message_id, lower(sender));
CREATE UNIQUE INDEX messages_message_id_once ON messages(message_id, lower(sender))
 WHERE state = 'filed' AND message_id IS NOT NULL AND sender IS NOT NULL;

-- Letters are printed through the queue: one `letter` job per letter not yet printed.
INSERT INTO jobs (kind, target, state, run_after, created_at, updated_at)
SELECT 'letter', id, 'pending', created_at, created_at, created_at FROM letters WHERE printed_at IS NULL
ON CONFLICT (kind, target) DO NOTHING;
