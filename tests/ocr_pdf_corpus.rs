//! OCRmyPDF's test PDFs, as applicants' attachments: each file gives the text or the reason
//! written down for it in [`EXPECTED`], without a crash or a hang (the scans among them: G4 with
//! BlackIs1, JBIG2 rendered by poppler, four orientations, /Rotate 90 and skewed, all the same
//! two-column page); the decompression bombs are refused quickly.

mod ocr_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ocr_common::{corpus, pool, runtime};

use loket::extract::document::{read_document, DocumentError};
use loket::extract::ocr::{OcrInputError, OcrPool, PdfPages, RasterLimits};
use loket::pipeline::ocr_fill;

/// Longest any one file may take, as a guard against a hang (not what is tested).
const FILE_LIMIT: Duration = Duration::from_secs(180);

/// What an applicant sending this PDF should get.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// Read (text layer and OCR): no document error and at least this many visible characters,
    /// containing this word when given.
    Text(usize, Option<&'static str>),
    /// Read without error, but there is (almost) nothing on the page: at most this many visible
    /// characters (OCR finds a stray mark or two in a drawing).
    Blank(usize),
    /// Read in part: at least this many characters, and some page refused for this reason.
    Partly(usize, Reason),
    /// Not read, for this reason.
    Refused(Reason),
}

use Want::{Blank, Partly, Refused, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Corrupt,
    TooManyPixels,
}

/// Every PDF of the corpus with what it must give. A new file in the corpus fails the test until
/// it is listed here.
const EXPECTED: &[(&str, Want)] = &[
    ("2400dpi.pdf", Text(300, Some("linzen"))),
    ("3small.pdf", Text(400, Some("BAIONA"))),
    ("acroform.pdf", Text(30, Some("cromulent"))),
    // 1000x400 pixels at 200 x 100 dpi: read from the page as drawn (pdftoppm), not squashed.
    ("aspect.pdf", Text(20, Some("perfect circle"))),
    ("blank.pdf", Blank(0)),
    ("c02-22.pdf", Text(700, Some("tip-toeing"))),
    // The two-column page four times, turned 0, 90, 180 and 270 degrees.
    ("cardinal.pdf", Text(12_000, Some("Linn"))),
    ("ccitt.pdf", Text(3000, Some("Linn"))),
    // Its text layer uses a font without a usable encoding: it comes out garbled (pdftotext's
    // too) and is taken as it is. Telling garbage text layers from real ones is not done yet.
    ("cmyk.pdf", Text(40, None)),
    ("docinfo_latin1_key.pdf", Blank(0)),
    ("enormous.pdf", Refused(Reason::TooManyPixels)),
    (
        "epson.pdf",
        Text(1600, Some("Optical character recognition")),
    ),
    ("formxobject.pdf", Text(40, Some("image embedded"))),
    ("francais.pdf", Text(200, Some("whisky"))),
    ("graph.pdf", Text(50, Some("support"))),
    ("graph_ocred.pdf", Text(60, Some("support"))),
    ("hugemono.pdf", Refused(Reason::TooManyPixels)),
    ("invalid.pdf", Refused(Reason::Corrupt)),
    ("jbig2.pdf", Text(3000, Some("Linn"))),
    ("jbig2_baddevicen.pdf", Text(3000, Some("Linn"))),
    ("kcs.pdf", Text(15, Some("Desktop Test"))),
    // A painting (JPEG 2000) without words.
    ("lichtenstein.pdf", Blank(5)),
    ("link.pdf", Text(40, Some("Go to page 2"))),
    ("linn.pdf", Text(3000, Some("Linn"))),
    // An XFA form: its content needs Adobe's form renderer; the page itself is empty.
    ("livecycle.pdf", Blank(0)),
    ("masks.pdf", Text(1700, Some("Wikipedia"))),
    ("meta.pdf", Blank(0)),
    ("missing_docinfo.pdf", Text(25, Some("DocumentInfo"))),
    // Six pages; the second is a 9000x9000 image, refused, the others read.
    ("multipage.pdf", Partly(5000, Reason::TooManyPixels)),
    ("negzero.pdf", Text(40, Some("image embedded"))),
    ("no_contents.pdf", Blank(0)),
    ("overlay.pdf", Text(20, Some("2017-Jan-22"))),
    ("palette.pdf", Text(70, Some("BAIONA"))),
    ("poster.pdf", Text(3000, Some("Linn"))),
    ("rotated_skew.pdf", Text(3000, Some("Linn"))),
    ("skew.pdf", Text(3000, Some("Linn"))),
    ("tagged.pdf", Text(350, Some("Table of Contents"))),
    ("toc.pdf", Text(40, Some("image embedded"))),
    ("trivial.pdf", Blank(0)),
    // The text layer cannot be mapped to Unicode, so the page is read by OCR instead.
    ("truetype_font_nomapping.pdf", Text(5, Some("Phone"))),
    // Two Type 3 glyphs without a mapping; OCR (like the CLI) makes "ua" of them.
    ("type3_font_nomapping.pdf", Blank(5)),
    ("vector.pdf", Text(90, Some("Sample Vector PDF"))),
];

