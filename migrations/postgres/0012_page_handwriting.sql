-- A page that OCR found handwritten (1): its case goes to triage with the page named, instead of
-- being sorted on what tesseract made of the handwriting.
ALTER TABLE page_results ADD COLUMN handwriting BIGINT NOT NULL DEFAULT 0;
