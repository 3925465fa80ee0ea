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
    #[error("OCR engine failed: {0}")]
    Engine(String),
    #[error("OCR protocol error: {0}")]
    Protocol(String),
}

impl OcrError {
    /// Whether trying the same page again may succeed: a worker that could not start or died may be
    /// a passing condition (memory pressure); a page that hit the time limit or that the engine
    /// rejects fails again.
    pub fn is_transient(&self) -> bool {
        matches!(self, OcrError::Spawn { .. } | OcrError::WorkerDied(_))
    }

    /// The same reason in Bahasa Indonesia, for the applicant.
    pub fn alasan(&self) -> String {
        match self {
            OcrError::Timeout { secs } => {
                format!("pembacaan teks halaman melebihi batas waktu {secs} detik")
            }
            OcrError::Spawn { .. } | OcrError::WorkerDied(_) | OcrError::Protocol(_) => {
                "layanan pembacaan teks (OCR) sedang bermasalah; halaman akan dicoba lagi".into()
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