/// A document's outcome in the terms of [`Want`].
#[derive(Debug)]
struct Outcome {
    chars: usize,
    text: String,
    error: Option<DocumentError>,
    pages: usize,
    page_errors: Vec<String>,
}

impl Reason {
    /// The reason an OCR message (English, as officers see it) gives.
    fn of_message(message: &str) -> Option<Reason> {
        message
            .contains("exceeds the limit")
            .then_some(Reason::TooManyPixels)
    }
}

impl Outcome {
    fn reason(&self) -> Option<Reason> {
        match self.error.as_ref()? {
            DocumentError::Corrupt { .. } => Some(Reason::Corrupt),
            DocumentError::Unreadable { detail, .. } => Reason::of_message(detail),
            _ => None,
        }
    }

    fn meets(&self, want: Want) -> bool {
        match want {
            Want::Text(min, word) => {
                self.error.is_none()
                    && self.chars >= min
                    // In any case: with its axes erased, graph.pdf's legend reads "Support", where
                    // a misreading once gave "soo support".
                    && word.is_none_or(|w| self.text.to_lowercase().contains(&w.to_lowercase()))
            }
            Want::Blank(max) => self.error.is_none() && self.chars <= max,
            Want::Partly(min, reason) => {
                self.error.is_none()
                    && self.chars >= min
                    && self
                        .page_errors
                        .iter()
                        .any(|e| Reason::of_message(e) == Some(reason))
            }
            Want::Refused(reason) => self.error.is_some() && self.reason() == Some(reason),
        }
    }
}

/// The document path of the extract step: text layer, then OCR of the pages without one.
async fn read(pool: &OcrPool, data: Vec<u8>, name: String) -> Outcome {
    let data = Arc::new(data);
    let bytes = data.clone();
    let mut x =
        tokio::task::spawn_blocking(move || read_document(&bytes, "application/pdf", &name))
            .await
            .expect("read_document never panics");
    ocr_fill(pool, data, &mut x).await.expect("OCR available");
    let text = x.text();
    Outcome {
        chars: text.chars().filter(|c| !c.is_whitespace()).count(),
        text,
        pages: x.pages.len(),
        page_errors: x.pages.iter().filter_map(|p| p.error.clone()).collect(),
        error: x.error,
    }
}

#[test]
fn every_ocrmypdf_pdf_gives_its_expected_text_or_reason() {
    let Some(dir) = corpus("ocrmypdf") else {
        return;
    };
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .filter_map(|p| p.file_name()?.to_str().map(String::from))
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|(n, _)| *n).collect();
    let unlisted: Vec<&String> = files
        .iter()
        .filter(|f| !listed.contains(&f.as_str()))
        .collect();
    let absent: Vec<&&str> = listed
        .iter()
        .filter(|n| !files.iter().any(|f| f == *n))
        .collect();
    let pool = pool(2);
    let rt = runtime();
    let sweep = Instant::now();
    let mut wrong = Vec::new();
    for name in &files {
        let data = std::fs::read(dir.join(name)).expect("read");
        let started = Instant::now();
        // A safety net against a hang: OCR and pdftoppm have their own time limits.
        let outcome = rt
            .block_on(async {
                tokio::time::timeout(FILE_LIMIT, read(&pool, data, name.clone())).await
            })
            .unwrap_or_else(|_| panic!("{name}: no outcome within {FILE_LIMIT:?}"));
        let took = started.elapsed();
        let want = EXPECTED.iter().find(|(n, _)| n == name).map(|(_, w)| *w);
        println!(
            "{name:28} {:>6} ms  {} pages, {} chars, error {:?}, page errors {:?}",
            took.as_millis(),
            outcome.pages,
            outcome.chars,
            outcome.error.as_ref().map(|e| e.to_string()),
            outcome.page_errors,
        );
        if let Some(want) = want.filter(|w| !outcome.meets(*w)) {
            wrong.push(format!(
                "{name}: want {want:?}, got {} chars, error {:?}",
                outcome.chars,
                outcome.error.as_ref().map(|e| e.to_string())
            ));
        }
    }
    println!("sweep: {:.1} s", sweep.elapsed().as_secs_f64());
    assert!(
        unlisted.is_empty(),
        "corpus files without an expected outcome: {unlisted:?}"
    );
    assert!(
        absent.is_empty(),
        "expected files missing from the corpus: {absent:?}"
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn decompression_bombs_are_refused_quickly_with_a_reason() {
    let Some(dir) = corpus("ocrmypdf") else {
        return;
    };
    for name in ["hugemono.pdf", "enormous.pdf"] {
        let data = std::fs::read(dir.join(name)).expect("read");
        let started = Instant::now();
        let pdf = PdfPages::open(&data, &RasterLimits::default()).expect("parses");
        let err = pdf.page_image(0).expect_err("bomb refused");
        let took = started.elapsed();
        println!("{name}: {err} / {} ({} ms)", err.alasan(), took.as_millis());
        assert!(
            matches!(err, OcrInputError::TooManyPixels { .. }),
            "{name}: {err}"
        );
        assert!(took < Duration::from_secs(2), "{name}: {took:?}");
    }
}
