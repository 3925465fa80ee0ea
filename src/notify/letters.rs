//! Printed receipts (tanda terima berkas) for applications that came by post, and status
//! notices (pemberitahuan status) for applicants loket can't tell by email.
//!
//! Takes [`ReceiptLetter`]s and [`StatusNoticeLetter`]s (already-formatted text: the caller picks the date format and the
//! status URL) and gives one A4 PDF for the whole batch, one letter after another, so the mail
//! room prints a single file. Each letter starts on a new page; long document lists continue on
//! further pages. Text is real text with embedded, subset DejaVu fonts, so `pdftotext` and
//! screen readers get it back.
//!
//! Fails only on input no letter can show (a status URL too long for a QR code) or an internal
//! PDF-writing error; neither gets better by retrying (see [`LetterError::is_permanent`]).

mod draw;
mod fonts;
mod layout;

pub(crate) use draw::{wrap, write_pdf, PageOps, A4_WIDTH_MM};
pub(crate) use fonts::Face;

/// What one receipt letter says. All strings are printed as given (control characters become
/// spaces), in Bahasa Indonesia except for one English line the renderer adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLetter {
    /// The office's name, top of the letterhead and the return address line.
    pub office_name: String,
    /// The office's postal address (one line), under its name.
    pub office_address: Option<String>,
    /// An e-mail address and/or telephone line for questions.
    pub office_contact: Option<String>,
    /// The letter's date, already formatted (e.g. "23 November 2026").
    pub date: String,
    /// The case's tracking code as applicants type it (e.g. "DPM-7K2QX-9M4TB").
    pub tracking_code: String,
    /// Printed in the envelope window; "Pemohon" when unknown.
    pub applicant_name: Option<String>,
    /// Postal address for the envelope window; may hold several lines separated by `\n`.
    pub applicant_address: Option<String>,
    /// Documents received: file names or the names of paper documents, in order.
    pub documents: Vec<String>,
    /// Requirements still missing; empty means "looks complete, an officer will check".
    pub missing: Vec<String>,
    /// The permit applied for, when known.
    pub permit_type_name: Option<String>,
    /// Public status page for this case: printed and encoded in the QR code. Without it the QR
    /// code holds the tracking code and the letter asks the applicant to contact the office.
    pub status_url: Option<String>,
    /// One line under the title saying what this receipt is for, e.g.
    /// "Berkas diterima melalui pos".
    pub kind_label: String,
}

/// What one status-notice letter says: a case's status changed and the applicant is told by
/// post. Printed as given, like [`ReceiptLetter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusNoticeLetter {
    /// Letterhead, envelope window, date, tracking code, permit type, what is still missing and
    /// the status URL (QR code), as on the receipt; its `documents` and `kind_label` are not
    /// printed.
    pub letter: ReceiptLetter,
    /// The new status as stored (`needs_correction`, ...), for the English line.
    pub status: String,
    /// The new status in words (Bahasa Indonesia).
    pub status_label: String,
    /// The officer's note, verbatim; line breaks are kept.
    pub note: String,
}

/// Any letter of a print run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Letter {
    Receipt(ReceiptLetter),
    StatusNotice(StatusNoticeLetter),
}

/// Why a letter or separator sheet could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("no letters to render")]
    Empty,
    #[error("embedded font {name} could not be loaded")]
    Font { name: &'static str },
    #[error("cannot encode {data:?} as a QR code")]
    Qr {
        data: String,
        #[source]
        source: qrcode::types::QrError,
    },
    #[error("invalid page size")]
    PageSize,
    #[error("writing the PDF failed: {0}")]
    Pdf(String),
}

impl LetterError {
    /// Every letter error comes from the input or from this code, never from the environment:
    /// record it on the case for an officer instead of retrying.
    pub fn is_permanent(&self) -> bool {
        true
    }
}

/// Renders all `letters` into one A4 PDF, each starting on a new page.
pub fn render_letters(letters: &[ReceiptLetter]) -> Result<Vec<u8>, LetterError> {
    let all: Vec<Letter> = letters.iter().cloned().map(Letter::Receipt).collect();
    render_batch(&all)
}

/// Renders receipts and status notices into one A4 PDF, in the given order, each starting on a
/// new page: the mail room's print run.
pub fn render_batch(letters: &[Letter]) -> Result<Vec<u8>, LetterError> {
    if letters.is_empty() {
        return Err(LetterError::Empty);
    }
    let mut pages = Vec::new();
    for letter in letters {
        pages.extend(match letter {
            Letter::Receipt(l) => layout::letter_pages(l)?,
            Letter::StatusNotice(n) => layout::status_notice_pages(n)?,
        });
    }
    let receipts_only = letters.iter().all(|l| matches!(l, Letter::Receipt(_)));
    let title = if receipts_only {
        "Tanda terima berkas permohonan"
    } else {
        "Surat untuk pemohon"
    };
    write_pdf(&pages, title)
}
