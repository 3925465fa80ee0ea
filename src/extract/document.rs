//! One document (an attachment, or a scanned file) into text.
//!
//! Takes the bytes of one file with its declared type and name; gives an [`Extraction`]: the
//! content type found by [`sniff`](super::sniff) (the bytes win over the name: a `.pdf` that is
//! a JPEG is a JPEG), and one [`PageText`] per page.
//!
//! - PDF: the text layer per page ([`pdf`](super::pdf)); image-only pages are `NeedsOcr`.
//! - Images (JPEG, PNG, TIFF, GIF, WEBP, HEIC/HEIF, BMP): one `NeedsOcr` page. A multi-page
//!   TIFF is still one entry here; the OCR stage splits it.
//! - Plain text (UTF-8, else Windows-1252), HTML, and saved emails (`message/rfc822`, e.g. a
//!   forwarded message kept as `.eml`): one `Plain` page.
//! - Word (DOCX) and OpenDocument (ODT) text, read with a real XML reader
//!   ([`archive`](super::archive)): one `Plain` page. ZIP archives are unpacked before this.
//! - RTF: one `Plain` page, converted crudely ([`tnef::rtf_to_text`](super::tnef::rtf_to_text)).
//! - Anything else (legacy .doc, unknown bytes): `DocumentError::Unsupported`.
//!
//! CONTRACT: `read_document` never panics; a file it cannot read gives `Extraction::error`
//! with a plain reason. Pages whose text must come from OCR are marked `PageSource::NeedsOcr`
//! (the OCR stage fills them in later).

use serde::{Deserialize, Serialize};

use super::archive;
use super::{html, mime, pdf, sniff, tnef};

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
    /// How the page image was obtained for OCR (`pdf-dct`, `pdf-ccitt`, `pdftoppm`, `jpeg`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
    /// Why this page has no text, when OCR failed on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// OCR found the page handwritten: its text is not to be sorted on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handwriting: bool,
}

/// Why a document could not be read, in words for officers and applicants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// A password is needed to open it (a PDF, a ZIP); the format is named.
    #[error("encrypted {0} file (password protected)")]
    Encrypted(String),
    #[error("corrupt or unreadable {kind} file: {detail}")]
    Corrupt { kind: String, detail: String },
    #[error("unsupported file format ({0})")]
    Unsupported(String),
    #[error("file too large: {0}")]
    TooLarge(String),
    #[error("empty file")]
    Empty,
    /// The pages could not be read by OCR (the reason in both languages).
    #[error("{detail}")]
    Unreadable { detail: String, alasan: String },
}

impl DocumentError {
    /// The same reason in Bahasa Indonesia, for the acknowledgement.
    pub fn alasan(&self) -> String {
        match self {
            Self::Encrypted(kind) => format!("berkas {kind} dilindungi kata sandi"),
            Self::Corrupt { kind, .. } => format!("berkas {kind} rusak atau tidak dapat dibaca"),
            Self::Unsupported(format) => format!("format berkas tidak didukung ({format})"),
            Self::TooLarge(_) => "berkas terlalu besar untuk diproses".to_string(),
            Self::Empty => "berkas kosong".to_string(),
            Self::Unreadable { alasan, .. } => alasan.clone(),
        }
    }

