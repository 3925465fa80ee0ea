//! An applicant writes from Outlook, which wraps the mail's files and its rich text body in one
//! `winmail.dat` (TNEF). The officer must see the PDFs inside as documents, read like any
//! other attachment, and the letter's text as the body, not one "unsupported .dat" file.

mod app;
mod support;

use app::{acks_to, header, unique_address, Db, TestApp};
use mail_parser::MimeHeaders;

/// A TNEF stream: signature, key, then attributes with their checksums (MS-OXTNEF).
struct Tnef(Vec<u8>);

impl Tnef {
    fn new() -> Self {
        let mut out = 0x223E_9F78u32.to_le_bytes().to_vec();
        out.extend_from_slice(&0x0101u16.to_le_bytes());
        Self(out)
    }

    fn attr(mut self, level: u8, id: u32, data: &[u8]) -> Self {
        self.0.push(level);
        self.0.extend_from_slice(&id.to_le_bytes());
        self.0.extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.0.extend_from_slice(data);
        let sum = data.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        self.0.extend_from_slice(&sum.to_le_bytes());
        self
    }

    /// A file with its 8.3 title and its long name in a MAPI property (PR_ATTACH_LONG_FILENAME).
    fn file(self, title: &str, long: &str, data: &[u8]) -> Self {
        let name = [long.as_bytes(), b"\0"].concat();
        let mut props = 1u32.to_le_bytes().to_vec();
        props.extend_from_slice(&0x001Eu16.to_le_bytes());
        props.extend_from_slice(&0x3707u16.to_le_bytes());
        props.extend_from_slice(&1u32.to_le_bytes());
        props.extend_from_slice(&(name.len() as u32).to_le_bytes());
        props.extend_from_slice(&name);
        props.resize(props.len().div_ceil(4) * 4, 0);
        self.attr(
            2,
            0x0006_9002,
            &[1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0],
        )
        .attr(2, 0x0001_8010, &[title.as_bytes(), b"\0"].concat())
        .attr(2, 0x0006_800F, data)
        .attr(2, 0x0006_9005, &props)
    }

    /// The RTF body in PR_RTF_COMPRESSED, LZFu-compressed as literals only (a valid stream).
    fn rtf_body(self, rtf: &[u8]) -> Self {
        let mut packed = Vec::new();
        let mut chunks = rtf.chunks_exact(8);
        for chunk in chunks.by_ref() {
            packed.push(0);
            packed.extend_from_slice(chunk);
        }
        let rest = chunks.remainder();
        packed.push(1 << rest.len());
        packed.extend_from_slice(rest);
        let end = ((207 + rtf.len()) % 4096) as u16;
        packed.extend_from_slice(&(end << 4).to_be_bytes());
        let mut blob = ((packed.len() + 12) as u32).to_le_bytes().to_vec();
        blob.extend_from_slice(&(rtf.len() as u32).to_le_bytes());
        blob.extend_from_slice(b"LZFu");
        blob.extend_from_slice(&0u32.to_le_bytes());
        blob.extend_from_slice(&packed);
        let mut props = 1u32.to_le_bytes().to_vec();
        props.extend_from_slice(&0x0102u16.to_le_bytes());
        props.extend_from_slice(&0x1009u16.to_le_bytes());
        props.extend_from_slice(&1u32.to_le_bytes());
        props.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        props.extend_from_slice(&blob);
        props.resize(props.len().div_ceil(4) * 4, 0);
        self.attr(1, 0x0006_9003, &props)
    }
}

/// The PBG application letter (a PDF with a text layer) of the fixture mail.
fn surat_permohonan() -> Vec<u8> {
    let raw = std::fs::read(app::repo().join("fixtures/mail/pbg-application.eml")).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let pdf = msg
        .attachments()
        .find(|a| a.attachment_name() == Some("surat-permohonan.pdf"))
        .expect("the fixture has the letter")
        .contents()
        .to_vec();
    pdf
}

/// Outlook's mail: no text part, only winmail.dat.
fn outlook_mail(from: &str, winmail: &[u8]) -> Vec<u8> {
    format!(
        "From: Budi Santoso <{from}>\r\nTo: perizinan@pasuruankab.go.id\r\n\
         Subject: Permohonan PBG rumah tinggal\r\nMessage-ID: <{}@example.com>\r\n\
         Date: Mon, 23 Nov 2026 09:15:00 +0700\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n\
         Content-Disposition: attachment; filename=\"winmail.dat\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        uuid::Uuid::new_v4().simple(),
        data_encoding::BASE64_MIME.encode(winmail)
    )
    .into_bytes()
}

async fn outlook_applicant_sends_winmail_dat_and_its_pdf_is_read(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let budi = unique_address("budi");
    let pdf = surat_permohonan();
    let winmail = Tnef::new()
        .rtf_body(
            br"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0\fswiss Calibri;}}\pard\f0 Yth. Bapak/Ibu,\par Dengan hormat, saya mengajukan permohonan Persetujuan Bangunan Gedung (PBG) untuk rumah tinggal.\par Hormat saya,\par Budi Santoso\par}",
        )
        .file("SURAT-~1.PDF", "surat-permohonan.pdf", &pdf)
        .0;
    app.deliver(&outlook_mail(&budi, &winmail)).await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let cases = app.cases().await;
    assert_eq!(cases.len(), 1);
    let shown = app.show(&cases[0].tracking_code).await;
    assert_eq!(shown.documents.len(), 1, "{:#?}", shown.documents);
    let doc = &shown.documents[0];
    assert_eq!(doc.filename, "surat-permohonan.pdf");
    assert_eq!(doc.content_type, "application/pdf");
    assert_eq!(doc.size, pdf.len() as i64);
    assert!(doc.error.is_none(), "{doc:#?}");
    let text = doc.text.as_deref().unwrap_or("");
    assert!(text.contains("Budi Santoso"), "{text}");
    let body = shown
        .details
        .as_ref()
        .unwrap()
        .body
        .clone()
        .unwrap_or_default();
    assert!(body.contains("Persetujuan Bangunan Gedung (PBG)"), "{body}");
    assert!(
        !body.contains("rtf1") && !body.contains("Calibri"),
        "{body}"
    );
    assert_eq!(shown.permit_type.as_deref(), Some("pbg"), "{shown:#?}");

    let acks = acks_to(&budi, 1).await;
    assert_eq!(acks.len(), 1);
    assert!(header(&acks[0], "Subject")
        .unwrap()
        .contains(&shown.tracking_code));
    assert!(acks[0].contains("surat-permohonan.pdf"), "{}", acks[0]);
}

#[tokio::test]
async fn outlook_applicant_sends_winmail_dat_and_its_pdf_is_read_sqlite() {
    outlook_applicant_sends_winmail_dat_and_its_pdf_is_read(Db::Sqlite).await;
}

#[tokio::test]
async fn outlook_applicant_sends_winmail_dat_and_its_pdf_is_read_postgres() {
    outlook_applicant_sends_winmail_dat_and_its_pdf_is_read(Db::Postgres).await;
}
