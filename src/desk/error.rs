//! What can go wrong in a request, and how it is answered: JSON `{"error": ...}` for the API,
//! a page in Bahasa Indonesia for people. Internal details are logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::filing::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("login required")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("too many requests")]
    TooMany { retry_after_seconds: u64 },
    #[error("upload larger than {0} bytes")]
    TooLarge(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl DeskError {
    pub fn status(&self) -> StatusCode {
        match self {
            DeskError::Unauthorized => StatusCode::UNAUTHORIZED,
            DeskError::Forbidden | DeskError::Csrf => StatusCode::FORBIDDEN,
            DeskError::NotFound => StatusCode::NOT_FOUND,
            DeskError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            DeskError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            DeskError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            DeskError::Store(e) if e.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            DeskError::Store(_) | DeskError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the person is told, in Bahasa Indonesia (with English where it helps).
    pub fn message_id(&self) -> String {
        match self {
            DeskError::Unauthorized => "Silakan masuk terlebih dahulu (login required).".into(),
            DeskError::Forbidden => "Anda tidak berwenang membuka halaman ini (403).".into(),
            DeskError::Csrf => {
                "Formulir kedaluwarsa atau tidak sah; muat ulang halaman lalu coba lagi.".into()
            }
            DeskError::NotFound => "Tidak ditemukan (404).".into(),
            DeskError::Invalid(m) => m.clone(),
            DeskError::TooMany { .. } => {
                "Terlalu banyak permintaan; tunggu sebentar lalu coba lagi (429).".into()
            }
            DeskError::TooLarge(n) => format!("Berkas terlalu besar (maksimal {n} byte)."),
            DeskError::Store(_) | DeskError::Internal(_) => {
                "Terjadi kesalahan pada server; coba lagi nanti.".into()
            }
        }
    }

    fn log(&self) {
        if matches!(self, DeskError::Store(_) | DeskError::Internal(_)) {
            tracing::error!(error = %crate::pipeline::error_chain(self), "desk request failed");
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            DeskError::TooMany {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        }
    }
}

/// A failure answered as JSON (`/api/...`).
#[derive(Debug)]
pub struct ApiError(pub DeskError);

impl<E: Into<DeskError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let message = match &self.0 {
            DeskError::Store(_) | DeskError::Internal(_) => "internal error".to_string(),
            e => e.to_string(),
        };
        let mut r = (
            self.0.status(),
            Json(serde_json::json!({ "error": message })),
        )
            .into_response();
        add_retry_after(&mut r, self.0.retry_after());
        r
    }
}

/// A failure answered as a page.
#[derive(Debug)]
pub struct PageError(pub DeskError);

impl<E: Into<DeskError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        let mut r = (
            self.0.status(),
            super::render::error_page(self.0.status(), &self.0.message_id()),
        )
            .into_response();
        add_retry_after(&mut r, self.0.retry_after());
        r
    }
}

fn add_retry_after(r: &mut Response, secs: Option<u64>) {
    if let Some(s) = secs {
        if let Ok(v) = s.to_string().parse() {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
    }
}
