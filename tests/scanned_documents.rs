//! Scanned documents through the whole pipeline with real OCR: an applicant emails what they
//! have (a scanner PDF, a phone photo of the KTP, a filled-in Word form, a ZIP) and every
//! document ends up with text; unreadable files are named in the acknowledgement.

mod app;
mod support;

use app::{acks_to, docx, mail_with, repo, unique_address, Db, Part, TestApp};

fn scan(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("fixtures/scans").join(name)).unwrap()
}

#[tokio::test]
async fn applicant_emails_a_scanned_form_a_ktp_photo_and_a_word_form_and_all_are_read() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let budi = unique_address("budi");
    let (pdf, photo) = (scan("form_dct.pdf"), scan("ktp_photo.jpg"));
    let form = docx(&[
        "FORMULIR PERMOHONAN PBG",
        "Nama Pemohon : Budi Santoso",
        "Alamat : Jl. Merdeka 5, Bangil",
    ]);
    let raw = mail_with(
        &budi,
        "Permohonan PBG rumah tinggal",
        "Dengan hormat, terlampir berkas permohonan PBG saya.",
        &[
            Part {
                filename: "scan_formulir.pdf",
                content_type: "application/pdf",
                data: &pdf,
            },
            Part {
                filename: "IMG_20261104_0931.jpg",
                content_type: "image/jpeg",
                data: &photo,
            },
            Part {
                filename: "formulir.docx",
                content_type:
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                data: &form,
            },
        ],
    );
    app.deliver(&raw).await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let code = app.cases().await[0].tracking_code.clone();
    let case = app.show(&code).await;
    assert_eq!(case.documents.len(), 3);
    for d in &case.documents {
        assert!(d.error.is_none(), "{}: {:?}", d.filename, d.error);
        assert!(d.text_chars > 20, "{} has text: {:?}", d.filename, d.text);
    }
    let ktp = &case.documents[1];
    let ktp_truth = std::fs::read_to_string(repo().join("fixtures/scans/ktp_photo.txt")).unwrap();
    let nik: String = ktp_truth
        .split_whitespace()
        .find(|w| w.len() == 16 && w.chars().all(|c| c.is_ascii_digit()))
        .unwrap()
        .into();
    assert!(
        ktp.text.as_deref().unwrap().contains(&nik),
        "NIK read exactly"
    );
    assert_eq!(
        ktp.doc_type.as_deref(),
        Some("ktp"),
        "typed from its text, not its name"
    );

    let acks = acks_to(&budi, 1).await;
    for d in &case.documents {
        assert!(acks[0].contains(&d.filename), "ack lists {}", d.filename);
    }
}

#[tokio::test]
async fn unreadable_files_are_named_in_the_acknowledgement_with_a_reason() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let ani = unique_address("ani");
    let raw = mail_with(
        &ani,
        "Permohonan izin reklame",
        "Berkas terlampir.",
        &[
            Part {
                filename: "rusak.jpg",
                content_type: "image/jpeg",
                data: b"\xff\xd8\xff\xe0 broken",
            },
            Part {
                filename: "dokumen.xyz",
                content_type: "application/octet-stream",
                data: b"\x00\x01\x02\x03 random",
            },
        ],
    );
    app.deliver(&raw).await;
    app.run_once().await;
    let case = app.show(&app.cases().await[0].tracking_code).await;
    for d in &case.documents {
        assert!(d.error.is_some(), "{} has a recorded reason", d.filename);
    }
    let body = ack_body(&acks_to(&ani, 1).await[0]);
    assert!(
        body.contains("rusak.jpg") && body.contains("TIDAK DAPAT DIBACA"),
        "{body}"
    );
}

