-- loket schema: rate limits and mail loops (PostgreSQL). Times are Unix ms (UTC).

-- Automatic mail to one address in the last hour (notify.max_acks_per_sender_per_hour);
-- addresses are compared in lower case.
CREATE INDEX outbox_to_recent ON outbox(lower(to_addr), created_at);
-- Acknowledgements held back by the limit (outbox state 'held'), waiting for the combined
-- message that lists them (then 'combined').
CREATE INDEX outbox_held ON outbox(created_at) WHERE state = 'held';
-- Mail loops: the messages one sender sent in the last hour.
CREATE INDEX messages_sender_recent ON messages(lower(sender), received_at);

-- One row per address automatic mail goes to. A transaction that counts and writes mail to an
-- address takes its row first (an upsert), so two workers can't both send the fifth.
CREATE TABLE rate_limit_addresses (
    address TEXT PRIMARY KEY,             -- lower case
    touched_at BIGINT NOT NULL
);
