-- Full-text search for the officers' desk (issue 9), PostgreSQL: one row per case with its
-- subject, body and the text of all its documents (pages and documents separated by form feeds),
-- and their tsvector under the `indonesian` configuration (Snowball stemmer, shipped since
-- PostgreSQL 13), weighted subject A, body B, documents C, behind a GIN index. Triggers keep it
-- in step, so every write that changes the text updates the index in its own transaction.
--
-- Text is stored cleaned by loket_search_text(): the private-use characters U+E000..U+E003 are
-- removed (search.rs asks ts_headline to mark hits with U+E000/U+E001, and a document must not
-- be able to forge a hit), and '<' and '>' become U+E002/U+E003, because the default parser
-- reads `<b>` as an HTML tag and skips it and anything inside <script> or <style>; search.rs
-- turns them back into '<' and '>' in snippets.
-- Documents of one case are read in parallel, but each reading step locks its case row first
-- (`cases::lock`), so the concatenation below always sees the other documents' text.
CREATE FUNCTION loket_search_text(t TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(coalesce(t, ''), '<>' || chr(57344) || chr(57345) || chr(57346) || chr(57347),
                     chr(57346) || chr(57347))
$$;

-- The words of a text as loket's query side sees them (search.rs splits a query at every
-- character that is not a letter or digit): ASCII punctuation becomes a space before the
-- parser reads it, else `formulir-reklame-siti.pdf` or `budi@example.com` would be one
-- lexeme (a file name, an address) and no search for "reklame" or "budi" would find it.
CREATE FUNCTION loket_search_words(t TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(t, '!"#$%&''()*+,-./:;=?@[\]^_`{|}~' || chr(57346) || chr(57347), repeat(' ', 40))
$$;

CREATE TABLE case_search (
    case_id BIGINT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    documents TEXT NOT NULL DEFAULT '',
    tsv TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('indonesian', loket_search_words(subject)), 'A')
        || setweight(to_tsvector('indonesian', loket_search_words(body)), 'B')
        || setweight(to_tsvector('indonesian', loket_search_words(documents)), 'C')
    ) STORED
);
CREATE INDEX case_search_tsv ON case_search USING GIN (tsv);

CREATE FUNCTION case_search_documents(of_case BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT coalesce(string_agg(loket_search_text(text), chr(12) ORDER BY position, id), '')
      FROM documents WHERE case_id = of_case AND text <> ''
$$;

CREATE FUNCTION case_search_case_trigger() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_search (case_id, subject, body)
    VALUES (NEW.id, loket_search_text(NEW.subject), loket_search_text(NEW.body))
    ON CONFLICT (case_id) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_search_case AFTER INSERT OR UPDATE OF subject, body ON cases
    FOR EACH ROW EXECUTE FUNCTION case_search_case_trigger();

CREATE FUNCTION case_search_document_trigger() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    target BIGINT := CASE WHEN TG_OP = 'DELETE' THEN OLD.case_id ELSE NEW.case_id END;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.text IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE case_search SET documents = case_search_documents(target) WHERE case_id = target;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_search_document AFTER INSERT OR UPDATE OF text OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION case_search_document_trigger();

-- Cases filed before this release.
INSERT INTO case_search (case_id, subject, body, documents)
SELECT id, loket_search_text(subject), loket_search_text(body), case_search_documents(id) FROM cases;

-- Queues: a department's cases (optionally of one status), newest first; everyone's, newest first.
CREATE INDEX cases_department_received ON cases(department, received_at DESC, id DESC);
CREATE INDEX cases_status_received ON cases(status, received_at DESC, id DESC);
