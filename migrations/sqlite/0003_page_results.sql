-- OCR checkpoints (SQLite): each page's result is kept as soon as it is read, so a step that
-- stops mid-document resumes at the next page; `crashes` counts OCR workers that died on the page.
CREATE TABLE page_results (
    document_id INTEGER NOT NULL REFERENCES documents(id),
    page INTEGER NOT NULL,                -- from 0
    text TEXT,                            -- the page's text, when it was read
    confidence REAL,                      -- mean OCR confidence 0-100
    how TEXT,                             -- how the page image was made (pdf-dct, pdftoppm, png...)
    error TEXT,                           -- why the page has no text, when it was given up on
    alasan TEXT,                          -- the same reason in Bahasa Indonesia
    crashes INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (document_id, page)
);
