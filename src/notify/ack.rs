//! The acknowledgement: what the applicant is told when their message has been filed and sorted.

use serde::Serialize;

use super::templates::{TemplateError, Templates};

/// One received document as the applicant sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AckDocument {
    pub filename: String,
    /// The document type's name, when recognised.
    pub doc_type_name: Option<String>,
    /// Why it could not be read, in Bahasa Indonesia.
    pub error: Option<String>,
    /// Pages that could not be read of a document whose other pages were.
    pub unreadable_pages: Vec<AckPage>,
}

/// One page given up on (OCR failed on it, or it crashed the OCR engine).
#[derive(Debug, Clone, Serialize)]
pub struct AckPage {
    /// Page number, from 1.
    pub page: usize,
    /// Why, in Bahasa Indonesia.
    pub alasan: String,
}

/// Everything the acknowledgement templates may use.
#[derive(Debug, Clone, Serialize)]
pub struct AckContext {
    pub office_name: String,
    pub tracking_code: String,
    pub applicant_name: Option<String>,
    pub subject: Option<String>,
    /// Office local time.
    pub received_at: String,
    /// `application`, `complaint`, `consultation`, `other`.
    pub kind: String,
    pub kind_label: String,
    pub permit_type_name: Option<String>,
    pub department_name: Option<String>,
    pub triage: bool,
    pub documents: Vec<AckDocument>,
    /// Names of requirements already satisfied.
    pub received_requirements: Vec<String>,
    /// Names of mandatory requirements still missing.
    pub missing: Vec<String>,
    /// A problem with the message as a whole (too large, unreadable), in Bahasa Indonesia.
    pub error: Option<String>,
    pub status_url: Option<String>,
    /// True for the answer to a follow-up message (more documents for an existing case).
    pub followup: bool,
    /// Files of this message that the case already had (not counted twice).
    pub repeated_files: Vec<String>,
}

/// Render subject and body.
pub fn render(templates: &Templates, ctx: &AckContext) -> Result<(String, String), TemplateError> {
    let value = serde_json::to_value(ctx).unwrap_or_default();
    let subject = templates.render("ack_subject.txt", &value)?;
    let body = templates.render("ack_body.txt", &value)?;
    Ok((one_line(&subject), tidy(&body)))
}

/// A subject is one line, whatever the template or the applicant's subject contains.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most one empty line in a row, so template conditionals leave no gaps.
pub(crate) fn tidy(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut blank = 0;
    for line in body.lines() {
        let line = line.trim_end();
        blank = if line.is_empty() { blank + 1 } else { 0 };
        if blank <= 1 {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.trim_start_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AckContext {
        AckContext {
            office_name: "DPMPTSP Kabupaten Pasuruan".into(),
            tracking_code: "PSR-7K3M9-QXD2F".into(),
            applicant_name: Some("Budi Santoso".into()),
            subject: Some("Permohonan PBG\r\n rumah tinggal".into()),
            received_at: "23-11-2026 16:15 WIB".into(),
            kind: "application".into(),
            kind_label: "Permohonan izin".into(),
            permit_type_name: Some("Persetujuan Bangunan Gedung (PBG)".into()),
            department_name: Some("Bidang PUPR".into()),
            triage: false,
            documents: vec![
                AckDocument {
                    filename: "ktp.pdf".into(),
                    doc_type_name: Some("KTP".into()),
                    error: None,
                    unreadable_pages: vec![AckPage {
                        page: 2,
                        alasan: "mesin pembaca teks (OCR) gagal pada halaman ini".into(),
                    }],
                },
                AckDocument {
                    filename: "scan.pdf".into(),
                    doc_type_name: None,
                    error: Some("berkas PDF dilindungi kata sandi".into()),
                    unreadable_pages: Vec::new(),
                },
            ],
            received_requirements: vec!["Fotokopi KTP pemohon".into()],
            missing: vec!["Sertifikat tanah".into()],
            error: None,
            status_url: None,
            followup: false,
            repeated_files: Vec::new(),
        }
    }

    #[test]
    fn applicant_learns_code_documents_and_what_is_missing() {
        let templates = Templates::load(std::path::Path::new("/nonexistent")).unwrap();
        let (subject, body) = render(&templates, &sample()).unwrap();
        assert_eq!(
            subject,
            "[PSR-7K3M9-QXD2F] Tanda terima permohonan izin: Permohonan PBG rumah tinggal"
        );
        assert!(body.contains("NOMOR PELACAKAN: PSR-7K3M9-QXD2F"), "{body}");
        assert!(body.contains("ktp.pdf (KTP)"));
        assert!(body.contains("TIDAK DAPAT DIBACA: berkas PDF dilindungi kata sandi"));
        assert!(body.contains(
            "ktp.pdf (KTP)\n    Halaman 2 TIDAK DAPAT DIBACA: mesin pembaca teks (OCR) gagal pada \
             halaman ini. Mohon kirim ulang halaman ini.\n"
        ));
        assert!(body.contains("MASIH KURANG"));
        assert!(body.contains("Sertifikat tanah"));
        assert!(body.contains("English:"));
        assert!(!body.contains("\n\n\n"));
    }
}
