//! How a pipeline step fails, and whether trying again can help.

use crate::filing::blobs::BlobError;
use crate::filing::jobs::{Failure, LeaseLost, StepError};
use crate::filing::StoreError;
use crate::notify::mailer::SendError;
use crate::notify::templates::TemplateError;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    LeaseLost(#[from] LeaseLost),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("no SMTP server configured ([smtp] section)")]
    NoSmtp,
    #[error("OCR unavailable: {0}")]
    OcrUnavailable(String),
    #[error("step panicked: {0}")]
    Panic(String),
    #[error("{0}")]
    Other(String),
}

impl From<StepError> for JobError {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Store(e) => JobError::Store(e),
            StepError::LeaseLost(e) => JobError::LeaseLost(e),
        }
    }
}

impl JobError {
    /// Transient failures (an outage) are retried with backoff and never park the job.
    pub fn is_transient(&self) -> bool {
        match self {
            JobError::Store(e) => e.is_transient(),
            JobError::Send(e) => e.is_transient(),
            JobError::Blob(e) => e.is_transient(),
            JobError::NoSmtp | JobError::OcrUnavailable(_) => true,
            _ => false,
        }
    }

    /// How the queue should treat this failure.
    pub fn failure(&self) -> Failure {
        match self {
            JobError::Store(e) if e.is_conflict() => Failure::Conflict,
            _ if self.is_transient() => Failure::Outage,
            _ => Failure::Error,
        }
    }
}
