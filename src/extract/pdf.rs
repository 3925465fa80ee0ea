//! The text layer of a PDF, page by page, with lopdf.
//!
//! Takes the bytes of a PDF, gives one [`PageText`] per page: the page's own text when it has a
//! real text layer, or an empty page marked [`PageSource::NeedsOcr`] (scans, photos, pages whose
//! text layer is too thin to trust). Fails with [`DocumentError`]: `Encrypted` when a password is
//! needed, `TooLarge` past [`MAX_PAGES`], `Corrupt` when lopdf cannot read it or crashes.
//!
//! PDFs come from strangers, so every lopdf call runs on a helper thread with a generous stack
//! (a panic there becomes `Corrupt` instead of taking the worker down), decompression is
//! bounded, and text extraction stops after [`MAX_TEXT_PAGES`] pages or [`TEXT_BUDGET`]; the
//! remaining pages are left to OCR, which has its own limits. Other stages that parse PDFs
//! (batch splitting, OCR page images) do so through [`with_document`] or [`load_guarded`], so
//! the same limits and the same guard hold everywhere.

use std::time::{Duration, Instant};

use lopdf::{Document, LoadOptions};

use super::document::{DocumentError, PageSource, PageText};

/// More pages than any permit application; beyond this it is an accident or an attack.
pub const MAX_PAGES: usize = 2000;
/// Pages whose text layer is read; later pages go to OCR unread.
pub const MAX_TEXT_PAGES: usize = 500;
/// Wall-clock budget for reading text layers of one document.
pub const TEXT_BUDGET: Duration = Duration::from_secs(10);
/// A page with fewer visible characters than this is a scan with a stray caption, a page
/// number, or an invisible OCR layer of poor quality: OCR it instead.
pub const MIN_PAGE_CHARS: usize = 20;
/// Bound on any single decompressed stream, at load and per page's content. Real page content
/// is kilobytes; 64 MiB leaves room for odd producers while stopping zip-bomb style streams.
const MAX_STREAM_BYTES: usize = 64 * 1024 * 1024;
/// lopdf parses recursively; a hostile nesting depth must not overflow a small worker stack.
const PARSER_STACK: usize = 64 * 1024 * 1024;

const KIND: &str = "PDF";

/// Read the text layer of every page (see the module docs for limits).
pub fn read_pdf(data: &[u8]) -> Result<Vec<PageText>, DocumentError> {
    with_document(data, read_pages)
}

/// Parse `data` and run `f` on the document behind the guard every PDF in loket goes through:
/// bounded streams, at most [`MAX_PAGES`] pages, a helper thread with a large stack, and a
/// panic in lopdf (while parsing or inside `f`) turned into `Corrupt`. `f` gets the document
/// and its page numbers (from 1, in order).
pub fn with_document<T: Send>(
    data: &[u8],
    f: impl FnOnce(&Document, &[u32]) -> Result<T, DocumentError> + Send,
) -> Result<T, DocumentError> {
    isolated(|| {
        let doc = load(data)?;
        let pages = page_numbers(&doc)?;
        f(&doc, &pages)
    })
    .unwrap_or_else(|| Err(crashed()))
}

/// The parsed document itself, for callers that keep it (OCR page images): parsed behind the
/// same guard as [`with_document`]. Later lopdf calls on it are the caller's to guard.
pub fn load_guarded(data: &[u8]) -> Result<Document, DocumentError> {
    isolated(|| {
        let doc = load(data)?;
        page_numbers(&doc)?;
        Ok(doc)
    })
    .unwrap_or_else(|| Err(crashed()))
}

fn crashed() -> DocumentError {
    corrupt("the PDF parser crashed (or could not be started) on this file")
}

/// The page numbers, refusing documents with none or more than [`MAX_PAGES`].
fn page_numbers(doc: &Document) -> Result<Vec<u32>, DocumentError> {
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    if pages.len() > MAX_PAGES {
        return Err(DocumentError::TooLarge(format!(
            "{} pages (limit {MAX_PAGES})",
            pages.len()
        )));
    }
    if pages.is_empty() {
        return Err(corrupt("no pages"));
    }
    Ok(pages)
}

fn read_pages(doc: &Document, pages: &[u32]) -> Result<Vec<PageText>, DocumentError> {
    let started = Instant::now();
    Ok(pages
        .iter()
        .enumerate()
        .map(|(index, &number)| {
            let in_budget = index < MAX_TEXT_PAGES && started.elapsed() < TEXT_BUDGET;
            let text = if in_budget {
                page_text(doc, number)
            } else {
                None
            };
            classify_page(text)
        })
        .collect())
}

/// Load the document; lopdf itself tries the empty user password, which many "protected"
/// PDFs (print or copy restrictions only) use, so those open like any other.
fn load(data: &[u8]) -> Result<Document, DocumentError> {
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_STREAM_BYTES),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(data, options).map_err(|e| match e {
        lopdf::Error::InvalidPassword
        | lopdf::Error::Decryption(_)
        | lopdf::Error::UnsupportedSecurityHandler(_) => encrypted(),
        other => corrupt(&other.to_string()),
    })?;
    // After a successful decryption lopdf removes `/Encrypt` from the trailer, so a document
    // that still has it could not be opened without the user's password.
    if doc.is_encrypted() {
        return Err(encrypted());
    }
    Ok(doc)
}

/// One page's text (decompression bounded), or `None` when lopdf fails on it; a single bad page
/// should not cost the applicant the rest of the document. Call it inside [`with_document`].
pub fn page_text(doc: &Document, number: u32) -> Option<String> {
    doc.extract_text_with_limit(&[number], MAX_STREAM_BYTES)
        .ok()
}

fn classify_page(text: Option<String>) -> PageText {
    let text = text.unwrap_or_default();
    let visible = text.chars().filter(|c| !c.is_whitespace()).count();
    if visible < MIN_PAGE_CHARS {
        PageText {
            text: String::new(),
            source: PageSource::NeedsOcr,
            confidence: None,
            how: None,
            error: None,
            handwriting: false,
        }
    } else {
        PageText {
            text: normalize(&text),
            source: PageSource::TextLayer,
            confidence: None,
            how: None,
            error: None,
            handwriting: false,
        }
    }
}

/// lopdf emits a line per text operator with trailing spaces; keep the lines, drop the noise.
fn normalize(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    lines.join("\n").trim().to_string()
}

/// Run `f` on a helper thread with a large stack; `None` if it panicked.
fn isolated<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("pdf-text".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, f)
            .ok()
            .and_then(|handle| handle.join().ok())
    })
}

fn encrypted() -> DocumentError {
    DocumentError::Encrypted(KIND.to_string())
}

fn corrupt(detail: &str) -> DocumentError {
    DocumentError::Corrupt {
        kind: KIND.to_string(),
        detail: detail.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