    /// Whether trying again could help. Never: the same bytes give the same answer; the
    /// applicant has to send a readable file.
    pub fn is_transient(&self) -> bool {
        false
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
    if data.is_empty() {
        return Extraction::failed(fallback_type(declared_type), DocumentError::Empty);
    }
    let Some(content_type) = sniff::sniff(data) else {
        return Extraction::failed(
            fallback_type(declared_type),
            unrecognized(declared_type, filename),
        );
    };
    let result = match content_type {
        sniff::PDF => pdf::read_pdf(data),
        image if sniff::is_image(image) => Ok(vec![PageText::needs_ocr()]),
        sniff::TEXT => Ok(vec![PageText::plain(decode_text(data))]),
        sniff::HTML => Ok(vec![PageText::plain(html::to_text(&decode_text(data)))]),
        sniff::EMAIL => read_email(data).map(|text| vec![PageText::plain(text)]),
        // Unpacked at intake; one that is here could not be unpacked, and this says why.
        sniff::ZIP => archive::unpack(data, &archive::ArchiveLimits::default()).map(|entries| {
            let names: Vec<String> = entries.into_iter().map(|e| e.name).collect();
            vec![PageText::plain(format!("ZIP: {}", names.join(", ")))]
        }),
        sniff::RTF => Ok(vec![PageText::plain(tnef::rtf_to_text(data))]),
        // Unpacked when the mail is parsed; one that is here could not be, and this says why.
        sniff::TNEF => tnef::unpack(data, &archive::ArchiveLimits::default()).map(|t| {
            let names: Vec<String> = t.files.into_iter().map(|e| e.name).collect();
            vec![PageText::plain(format!("TNEF: {}", names.join(", ")))]
        }),
        sniff::DOCX => archive::office_text(data, false).map(|text| vec![PageText::plain(text)]),
        sniff::ODT => archive::office_text(data, true).map(|text| vec![PageText::plain(text)]),
        other => Err(DocumentError::Unsupported(
            sniff::short_name(other).to_string(),
        )),
    };
    match result {
        Ok(pages) => Extraction {
            content_type: content_type.to_string(),
            pages,
            error: None,
        },
        Err(error) => Extraction::failed(content_type.to_string(), error),
    }
}

impl Extraction {
    fn failed(content_type: String, error: DocumentError) -> Self {
        Self {
            content_type,
            pages: Vec::new(),
            error: Some(error),
        }
    }
}

impl PageText {
    fn needs_ocr() -> Self {
        Self {
            text: String::new(),
            source: PageSource::NeedsOcr,
            confidence: None,
            how: None,
            error: None,
            handwriting: false,
        }
    }

    fn plain(text: String) -> Self {
        Self {
            text,
            source: PageSource::Plain,
            confidence: None,
            how: None,
            error: None,
            handwriting: false,
        }
    }
}

/// The declared type, tidied, for files whose bytes say nothing.
fn fallback_type(declared_type: &str) -> String {
    let essence = declared_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence.contains('/') {
        essence
    } else {
        "application/octet-stream".to_string()
    }
}

/// Bytes that match no known format. If the name or declared type claims a format we read
/// (a `.pdf`, an `image/png`), the file is damaged (often truncated by a mail program);
/// otherwise it is a format we do not take, named by its extension, which says more to an
/// applicant than `application/octet-stream`.
fn unrecognized(declared_type: &str, filename: &str) -> DocumentError {
    let declared = fallback_type(declared_type);
    let ext = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_lowercase())
        .filter(|ext| !ext.is_empty() && ext.len() <= 10);
    let claimed = sniff::type_for_extension(ext.as_deref().unwrap_or_default())
        .or_else(|| sniff::is_known(&declared).then_some(declared.as_str()));
    match (claimed, ext) {
        (Some(claimed), _) => DocumentError::Corrupt {
            kind: sniff::short_name(claimed).to_string(),
            detail: "the content does not match its name or declared type".to_string(),
        },
        (None, Some(ext)) => DocumentError::Unsupported(format!(".{ext}")),
        (None, None) => DocumentError::Unsupported(declared),
    }
}

/// Text files from Indonesian offices are UTF-8 or, from older Windows machines,
/// Windows-1252 (a superset of ISO-8859-1 for printable text).
fn decode_text(data: &[u8]) -> String {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    match std::str::from_utf8(data) {
        Ok(text) => text.to_string(),
        Err(_) => match mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252") {
            Some(decode) => decode(data),
            None => String::from_utf8_lossy(data).into_owned(),
        },
    }
}

/// A saved email (typically a forwarded message kept whole): its headers that matter to an
/// officer, then its body. Its attachments were already taken out by [`mime::parse`].
fn read_email(data: &[u8]) -> Result<String, DocumentError> {
    let msg =
        mime::parse(data, &mime::MimeLimits::default()).map_err(|e| DocumentError::Corrupt {
            kind: "email".to_string(),
            detail: e.to_string(),
        })?;
    let mut text = String::new();
    if let Some(from) = &msg.from {
        text.push_str(&format!("From: {}\n", from.email));
    }
    if let Some(subject) = &msg.subject {
        text.push_str(&format!("Subject: {subject}\n"));
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&msg.body_text);
    Ok(text)
}

#[cfg(test)]
mod tests;
