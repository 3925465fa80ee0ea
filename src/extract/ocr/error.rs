//! Why a page could not be turned into an image, or an image into text.

/// A page image could not be produced. Permanent: the same bytes fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcrInputError {
    // `page` fields count from 0; messages count from 1.
    #[error("unsupported image format ({0})")]
    Unsupported(String),
    #[error("corrupt or unreadable {kind}: {detail}")]
    Corrupt { kind: &'static str, detail: String },
    #[error("page {}: image of {width}x{height} pixels exceeds the limit of {limit} pixels", .page + 1)]
    TooManyPixels {
        page: usize,
        width: u64,
        height: u64,
        limit: u64,
    },
    #[error("document has {pages} pages; only the first {limit} are read")]
    TooManyPages { pages: usize, limit: usize },
    #[error("page {} does not exist (the document has {pages})", .page + 1)]
    NoSuchPage { page: usize, pages: usize },
    #[error("page {}: rendering with pdftoppm failed: {detail}", .page + 1)]
    Render { page: usize, detail: String },
    #[error("page {}: rendering with pdftoppm took longer than {secs} s", .page + 1)]
    RenderTimeout { page: usize, secs: u64 },
}

impl OcrInputError {
    /// The same reason in Bahasa Indonesia, for the applicant.
    pub fn alasan(&self) -> String {
        match self {
            OcrInputError::Unsupported(f) => format!("format gambar tidak didukung ({f})"),
            OcrInputError::Corrupt { kind, .. } => {
                format!("berkas {kind} rusak atau tidak terbaca")
            }
            OcrInputError::TooManyPixels {
                page,
                width,
                height,
                ..
            } => format!(
                "halaman {} terlalu besar ({width}x{height} piksel) untuk dibaca",
                page + 1
            ),
            OcrInputError::TooManyPages { pages, limit } => {
                format!(
                    "dokumen memiliki {pages} halaman; hanya {limit} halaman pertama yang dibaca"
                )
            }
            OcrInputError::NoSuchPage { page, .. } => format!("halaman {} tidak ada", page + 1),
            OcrInputError::Render { page, .. } | OcrInputError::RenderTimeout { page, .. } => {
                format!(
                    "halaman {} tidak dapat ditampilkan sebagai gambar",
                    page + 1
                )
            }
        }
    }
}

/// OCR of one page image failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcrError {
    #[error("OCR worker could not be started ({program}): {detail}")]
    Spawn { program: String, detail: String },
    #[error("OCR of the page took longer than {secs} s; the worker was stopped")]
    Timeout { secs: u64 },
    #[error("OCR worker stopped unexpectedly: {0}")]
    WorkerDied(String),
    /// The page killed the OCR worker [`OcrError::CRASH_LIMIT`] times: the page, not the
    /// machine, is the problem.
    #[error("OCR engine crashed on this page twice ({0})")]
    CrashedTwice(String),
    #[error("OCR engine failed: {0}")]
    Engine(String),
    #[error("OCR protocol error: {0}")]
    Protocol(String),
}

impl OcrError {
    /// Workers that may die on one page before the page is given up on (see `CrashedTwice`).
    pub const CRASH_LIMIT: u32 = 2;

    /// Whether OCR itself is down, so the same page should be tried again later: only a worker
    /// that can't be started. A worker that dies on a page is not an outage (the pool starts a
    /// fresh one at once); the caller retries that page up to [`OcrError::CRASH_LIMIT`] times.
    /// A page that hit the time limit or that the engine rejects fails again.
    pub fn is_transient(&self) -> bool {
        matches!(self, OcrError::Spawn { .. })
    }

    /// The same reason in Bahasa Indonesia, for the applicant. Only a transient error may promise
    /// another try.
    pub fn alasan(&self) -> String {
        match self {
            OcrError::Timeout { secs } => {
                format!("pembacaan teks halaman melebihi batas waktu {secs} detik")
            }
            OcrError::Spawn { .. } => {
                "layanan pembacaan teks (OCR) sedang bermasalah; halaman akan dicoba lagi".into()
            }
            OcrError::WorkerDied(_) | OcrError::CrashedTwice(_) => {
                "mesin pembaca teks (OCR) gagal pada halaman ini".into()
            }
            OcrError::Protocol(_) => {
                "layanan pembacaan teks (OCR) gagal membaca halaman ini".into()
            }
            OcrError::Engine(_) => "teks pada halaman tidak dapat dibaca".into(),
        }
    }
}

/// Why one page has no OCR text: its image could not be made, or not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Input(#[from] OcrInputError),
    #[error(transparent)]
    Ocr(#[from] OcrError),
}

impl PageError {
    pub fn is_transient(&self) -> bool {
        matches!(self, PageError::Ocr(e) if e.is_transient())
    }

    pub fn alasan(&self) -> String {
        match self {
            PageError::Input(e) => e.alasan(),
            PageError::Ocr(e) => e.alasan(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The applicant must not be told a page will be tried again when nothing will retry it.
    #[test]
    fn only_an_outage_promises_another_try() {
        let all = [
            OcrError::Spawn {
                program: "loket".into(),
                detail: "not found".into(),
            },
            OcrError::Timeout { secs: 60 },
            OcrError::WorkerDied("signal 6".into()),
            OcrError::CrashedTwice("signal 6".into()),
            OcrError::Engine("recognize".into()),
            OcrError::Protocol("bad reply".into()),
        ];
        for e in all {
            assert_eq!(
                e.alasan().contains("dicoba lagi"),
                e.is_transient(),
                "{e}: {}",
                e.alasan()
            );
        }
    }

    #[test]
    fn a_page_that_crashes_the_engine_says_so_in_both_languages() {
        let e = PageError::from(OcrError::CrashedTwice("signal: 6 (SIGABRT)".into()));
        assert!(e
            .to_string()
            .starts_with("OCR engine crashed on this page twice"));
        assert_eq!(
            e.alasan(),
            "mesin pembaca teks (OCR) gagal pada halaman ini"
        );
        assert!(!e.is_transient());
    }
}
