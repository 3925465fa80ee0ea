//! OCRmyPDF's test PDFs: every page of every file gives an image or a recorded reason, without a
//! crash or a hang; the decompression bombs are refused quickly; a few small ones are read.

mod ocr_common;

use std::time::{Duration, Instant};

use ocr_common::{corpus, pool, runtime};

use loket::extract::ocr::{ocr_pdf_pages, OcrInputError, PdfPages, RasterLimits};

#[test]
fn every_ocrmypdf_pdf_gives_page_images_or_a_reason() {
    let Some(dir) = corpus("ocrmypdf") else {
        return;
    };
    let limits = RasterLimits::default();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    files.sort();
    assert!(files.len() > 30, "corpus incomplete");
    let sweep = Instant::now();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let data = std::fs::read(&path).expect("read");
        let started = Instant::now();
        let outcome = match PdfPages::open(&data, &limits) {
            Err(e) => format!("refused: {e}"),
            Ok(pdf) => (0..pdf.page_count().min(4))
                .map(|i| match pdf.page_image(i) {
                    Ok(p) => format!(
                        "p{} {} {}x{}@{}",
                        i + 1,
                        p.how,
                        p.image.width(),
                        p.image.height(),
                        p.dpi
                    ),
                    Err(e) => format!("p{} refused: {e}", i + 1),
                })
                .collect::<Vec<_>>()
                .join("; "),
        };
        let took = started.elapsed();
        println!("{name:32} {:>6} ms  {outcome}", took.as_millis());
        assert!(took < Duration::from_secs(30), "{name} took {took:?}");
    }
    println!("sweep: {:.1} s", sweep.elapsed().as_secs_f64());
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

#[test]
fn small_scanned_pdfs_are_read_through_the_pool() {
    let Some(dir) = corpus("ocrmypdf") else {
        return;
    };
    let pool = pool(2);
    let rt = runtime();
    // ccitt: G4 with BlackIs1; jbig2: rendered by poppler; cardinal: four orientations;
    // rotated_skew: /Rotate 90 and skewed. All are the same two-column page (linn.png).
    for name in ["ccitt.pdf", "jbig2.pdf", "cardinal.pdf", "rotated_skew.pdf"] {
        let data = std::fs::read(dir.join(name)).expect("read");
        let pdf =
            std::sync::Arc::new(PdfPages::open(&data, &RasterLimits::default()).expect("open"));
        let pages: Vec<usize> = (0..pdf.page_count()).collect();
        let started = Instant::now();
        let done = rt.block_on(ocr_pdf_pages(&pool, pdf, &pages));
        for page in done {
            let r = page.result.expect("page read");
            let words = r.text.split_whitespace().count();
            println!(
                "{name} p{} via {:?}: {words} words, confidence {:.0}, rotation {} ({} ms total)",
                page.index + 1,
                page.how,
                r.confidence,
                r.rotation,
                started.elapsed().as_millis()
            );
            assert!(
                r.text.contains("Linn"),
                "{name} p{}: {}",
                page.index + 1,
                r.text
            );
            assert!(r.confidence > 60.0, "{name} p{}", page.index + 1);
        }
    }
}
