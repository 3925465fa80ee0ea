//! One document (an attachment, or a scanned file) into text.
//!
//! CONTRACT: `read_document` never panics; a file it cannot read gives `Extraction::error`
//! with a plain reason. Pages whose text must come from OCR are marked `PageSource::NeedsOcr`
//! (the OCR stage fills them in later).

use serde::{Deserialize, Serialize};

/// Where a page's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageSource {
    /// The PDF's own text layer.
    TextLayer,
    /// The document is text (plain, HTML, email body).
    Plain,
    /// An image or image-only page: needs OCR.
    NeedsOcr,
    /// Filled in by OCR.
    Ocr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageText {
    pub text: String,
    pub source: PageSource,
    /// Mean OCR confidence 0-100, when from OCR.
    pub confidence: Option<f32>,
}

/// Why a document could not be read, in words for officers and applicants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("encrypted PDF (password protected)")]
    Encrypted,
    #[error("corrupt or unreadable {kind} file: {detail}")]
    Corrupt { kind: String, detail: String },
    #[error("unsupported file format ({0})")]
    Unsupported(String),
    #[error("file too large: {0}")]
    TooLarge(String),
    #[error("empty file")]
    Empty,
}

impl DocumentError {
    /// The same reason in Bahasa Indonesia, for the acknowledgement.
    pub fn alasan(&self) -> String {
        todo!()
    }
}

#[derive(Debug, Clone)]
pub struct Extraction {
    /// The content type found by sniffing the bytes (e.g. `application/pdf`, `image/jpeg`).
    pub content_type: String,
    pub pages: Vec<PageText>,
    pub error: Option<DocumentError>,
}

impl Extraction {
    /// All text, pages separated by a form feed (SPEC.md).
    pub fn text(&self) -> String {
        self.pages
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\u{c}")
    }
}

/// Read a document's text without OCR.
pub fn read_document(data: &[u8], declared_type: &str, filename: &str) -> Extraction {
    let _ = (data, declared_type, filename);
    todo!()
}
