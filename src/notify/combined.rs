//! The combined acknowledgement: one mail listing the cases whose acknowledgements were held
//! back because their sender reached `notify.max_acks_per_sender_per_hour` (templates
//! `combined_ack_subject.txt` and `combined_ack_body.txt`).
//!
//! It names each case by tracking code, subject line, permit type and what is still missing;
//! the case's own acknowledgement (documents received, unreadable pages) is on the status page.

use serde::Serialize;

use super::ack::{one_line, tidy};
use super::notices::NoticeItem;
use super::templates::{TemplateError, Templates};

/// One case as the combined acknowledgement lists it.
#[derive(Debug, Clone, Serialize)]
pub struct CombinedItem {
    pub tracking_code: String,
    /// The applicant's subject line as plain text (one line, shortened).
    pub subject: Option<String>,
    /// `Permohonan izin`, `Pengaduan`, ...
    pub kind_label: String,
    pub permit_type_name: Option<String>,
    /// Names of mandatory requirements still missing.
    pub missing: Vec<String>,
    pub status_url: Option<String>,
}

impl CombinedItem {
    /// The subject line as [`NoticeItem::plain_subject`] makes it: one line, no control
    /// characters, shortened.
    pub fn plain_subject(subject: Option<&str>) -> Option<String> {
        NoticeItem::plain_subject(subject)
    }
}

/// Everything the combined acknowledgement templates may use.
#[derive(Debug, Clone, Serialize)]
pub struct CombinedContext {
    pub office_name: String,
    pub applicant_name: Option<String>,
    /// The limit that held them back (`notify.max_acks_per_sender_per_hour`).
    pub per_hour: u32,
    pub cases: Vec<CombinedItem>,
}

/// Render subject and body.
pub fn render(
    templates: &Templates,
    ctx: &CombinedContext,
) -> Result<(String, String), TemplateError> {
    let value = serde_json::to_value(ctx).unwrap_or_default();
    let subject = templates.render("combined_ack_subject.txt", &value)?;
    let body = templates.render("combined_ack_body.txt", &value)?;
    Ok((one_line(&subject), tidy(&body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: &str, subject: &str, missing: &[&str]) -> CombinedItem {
        CombinedItem {
            tracking_code: code.into(),
            subject: CombinedItem::plain_subject(Some(subject)),
            kind_label: "Permohonan izin".into(),
            permit_type_name: Some("Persetujuan Bangunan Gedung (PBG)".into()),
            missing: missing.iter().map(|m| m.to_string()).collect(),
            status_url: Some(format!("https://perizinan.example/status/{code}")),
        }
    }

    #[test]
    fn a_case_not_sorted_to_a_permit_yet_is_not_called_complete() {
        let templates = Templates::load(std::path::Path::new("/nonexistent")).unwrap();
        let mut unsorted = item("PSR-7K3M9-QXD2F", "Mohon info", &[]);
        unsorted.permit_type_name = None;
        let ctx = CombinedContext {
            office_name: "DPMPTSP Kabupaten Pasuruan".into(),
            applicant_name: None,
            per_hour: 5,
            cases: vec![unsorted],
        };
        let (_, body) = render(&templates, &ctx).unwrap();
        assert!(body.starts_with("Yth. Bapak/Ibu,"), "{body}");
        assert!(body.contains("memeriksa dan memilah"), "{body}");
        assert!(!body.contains("lengkap"), "{body}");
    }

    #[test]
    fn business_learns_every_held_code_and_what_each_still_needs() {
        let templates = Templates::load(std::path::Path::new("/nonexistent")).unwrap();
        let ctx = CombinedContext {
            office_name: "DPMPTSP Kabupaten Pasuruan".into(),
            applicant_name: Some("PT Maju Jaya".into()),
            per_hour: 5,
            cases: vec![
                item(
                    "PSR-7K3M9-QXD2F",
                    "Permohonan PBG\r\n gudang 1",
                    &["Sertifikat tanah"],
                ),
                item("PSR-8M4N2-RYE3G", "Permohonan PBG gudang 2", &[]),
            ],
        };
        let (subject, body) = render(&templates, &ctx).unwrap();
        assert_eq!(
            subject,
            "Tanda terima 2 pesan Anda di DPMPTSP Kabupaten Pasuruan"
        );
        assert!(body.starts_with("Yth. PT Maju Jaya,"), "{body}");
        assert!(
            body.contains("1. NOMOR PELACAKAN: PSR-7K3M9-QXD2F"),
            "{body}"
        );
        assert!(body.contains("Perihal: Permohonan PBG gudang 1"), "{body}");
        assert!(body.contains("Masih kurang: Sertifikat tanah"), "{body}");
        assert!(
            body.contains("2. NOMOR PELACAKAN: PSR-8M4N2-RYE3G"),
            "{body}"
        );
        assert!(
            body.contains("Persyaratan wajib tampaknya sudah lengkap"),
            "{body}"
        );
        assert!(body.contains("https://perizinan.example/status/PSR-8M4N2-RYE3G"));
        assert!(body.contains("English:"), "{body}");
        assert!(!body.contains("\n\n\n"), "{body}");
    }
}
