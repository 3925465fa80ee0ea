use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lopdf::{dictionary, Document, Object, Stream};

use super::*;

/// A PDF with one page per entry, each showing its text in Helvetica (WinAnsi), like an
/// application form saved from a word processor. `encrypt_with` locks it with that user password.
pub(crate) fn text_pdf(pages: &[&str], encrypt_with: Option<&str>) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    // Encryption keys are derived from the document ID.
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::string_literal(b"0123456789abcdef"),
            Object::string_literal(b"fedcba9876543210"),
        ]),
    );
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let kids: Vec<Object> = pages
        .iter()
        .map(|text| {
            let content = format!("BT\n/F1 12 Tf\n72 700 Td\n({text}) Tj\nET\n");
            let contents = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
            Object::Reference(doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
                "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
                "Contents" => contents,
            }))
        })
        .collect();
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    if let Some(password) = encrypt_with {
        let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
            document: &doc,
            owner_password: "pemilik",
            user_password: password,
            key_length: 128,
            permissions: lopdf::Permissions::all(),
        })
        .unwrap();
        doc.encrypt(&state).unwrap();
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// The OCRmyPDF test corpus, if this machine has it.
pub(crate) fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from("/work/shared/corpus/ocrmypdf");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping: {} not found", dir.display());
        None
    }
}

fn read_corpus(dir: &Path, name: &str) -> Result<Vec<PageText>, DocumentError> {
    read_pdf(&std::fs::read(dir.join(name)).unwrap())
}

#[test]
fn pdf_text_layer_is_read() {
    let pdf = text_pdf(
        &[
            "Formulir Permohonan Izin Usaha Mikro",
            "Nomor Induk Berusaha: 1234567890123",
        ],
        None,
    );
    let pages = read_pdf(&pdf).unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].source, PageSource::TextLayer);
    assert!(
        pages[0]
            .text
            .contains("Formulir Permohonan Izin Usaha Mikro"),
        "{:?}",
        pages[0]
    );
    assert!(pages[1].text.contains("1234567890123"), "{:?}", pages[1]);
}

#[test]
fn page_with_only_a_page_number_needs_ocr() {
    let pdf = text_pdf(&["Surat Pernyataan Kesanggupan Pemohon", "- 2 -"], None);
    let pages = read_pdf(&pdf).unwrap();
    assert_eq!(pages[0].source, PageSource::TextLayer);
    assert_eq!(pages[1].source, PageSource::NeedsOcr);
    assert!(pages[1].text.is_empty());
}

#[test]
fn pdf_with_too_many_pages_is_refused() {
    let pages = vec![""; MAX_PAGES + 1];
    let err = read_pdf(&text_pdf(&pages, None)).unwrap_err();
    assert!(matches!(err, DocumentError::TooLarge(_)), "{err:?}");
}

#[test]
fn encrypted_pdf_is_reported() {
    let pdf = text_pdf(&["Rahasia: laporan keuangan perusahaan"], Some("sandi123"));
    assert_eq!(
        read_pdf(&pdf).unwrap_err(),
        DocumentError::Encrypted("PDF".into())
    );
}

#[test]
fn pdf_locked_only_against_copying_is_read() {
    // Empty user password: anyone may open it; lopdf decrypts it on load.
    let pdf = text_pdf(&["Akta Pendirian Perseroan Terbatas"], Some(""));
    let pages = read_pdf(&pdf).unwrap();
    assert!(pages[0].text.contains("Akta Pendirian"), "{pages:?}");
}

#[test]
fn garbage_pdf_is_corrupt() {
    let err = read_pdf(b"%PDF-1.4\nthis is not really a pdf\n%%EOF").unwrap_err();
    assert!(matches!(err, DocumentError::Corrupt { .. }), "{err:?}");
    let truncated = &text_pdf(&["Formulir Permohonan Izin Usaha Mikro"], None)[..200];
    let err = read_pdf(truncated).unwrap_err();
    assert!(matches!(err, DocumentError::Corrupt { .. }), "{err:?}");
}

#[test]
fn corpus_pdf_with_text_layer_is_read() {
    let Some(dir) = corpus() else { return };
    let pages = read_corpus(&dir, "tagged.pdf").unwrap();
    assert!(
        pages.iter().any(|p| p.source == PageSource::TextLayer),
        "{pages:?}"
    );
}

#[test]
fn corpus_scans_need_ocr() {
    let Some(dir) = corpus() else { return };
    for name in ["linn.pdf", "skew.pdf", "ccitt.pdf"] {
        let pages = read_corpus(&dir, name).unwrap();
        assert!(
            pages.iter().all(|p| p.source == PageSource::NeedsOcr),
            "{name}: {pages:?}"
        );
    }
}

#[test]
fn corpus_invalid_pdf_is_corrupt() {
    let Some(dir) = corpus() else { return };
    let err = read_corpus(&dir, "invalid.pdf").unwrap_err();
    assert!(matches!(err, DocumentError::Corrupt { .. }), "{err:?}");
}

#[test]
fn image_bombs_are_quick_to_read() {
    let Some(dir) = corpus() else { return };
    for name in ["enormous.pdf", "hugemono.pdf"] {
        let started = Instant::now();
        let pages = read_corpus(&dir, name).unwrap();
        let took = started.elapsed();
        println!("{name}: {} page(s) in {took:?}", pages.len());
        assert!(
            pages.iter().all(|p| p.source == PageSource::NeedsOcr),
            "{name}: {pages:?}"
        );
        assert!(took < Duration::from_secs(2), "{name} took {took:?}");
    }
}

#[test]
fn every_corpus_pdf_reads_without_panic() {
    let Some(dir) = corpus() else { return };
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    names.sort();
    for path in names {
        let started = Instant::now();
        let result = read_pdf(&std::fs::read(&path).unwrap());
        let took = started.elapsed();
        let summary = match &result {
            Ok(pages) => format!(
                "{} page(s), {} with text",
                pages.len(),
                pages
                    .iter()
                    .filter(|p| p.source == PageSource::TextLayer)
                    .count()
            ),
            Err(e) => e.to_string(),
        };
        println!(
            "{:<28} {:>8.1?}  {summary}",
            path.file_name().unwrap().to_string_lossy(),
            took
        );
        assert!(
            took < Duration::from_secs(5),
            "{} took {took:?}",
            path.display()
        );
    }
}

/// The same letters encrypted by another library (qpdf, AES-128; `fixtures/make_fixtures.py`),
/// not only by lopdf itself.
#[test]
fn pdfs_encrypted_by_qpdf_are_refused_or_read_as_their_password_allows() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pdf");
    let locked = std::fs::read(dir.join("permohonan-terkunci.pdf")).unwrap();
    assert_eq!(
        read_pdf(&locked).unwrap_err(),
        DocumentError::Encrypted("PDF".into())
    );
    let openable = std::fs::read(dir.join("permohonan-sandi-kosong.pdf")).unwrap();
    let pages = read_pdf(&openable).unwrap();
    assert!(pages[0].text.contains("Dwi Prasetyo"), "{pages:?}");
}