/// An applicant saves their letter "with a password" (qpdf, AES-128, see
/// `fixtures/make_fixtures.py`): the case is still filed, the officer sees why the letter has
/// no text, and the applicant learns which file to send again. The same letter protected by an
/// owner password only (anyone may open it) is simply read.
#[tokio::test]
async fn a_password_protected_pdf_is_named_in_the_acknowledgement_and_an_openable_one_is_read() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let dwi = unique_address("dwi");
    let locked = std::fs::read(repo().join("fixtures/pdf/permohonan-terkunci.pdf")).unwrap();
    let openable = std::fs::read(repo().join("fixtures/pdf/permohonan-sandi-kosong.pdf")).unwrap();
    let raw = mail_with(
        &dwi,
        "Permohonan izin reklame papan nama",
        "Dengan hormat, surat permohonan saya terlampir.",
        &[
            Part {
                filename: "surat-permohonan.pdf",
                content_type: "application/pdf",
                data: &locked,
            },
            Part {
                filename: "salinan-surat.pdf",
                content_type: "application/pdf",
                data: &openable,
            },
        ],
    );
    app.deliver(&raw).await;
    let run = app.command().args(["run", "--once"]).output().unwrap();
    assert!(
        run.status.success(),
        "run --once: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    let cases = app.cases().await;
    assert_eq!(cases.len(), 1, "the case is filed");
    let case = app.show(&cases[0].tracking_code).await;
    let history = case.history.as_deref().unwrap_or_default();
    let parked: Vec<_> = history
        .iter()
        .filter(|e| e.event.ends_with("_failed"))
        .collect();
    assert!(parked.is_empty(), "nothing parked: {parked:?}");
    let [locked_doc, openable_doc] = &case.documents[..] else {
        panic!("two documents: {:#?}", case.documents);
    };
    let error = locked_doc.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("password protected"),
        "{}: {error:?}",
        locked_doc.filename
    );
    assert_eq!(locked_doc.text_chars, 0, "no text from a locked file");
    assert!(openable_doc.error.is_none(), "{:?}", openable_doc.error);
    assert!(
        openable_doc
            .text
            .as_deref()
            .unwrap_or_default()
            .contains("Dwi Prasetyo"),
        "{:?}",
        openable_doc.text
    );

    let body = ack_body(&acks_to(&dwi, 1).await[0]);
    let locked_entry = ack_entry(&body, "surat-permohonan.pdf");
    assert!(
        locked_entry.contains("TIDAK DAPAT DIBACA: berkas PDF dilindungi kata sandi"),
        "the acknowledgement names the locked file and why: {body}"
    );
    let openable_entry = ack_entry(&body, "salinan-surat.pdf");
    assert!(!openable_entry.contains("TIDAK DAPAT DIBACA"), "{body}");
}

/// A document's entry in the acknowledgement's list: its `  - name` line and the indented
/// lines under it.
fn ack_entry(body: &str, filename: &str) -> String {
    let mut lines = body
        .lines()
        .skip_while(|l| !l.starts_with(&format!("  - {filename}")));
    let Some(first) = lines.next() else {
        panic!("the acknowledgement lists {filename}: {body}");
    };
    std::iter::once(first)
        .chain(lines.take_while(|l| l.starts_with("    ")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ack_body(ack: &str) -> String {
    mail_parser::MessageParser::default()
        .parse(ack.as_bytes())
        .unwrap()
        .body_text(0)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_zip_of_scans_is_unpacked_into_documents() {
    use std::io::Write;
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let sari = unique_address("sari");
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    for name in ["form_ccitt.pdf", "forms_g4.tif"] {
        zip.start_file(
            format!("berkas/{name}"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(&scan(name)).unwrap();
    }
    zip.finish().unwrap();
    let zipped = buf.into_inner();
    let raw = mail_with(
        &sari,
        "Berkas permohonan",
        "Terlampir berkas dalam zip.",
        &[Part {
            filename: "berkas.zip",
            content_type: "application/zip",
            data: &zipped,
        }],
    );
    app.deliver(&raw).await;
    app.run_once().await;
    let case = app.show(&app.cases().await[0].tracking_code).await;
    let names: Vec<&str> = case.documents.iter().map(|d| d.filename.as_str()).collect();
    assert_eq!(names, ["form_ccitt.pdf", "forms_g4.tif"]);
    let tiff = &case.documents[1];
    assert_eq!(tiff.pages, Some(2), "multi-page TIFF gives a page each");
    assert!(
        case.documents
            .iter()
            .all(|d| d.text_chars > 50 && d.error.is_none()),
        "{:#?}",
        case.documents
    );
}

#[tokio::test]
async fn an_iphone_photo_in_heic_is_read_too() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let rina = unique_address("rina");
    let heic = scan("ktp_photo.heic");
    let raw = mail_with(
        &rina,
        "KTP untuk permohonan",
        "Foto KTP saya.",
        &[Part {
            filename: "IMG_4031.HEIC",
            content_type: "image/heic",
            data: &heic,
        }],
    );
    app.deliver(&raw).await;
    app.run_once().await;
    let case = app.show(&app.cases().await[0].tracking_code).await;
    let photo = &case.documents[0];
    assert!(photo.error.is_none(), "{:?}", photo.error);
    assert!(
        photo.text.as_deref().unwrap().contains("3204125708900001"),
        "{:?}",
        photo.text
    );
}
