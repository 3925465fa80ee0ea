//! The small closed vocabularies a case is described with.

use serde::{Deserialize, Serialize};

/// How the case reached the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Postal,
}

/// What the applicant wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Application,
    Complaint,
    Consultation,
    #[default]
    Other,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Filed, being read and sorted.
    Received,
    /// Sorted; waiting for an officer (also when in triage).
    Queued,
    /// An officer is working on it.
    InReview,
    /// Documents missing or wrong: the applicant must send more.
    NeedsCorrection,
    Approved,
    Rejected,
    Closed,
    /// Processing failed repeatedly: an officer must look at it.
    Failed,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(Channel { Email => "email", Postal => "postal" });
str_enum!(Kind {
    Application => "application",
    Complaint => "complaint",
    Consultation => "consultation",
    Other => "other",
});
str_enum!(Status {
    Received => "received",
    Queued => "queued",
    InReview => "in_review",
    NeedsCorrection => "needs_correction",
    Approved => "approved",
    Rejected => "rejected",
    Closed => "closed",
    Failed => "failed",
});

impl Status {
    /// Bahasa Indonesia words for the applicant (letters, status page).
    pub fn label_id(&self) -> &'static str {
        match self {
            Status::Received => "Diterima",
            Status::Queued => "Dalam antrean pemeriksaan",
            Status::InReview => "Sedang diperiksa petugas",
            Status::NeedsCorrection => "Perlu dilengkapi atau diperbaiki",
            Status::Approved => "Disetujui",
            Status::Rejected => "Ditolak",
            Status::Closed => "Selesai",
            Status::Failed => "Gagal diproses",
        }
    }
}

impl Status {
    /// Every status, in the order a case usually moves through them.
    pub const ALL: [Status; 8] = [
        Status::Received,
        Status::Queued,
        Status::InReview,
        Status::NeedsCorrection,
        Status::Approved,
        Status::Rejected,
        Status::Closed,
        Status::Failed,
    ];
}

impl Kind {
    /// Bahasa Indonesia label for letters and the officer UI.
    pub fn label_id(&self) -> &'static str {
        match self {
            Kind::Application => "Permohonan izin",
            Kind::Complaint => "Pengaduan",
            Kind::Consultation => "Konsultasi",
            Kind::Other => "Lainnya",
        }
    }
}
