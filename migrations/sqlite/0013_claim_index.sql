-- loket schema: the job claim's index. Times are Unix ms (UTC).

-- A claim looks for the oldest due job of some kinds. By state alone it walked every pending
-- job of the other kinds too (during a long `run --once` every message's move waits pending
-- until the end), so claims grew with the mailbox; by kind and state it reads only candidates.
CREATE INDEX jobs_claim ON jobs(kind, state, id);
