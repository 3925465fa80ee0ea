-- Full-text search for the officers' desk (issue 9), SQLite: one FTS5 row per case (rowid = case
-- id) with its subject, body and the text of all its documents (pages and documents separated by
-- form feeds), kept in step by triggers, so every write that changes the text updates the index
-- in its own transaction. The bundled SQLite that sqlx builds has FTS5 compiled in.
--
-- Text is stored without the private-use characters U+E000 and U+E001: search.rs asks snippet()
-- to mark hits with them, and a document must not be able to forge a hit.
-- Documents of one case are read in parallel, but each reading step locks its case row first
-- (`cases::lock`), so the concatenation below always sees the other documents' text.
CREATE VIRTUAL TABLE case_search USING fts5(
    subject, body, documents,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER case_search_case_insert AFTER INSERT ON cases BEGIN
    INSERT INTO case_search (rowid, subject, body, documents) VALUES (
        new.id,
        replace(replace(new.subject, char(57344), ''), char(57345), ''),
        replace(replace(new.body, char(57344), ''), char(57345), ''),
        '');
END;

CREATE TRIGGER case_search_case_text AFTER UPDATE OF subject, body ON cases BEGIN
    UPDATE case_search SET
        subject = replace(replace(new.subject, char(57344), ''), char(57345), ''),
        body = replace(replace(new.body, char(57344), ''), char(57345), '')
     WHERE rowid = new.id;
END;

CREATE TRIGGER case_search_case_delete AFTER DELETE ON cases BEGIN
    DELETE FROM case_search WHERE rowid = old.id;
END;

CREATE TRIGGER case_search_document_insert AFTER INSERT ON documents WHEN new.text IS NOT NULL BEGIN
    UPDATE case_search SET documents = coalesce((
        SELECT group_concat(t, char(12)) FROM (
            SELECT replace(replace(text, char(57344), ''), char(57345), '') AS t
              FROM documents WHERE case_id = new.case_id AND text <> '' ORDER BY position, id)), '')
     WHERE rowid = new.case_id;
END;

CREATE TRIGGER case_search_document_text AFTER UPDATE OF text ON documents BEGIN
    UPDATE case_search SET documents = coalesce((
        SELECT group_concat(t, char(12)) FROM (
            SELECT replace(replace(text, char(57344), ''), char(57345), '') AS t
              FROM documents WHERE case_id = new.case_id AND text <> '' ORDER BY position, id)), '')
     WHERE rowid = new.case_id;
END;

CREATE TRIGGER case_search_document_delete AFTER DELETE ON documents BEGIN
    UPDATE case_search SET documents = coalesce((
        SELECT group_concat(t, char(12)) FROM (
            SELECT replace(replace(text, char(57344), ''), char(57345), '') AS t
              FROM documents WHERE case_id = old.case_id AND text <> '' ORDER BY position, id)), '')
     WHERE rowid = old.case_id;
END;

-- Cases filed before this release.
INSERT INTO case_search (rowid, subject, body, documents)
SELECT c.id,
       replace(replace(c.subject, char(57344), ''), char(57345), ''),
       replace(replace(c.body, char(57344), ''), char(57345), ''),
       coalesce((SELECT group_concat(t, char(12)) FROM (
           SELECT replace(replace(d.text, char(57344), ''), char(57345), '') AS t
             FROM documents d WHERE d.case_id = c.id AND d.text <> '' ORDER BY d.position, d.id)), '')
  FROM cases c;

-- Queues: a department's cases (optionally of one status), newest first; everyone's, newest first.
CREATE INDEX cases_department_received ON cases(department, received_at DESC, id DESC);
CREATE INDEX cases_status_received ON cases(status, received_at DESC, id DESC);
