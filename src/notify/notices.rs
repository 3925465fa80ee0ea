//! Department notices: a department is told which new cases are in its queue, one mail per case
//! or one digest a day (templates `department_notice_subject.txt` and `_body.txt`).
//!
//! A notice names each case by tracking code, kind and permit type, subject line, date received
//! and a link to the desk; never a document (no attachments, no text read from them) and nothing
//! else of the applicant: the officer opens the case on the desk, where access is checked and
//! recorded.

use serde::Serialize;

use super::ack::{one_line, tidy};
use super::templates::{TemplateError, Templates};

/// The longest subject line quoted from an applicant's mail.
const MAX_SUBJECT_CHARS: usize = 160;

/// One case as a notice lists it.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeItem {
    pub tracking_code: String,
    /// `Permohonan izin`, `Pengaduan`, ...
    pub kind_label: String,
    pub permit_type_name: Option<String>,
    /// The applicant's subject line as plain text (one line, shortened).
    pub subject: Option<String>,
    /// Office local time.
    pub received_at: String,
    /// The case page on the desk (`web.base_url` + `/cases/CODE`), when the desk has an address.
    pub url: Option<String>,
}

impl NoticeItem {
    /// The applicant's subject as one plain line: control characters gone, at most
    /// [`MAX_SUBJECT_CHARS`].
    pub fn plain_subject(subject: Option<&str>) -> Option<String> {
        let line = one_line(&subject?.replace(|c: char| c.is_control(), " "));
        if line.is_empty() {
            return None;
        }
        let mut short: String = line.chars().take(MAX_SUBJECT_CHARS).collect();
        if short.len() < line.len() {
            short.push('…');
        }
        Some(short)
    }

    /// The desk's case page for `code`, if the desk's address is known.
    pub fn desk_url(base_url: Option<&str>, code: &str) -> Option<String> {
        base_url.map(|b| format!("{}/cases/{code}", b.trim_end_matches('/')))
    }
}

/// Everything the notice templates may use.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeContext {
    pub office_name: String,
    pub department_name: String,
    /// True for the daily digest, false for a notice about one case.
    pub digest: bool,
    /// The digest's office day, e.g. `23 November 2026`.
    pub day: String,
    pub cases: Vec<NoticeItem>,
}

/// Render subject and body.
pub fn render(
    templates: &Templates,
    ctx: &NoticeContext,
) -> Result<(String, String), TemplateError> {
    let value = serde_json::to_value(ctx).unwrap_or_default();
    let subject = templates.render("department_notice_subject.txt", &value)?;
    let body = templates.render("department_notice_body.txt", &value)?;
    Ok((one_line(&subject), tidy(&body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: &str, subject: &str) -> NoticeItem {
        NoticeItem {
            tracking_code: code.into(),
            kind_label: "Permohonan izin".into(),
            permit_type_name: Some("Persetujuan Bangunan Gedung (PBG)".into()),
            subject: NoticeItem::plain_subject(Some(subject)),
            received_at: "23-11-2026 09:15 WIB".into(),
            url: NoticeItem::desk_url(Some("https://loket.example.go.id/"), code),
        }
    }

    #[test]
    fn a_digest_lists_every_case_with_its_desk_link() {
        let templates = Templates::load(std::path::Path::new("/nonexistent")).unwrap();
        let ctx = NoticeContext {
            office_name: "DPMPTSP Kabupaten Pasuruan".into(),
            department_name: "Bidang PUPR".into(),
            digest: true,
            day: "23 November 2026".into(),
            cases: vec![
                item("PSR-7K3M9-QXD2F", "Permohonan PBG\r\n\trumah"),
                item("PSR-3HF8W-QX2PA", "PBG gudang"),
            ],
        };
        let (subject, body) = render(&templates, &ctx).unwrap();
        assert_eq!(
            subject,
            "[loket] Berkas baru untuk Bidang PUPR: 2 berkas (23 November 2026)"
        );
        assert!(
            body.contains("1. Nomor pelacakan: PSR-7K3M9-QXD2F"),
            "{body}"
        );
        assert!(body.contains("Perihal: Permohonan PBG rumah\n"), "{body}");
        assert!(body.contains("https://loket.example.go.id/cases/PSR-3HF8W-QX2PA"));
        assert!(body.contains("Dokumen pemohon tidak dilampirkan"));
        assert!(!body.contains("\n\n\n"));
    }

    #[test]
    fn a_notice_about_one_case_names_it_in_the_subject() {
        let templates = Templates::load(std::path::Path::new("/nonexistent")).unwrap();
        let mut one = item("PSR-7K3M9-QXD2F", "");
        one.url = None;
        let ctx = NoticeContext {
            office_name: "DPMPTSP".into(),
            department_name: "Bidang PUPR".into(),
            digest: false,
            day: String::new(),
            cases: vec![one],
        };
        let (subject, body) = render(&templates, &ctx).unwrap();
        assert!(subject.starts_with("[PSR-7K3M9-QXD2F] Berkas baru untuk Bidang PUPR"));
        assert!(body.contains("Perihal: (tanpa perihal)"), "{body}");
        assert!(!body.contains("Buka di meja petugas"));
    }
}
