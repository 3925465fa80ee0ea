-- loket schema: retention (PostgreSQL). Times are Unix ms (UTC).

-- `loket purge` removes the text, bodies and files of cases closed long ago and keeps the case
-- record; these say when. A purged document or message no longer refers to its blob, so the
-- blob may go once no unpurged row refers to it (blobs are shared by content).
ALTER TABLE cases ADD COLUMN purged_at BIGINT;
ALTER TABLE documents ADD COLUMN purged_at BIGINT;
ALTER TABLE messages ADD COLUMN purged_at BIGINT;

-- Who else refers to a blob: asked for every blob a purge would remove.
CREATE INDEX documents_sha256 ON documents(sha256);
