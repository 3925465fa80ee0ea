//! Handwritten pages are told from print: a printed form filled in by hand and a handwritten
//! letter (fixtures/handwriting, from fixtures/make_handwriting.py) and a form whose number boxes
//! hold real handwritten digits (MNIST, from fixtures/make_real_handwriting.py) are flagged; the
//! typed scans, the KTP photo and the shared corpus's scans are not.

mod ocr_common;

use std::path::Path;

use ocr_common::{corpus, fixtures, pool, runtime};

use loket::extract::ocr::{page_images, OcrPool, PageImage, PdfPages, RasterLimits};

fn pages(path: &Path) -> Vec<PageImage> {
    let data = std::fs::read(path).expect("fixture");
    let limits = RasterLimits::default();
    if path.extension().is_some_and(|e| e == "pdf") {
        let pdf = PdfPages::open(&data, &limits).expect("pdf");
        (0..pdf.page_count())
            .map(|i| pdf.page_image(i).expect("page image"))
            .collect()
    } else {
        page_images(&data, "", &limits).expect("page images")
    }
}

/// (file, page, handwritten?) for every page of the files.
fn flags(pool: &OcrPool, files: &[std::path::PathBuf]) -> Vec<(String, usize, bool)> {
    let rt = runtime();
    let mut out = Vec::new();
    for file in files {
        for (i, page) in pages(file).into_iter().enumerate() {
            let got = rt.block_on(pool.ocr(page)).expect("ocr");
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            println!(
                "{name} p{}: {:?} confidence {:.0} -> {}",
                i + 1,
                got.handwriting,
                got.confidence,
                got.handwriting.handwritten()
            );
            out.push((name, i + 1, got.handwriting.handwritten()));
        }
    }
    out
}

#[test]
fn handwritten_form_and_letter_are_flagged() {
    let dir = fixtures().join("../handwriting");
    let files = [
        dir.join("formulir_tangan.pdf"),
        dir.join("surat_tangan.jpg"),
    ];
    let got = flags(&pool(2), &files);
    let missed: Vec<_> = got.iter().filter(|(_, _, hw)| !hw).collect();
    assert!(missed.is_empty(), "not flagged: {missed:?}");
}

/// Real strokes, not drawn ones: a PBG form whose NIK, KK, date, phone and NOP boxes were
/// filled in with digits people wrote (MNIST), photographed grey. Tesseract reads some of the
/// digits, so it is not empty text; it is still handwriting, to be read from the image.
#[test]
fn a_form_with_real_handwritten_digits_is_flagged() {
    let file = fixtures().join("../handwriting/formulir_angka_tangan.jpg");
    let got = flags(&pool(1), &[file]);
    assert_eq!(got.len(), 1);
    assert!(got[0].2, "not flagged: {got:?}");
}

#[test]
fn typed_scans_and_photos_are_not_flagged() {
    let scans = fixtures();
    let mut files: Vec<_> = [
        "ktp_photo.jpg",
        "form_dct.pdf",
        "form_flate.pdf",
        "form_ccitt.pdf",
        "forms_g4.tif",
        "form_upside_down.png",
    ]
    .iter()
    .map(|n| scans.join(n))
    .collect();
    files.push(scans.join("../handwriting/formulir_ketik_foto.jpg"));
    if let Some(dir) = corpus("tesseract-test") {
        for n in ["phototest.tif", "eurotext.tif", "8071_093.3B.tif"] {
            files.push(dir.join(n));
        }
    }
    if let Some(dir) = corpus("ocrmypdf") {
        for n in [
            "skew.pdf",
            "epson.pdf",
            "kcs.pdf",
            "ccitt.pdf",
            "cardinal.pdf",
        ] {
            if dir.join(n).exists() {
                files.push(dir.join(n));
            }
        }
    }
    let got = flags(&pool(2), &files);
    let flagged: Vec<_> = got.iter().filter(|(_, _, hw)| *hw).collect();
    assert!(flagged.is_empty(), "typed pages flagged: {flagged:?}");
}
