use super::*;
use crate::extract::pdf::tests::text_pdf;

#[test]
fn jpeg_named_pdf_is_a_jpeg() {
    let photo = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0 scanned KTP";
    let got = read_document(photo, "application/pdf", "KTP.pdf");
    assert_eq!(got.content_type, "image/jpeg");
    assert!(got.error.is_none());
    assert_eq!(got.pages.len(), 1);
    assert_eq!(got.pages[0].source, PageSource::NeedsOcr);
}

#[test]
fn pdf_attachment_gives_its_text_per_page() {
    let pdf = text_pdf(
        &[
            "Surat Permohonan Izin Mendirikan Bangunan",
            "Lampiran denah lokasi usaha",
        ],
        None,
    );
    let got = read_document(&pdf, "application/octet-stream", "imb.bin");
    assert_eq!(got.content_type, "application/pdf");
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        got.text(),
        "Surat Permohonan Izin Mendirikan Bangunan\u{c}Lampiran denah lokasi usaha"
    );
}

#[test]
fn locked_pdf_tells_the_applicant_why() {
    let pdf = text_pdf(&["Laporan keuangan tahunan perusahaan"], Some("rahasia"));
    let got = read_document(&pdf, "application/pdf", "laporan.pdf");
    assert_eq!(got.error, Some(DocumentError::Encrypted("PDF".into())));
    assert_eq!(
        got.error.unwrap().alasan(),
        "berkas PDF dilindungi kata sandi"
    );
}

#[test]
fn windows_1252_text_file_is_decoded() {
    let got = read_document(
        b"Caf\xe9 \x93Kopi Kita\x94, Jl. Merdeka",
        "text/plain",
        "usaha.txt",
    );
    assert_eq!(got.content_type, "text/plain");
    assert_eq!(got.pages[0].source, PageSource::Plain);
    assert_eq!(
        got.text(),
        "Caf\u{e9} \u{201c}Kopi Kita\u{201d}, Jl. Merdeka"
    );
}

#[test]
fn utf8_text_file_keeps_its_text() {
    let got = read_document("\u{feff}Nama pemohon: Siti Nurhaliza\n".as_bytes(), "", "");
    assert_eq!(got.text(), "Nama pemohon: Siti Nurhaliza\n");
}

#[test]
fn html_attachment_gives_text() {
    let html = b"<!DOCTYPE html><html><body><h1>Formulir</h1><p>Nama: Budi</p></body></html>";
    let got = read_document(html, "text/html", "form.html");
    assert_eq!(got.content_type, "text/html");
    assert!(got.text().contains("Nama: Budi"), "{}", got.text());
}

#[test]
fn saved_email_gives_its_body() {
    let eml = b"From: Budi <budi@example.id>\r\nSubject: Izin usaha\r\nDate: Mon, 1 Jul 2024 10:00:00 +0700\r\n\r\nMohon diproses.\r\n";
    let got = read_document(eml, "message/rfc822", "forward.eml");
    assert_eq!(got.content_type, "message/rfc822");
    assert!(got.text().contains("Subject: Izin usaha"), "{}", got.text());
    assert!(got.text().contains("Mohon diproses."), "{}", got.text());
}

#[test]
fn broken_word_document_is_reported_as_damaged() {
    let docx = b"PK\x03\x04\x14\0\0\0\x08\0[Content_Types].xml....word/document.xml";
    let got = read_document(docx, "application/octet-stream", "Surat Kuasa.DOCX");
    assert_eq!(got.content_type, sniff::DOCX);
    assert!(
        matches!(got.error, Some(DocumentError::Corrupt { .. })),
        "{:?}",
        got.error
    );
}

#[test]
fn truncated_photo_is_damaged_not_unsupported() {
    let got = read_document(b"\0\x01\x02\x03\x04", "image/gif", "peta.gif");
    assert_eq!(got.content_type, "image/gif");
    let err = got.error.unwrap();
    assert!(
        matches!(&err, DocumentError::Corrupt { kind, .. } if kind == "GIF"),
        "{err:?}"
    );
    assert_eq!(err.alasan(), "berkas GIF rusak atau tidak dapat dibaca");
}

#[test]
fn unknown_format_is_named_by_its_extension() {
    let got = read_document(
        b"\0\x01\x02\x03\x04",
        "application/octet-stream",
        "gambar.CDR",
    );
    assert_eq!(got.error, Some(DocumentError::Unsupported(".cdr".into())));
}

#[test]
fn unknown_bytes_keep_the_declared_type() {
    let got = read_document(b"\0\x01\x02\x03\x04", "Application/X-Thing; name=a", "a");
    assert_eq!(got.content_type, "application/x-thing");
    assert!(matches!(got.error, Some(DocumentError::Unsupported(_))));
}

#[test]
fn empty_file_is_reported() {
    let got = read_document(b"", "application/pdf", "kosong.pdf");
    assert_eq!(got.content_type, "application/pdf");
    assert_eq!(got.error, Some(DocumentError::Empty));
    assert_eq!(DocumentError::Empty.alasan(), "berkas kosong");
}

#[test]
fn garbage_pdf_is_corrupt() {
    let got = read_document(b"%PDF-1.7\n\x00\x01garbage", "application/pdf", "rusak.pdf");
    let err = got.error.unwrap();
    assert!(matches!(err, DocumentError::Corrupt { .. }), "{err:?}");
    assert_eq!(err.alasan(), "berkas PDF rusak atau tidak dapat dibaca");
}

#[test]
fn every_reason_has_indonesian_words() {
    let all = [
        DocumentError::Encrypted("PDF".into()),
        DocumentError::Corrupt {
            kind: "PDF".into(),
            detail: "x".into(),
        },
        DocumentError::Unsupported("ZIP".into()),
        DocumentError::TooLarge("3000 pages".into()),
        DocumentError::Empty,
    ];
    for e in all {
        assert!(
            e.alasan().starts_with("berkas") || e.alasan().starts_with("format"),
            "{e}"
        );
        assert!(!e.is_transient());
    }
}
