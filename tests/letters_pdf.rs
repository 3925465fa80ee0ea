//! Receipt letters and separator sheets as the mail room meets them: printed (pdftotext reads
//! the text back), and scanned (pdftoppm renders the pages, rqrr reads the QR codes).
//!
//! Needs poppler-utils; without `pdftotext`/`pdftoppm` the tests say so and pass. Set
//! `LOKET_LETTERS_OUT=/some/dir` to keep the generated PDFs for a look.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use image::{GrayImage, Luma};
use loket::domain::separator::SEPARATOR_MARKER;
use loket::intake::separator::is_separator;
use loket::notify::letters::{render_letters, ReceiptLetter};
use loket::notify::separator::separator_sheet_pdf;

const STATUS_URL: &str = "https://perizinan.kotamaju.go.id/status/DPM-7K2QX-9M4TB";

fn poppler_missing() -> bool {
    let missing = ["pdftotext", "pdftoppm"]
        .iter()
        .any(|tool| Command::new(tool).arg("-v").output().is_err());
    if missing {
        eprintln!("skipping: pdftotext/pdftoppm (poppler-utils) not installed");
    }
    missing
}

fn office_letter(code: &str) -> ReceiptLetter {
    ReceiptLetter {
        office_name: "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kota Maju".into(),
        office_address: Some("Jl. Merdeka No. 17, Kota Maju 40111".into()),
        office_contact: Some("dpmptsp@kotamaju.go.id · (022) 420 1234".into()),
        date: "23 November 2026".into(),
        tracking_code: code.into(),
        applicant_name: None,
        applicant_address: None,
        documents: vec![],
        missing: vec![],
        permit_type_name: None,
        status_url: None,
        kind_label: "Berkas diterima melalui pos".into(),
    }
}

fn three_letters() -> Vec<ReceiptLetter> {
    let first = ReceiptLetter {
        applicant_name: Some("Siti Rahmawati".into()),
        applicant_address: Some(
            "Jl. Kenanga No. 5 RT 03/RW 07\nKel. Sukajadi, Kec. Sukasari\nKota Maju 40153".into(),
        ),
        documents: vec![
            "Formulir permohonan PBG (2 halaman)".into(),
            "KTP pemohon.jpg".into(),
            "Gambar_rencana_teknis_lantai_1-3.pdf".into(),
        ],
        missing: vec![
            "Sertifikat tanah atau bukti kepemilikan".into(),
            "NPWP".into(),
        ],
        permit_type_name: Some("Persetujuan Bangunan Gedung (PBG)".into()),
        status_url: Some(STATUS_URL.into()),
        ..office_letter("DPM-7K2QX-9M4TB")
    };
    let second = ReceiptLetter {
        applicant_name: Some("CV Berkah Jaya Abadi".into()),
        applicant_address: Some("Ruko Pasar Baru Blok C-12\nKota Maju 40112".into()),
        documents: vec![
            "Surat permohonan SIUP.pdf".into(),
            "Akta pendirian.pdf".into(),
        ],
        permit_type_name: Some("Izin Usaha".into()),
        ..office_letter("DPM-3HF8W-QX2PA")
    };
    let third = ReceiptLetter {
        applicant_name: Some("Bambang Sutrisno".into()),
        applicant_address: Some("Dusun Krajan RT 01, Desa Sidomulyo".into()),
        // Enough documents to need a continuation page.
        documents: (1..=60)
            .map(|i| format!("Lampiran {i:02} - salinan dokumen pendukung.pdf"))
            .collect(),
        missing: vec!["Rekomendasi lingkungan".into()],
        status_url: Some("https://perizinan.kotamaju.go.id/status/DPM-9Z4MN-T7R2C".into()),
        ..office_letter("DPM-9Z4MN-T7R2C")
    };
    vec![first, second, third]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write pdf");
    if let Some(out) = std::env::var_os("LOKET_LETTERS_OUT") {
        std::fs::write(Path::new(&out).join(name), bytes).expect("write pdf copy");
    }
    path
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout".as_ref(), pdf.as_os_str(), "-".as_ref()])
        .output()
        .expect("run pdftotext");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).expect("utf-8 text")
}

/// Renders page `page` (1-based) as a grey image at `dpi`.
fn render_page(pdf: &Path, page: u32, dpi: u32) -> GrayImage {
    let prefix = pdf.with_extension(format!("p{page}-{dpi}"));
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray", "-png", "-singlefile"])
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("run pdftoppm");
    assert!(status.success(), "pdftoppm failed");
    image::open(prefix.with_extension(format!("p{page}-{dpi}.png")))
        .expect("load rendered page")
        .to_luma8()
}

fn qr_contents(page: &GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        page.width() as usize,
        page.height() as usize,
        |x, y| page.get_pixel(x as u32, y as u32).0[0],
    );
    prepared
        .detect_grids()
        .iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

/// A scanner's skew: rotates by `degrees` about the centre, filling corners with white.
fn rotate(page: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = page.dimensions();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let sx = (cos * dx + sin * dy + cx).round();
        let sy = (-sin * dx + cos * dy + cy).round();
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *page.get_pixel(sx as u32, sy as u32)
        } else {
            Luma([255])
        }
    })
}

/// Scanner noise: grey jitter on every pixel plus a sprinkle of black and white specks.
fn add_noise(page: &mut GrayImage) {
    let mut state: u32 = 0x2545_f491;
    for pixel in page.pixels_mut() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let jitter = (state % 61) as i32 - 30;
        pixel.0[0] = match state % 100 {
            0 => 0,
            1 => 255,
            _ => (pixel.0[0] as i32 + jitter).clamp(0, 255) as u8,
        };
    }
}

#[test]
fn mail_room_prints_receipts_for_three_applicants_in_one_pdf() {
    if poppler_missing() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let letters = three_letters();
    let started = Instant::now();
    let pdf = render_letters(&letters).expect("render letters");
    eprintln!(
        "rendered 3 letters in {:?} ({} bytes)",
        started.elapsed(),
        pdf.len()
    );
    let path = write(dir.path(), "receipts.pdf", &pdf);

    let text = pdftotext(&path);
    for letter in &letters {
        assert!(
            text.contains(&letter.tracking_code),
            "{} missing",
            letter.tracking_code
        );
        let name = letter
            .applicant_name
            .as_deref()
            .expect("test letters have names");
        assert!(text.contains(name), "{name} missing");
    }
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(
        pages.len() >= 4,
        "the 60-document letter continues on a second page"
    );
    assert!(pages[0].contains("TANDA TERIMA BERKAS PERMOHONAN"));
    assert!(pages[0].contains("Sertifikat tanah atau bukti kepemilikan"));
    assert!(pages[0].contains(&format!("Cek status: {STATUS_URL}")));
    assert!(
        pages[1].contains("tampak lengkap"),
        "no missing requirements on letter 2"
    );
    assert!(
        pages[1].contains("Hubungi kantor kami"),
        "letter 2 has no status URL"
    );
    assert!(text.contains("Lampiran 60"), "long lists are not cut off");
    assert!(text.contains("(lanjutan)"));
}

#[test]
fn receipt_qr_code_opens_the_status_page_or_holds_the_code() {
    if poppler_missing() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "qr.pdf",
        &render_letters(&three_letters()).expect("render"),
    );

    assert_eq!(qr_contents(&render_page(&path, 1, 150)), [STATUS_URL]);
    assert_eq!(
        qr_contents(&render_page(&path, 2, 150)),
        ["DPM-3HF8W-QX2PA"]
    );
}

#[test]
fn scanned_separator_sheet_is_recognised_even_skewed_and_noisy() {
    if poppler_missing() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf = separator_sheet_pdf("DPMPTSP Kota Maju").expect("separator sheet");
    let path = write(dir.path(), "separator.pdf", &pdf);
    let text = pdftotext(&path);
    assert!(text.contains("LEMBAR PEMISAH"));
    assert!(text.contains("SEPARATOR SHEET"));
    assert!(text.contains("Letakkan lembar ini di antara berkas permohonan"));

    for dpi in [150, 200] {
        let clean = render_page(&path, 1, dpi);
        assert_eq!(qr_contents(&clean), [SEPARATOR_MARKER]);
        let mut skewed = rotate(&clean, 1.5);
        add_noise(&mut skewed);
        let upside_down_skewed = image::imageops::rotate180(&rotate(&clean, -2.0));
        for (what, page) in [
            ("clean", &clean),
            ("skewed and noisy", &skewed),
            ("upside down", &upside_down_skewed),
        ] {
            let started = Instant::now();
            assert!(
                is_separator(page),
                "{what} separator at {dpi} dpi not recognised"
            );
            eprintln!("{what} separator at {dpi} dpi: {:?}", started.elapsed());
        }
    }
}

#[test]
fn letters_and_text_pages_are_not_separators() {
    if poppler_missing() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "pages.pdf",
        &render_letters(&three_letters()).expect("render"),
    );
    // Page 1 carries a QR code of its own; page 4 is the text-only continuation page.
    for page in [1, 4] {
        let mut image = render_page(&path, page, 150);
        add_noise(&mut image);
        let started = Instant::now();
        assert!(!is_separator(&image), "page {page} taken for a separator");
        eprintln!("letter page {page} at 150 dpi: {:?}", started.elapsed());
    }
}

#[test]
fn impossible_letters_are_refused_with_a_permanent_error() {
    let err = render_letters(&[]).expect_err("no letters");
    assert!(err.is_permanent());

    let mut letter = three_letters().remove(0);
    letter.status_url = Some(format!("https://example.go.id/{}", "x".repeat(5000)));
    let err = render_letters(&[letter]).expect_err("URL too long for a QR code");
    assert!(
        matches!(err, loket::notify::letters::LetterError::Qr { .. }),
        "{err}"
    );
    assert!(err.is_permanent());
}

/// A dark smear over a third of the sheet's QR code, finder pattern included, as a coffee stain
/// or a thumb leaves it: centred 30 mm into the code, 34 x 26 mm across.
fn smudge(page: &mut GrayImage) {
    let mm = page.width() as f32 / 210.0;
    let (cx, cy) = (80.0 * mm, 88.0 * mm);
    let (rx, ry) = (34.0 * mm, 26.0 * mm);
    for (x, y, pixel) in page.enumerate_pixels_mut() {
        let d = ((x as f32 - cx) / rx).powi(2) + ((y as f32 - cy) / ry).powi(2);
        if d < 1.0 {
            let shade = 40.0 + 60.0 * d;
            pixel.0[0] = pixel.0[0].min(shade as u8);
        }
    }
}

#[test]
fn a_separator_sheet_with_a_smudged_code_is_known_by_its_layout() {
    use loket::intake::separator::{has_separator_code, has_sheet_layout};
    if poppler_missing() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf = separator_sheet_pdf("DPMPTSP Kota Maju").expect("separator sheet");
    let path = write(dir.path(), "separator.pdf", &pdf);
    for dpi in [100, 150, 200] {
        let clean = render_page(&path, 1, dpi);
        assert!(has_sheet_layout(&clean), "clean sheet at {dpi} dpi");
        let mut smudged = clean.clone();
        smudge(&mut smudged);
        let mut skewed = rotate(&smudged, 1.5);
        add_noise(&mut skewed);
        let upside_down = image::imageops::rotate180(&rotate(&smudged, -2.0));
        for (what, page) in [
            ("smudged", &smudged),
            ("smudged, skewed and noisy", &skewed),
            ("smudged upside down", &upside_down),
        ] {
            assert!(
                !has_separator_code(page),
                "{what} at {dpi} dpi: code still reads"
            );
            let started = Instant::now();
            assert!(
                is_separator(page),
                "{what} sheet at {dpi} dpi not recognised"
            );
            eprintln!("{what} sheet at {dpi} dpi: {:?}", started.elapsed());
        }
    }
}

/// Nothing else looks like the sheet: letters (one with a QR code of its own), the scanned forms
/// and the KTP photo of the fixtures, the blank page, and a magazine page with a photo.
#[test]
fn letters_forms_photos_and_blank_pages_do_not_have_the_sheets_layout() {
    use loket::extract::ocr::{page_images, pdf_page_image, RasterLimits};
    use loket::intake::separator::has_sheet_layout;
    if poppler_missing() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let letters = write(
        dir.path(),
        "letters.pdf",
        &render_letters(&three_letters()).expect("render"),
    );
    let mut pages: Vec<(String, GrayImage)> = (1..=4)
        .map(|p| (format!("letter page {p}"), render_page(&letters, p, 150)))
        .collect();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let limits = RasterLimits::default();
    for name in ["form_dct.pdf", "form_flate.pdf", "form_ccitt.pdf"] {
        let data = std::fs::read(repo.join("fixtures/scans").join(name)).expect("fixture");
        let page = pdf_page_image(&data, 0, &limits).expect("page image");
        pages.push((name.into(), page.image));
    }
    for name in ["ktp_photo.jpg", "forms_g4.tif", "form_upside_down.png"] {
        let data = std::fs::read(repo.join("fixtures/scans").join(name)).expect("fixture");
        for page in page_images(&data, "", &limits).expect("page images") {
            pages.push((name.into(), page.image));
        }
    }
    let blank = repo.join("fixtures/postal/halaman-kosong.pdf");
    pages.push(("blank page".into(), render_page(&blank, 1, 150)));
    let magazine = repo.join("../shared/corpus/tesseract-test/8071_093.3B.tif");
    if let Ok(data) = std::fs::read(&magazine) {
        for page in page_images(&data, "", &limits).expect("page images") {
            pages.push(("UNLV 8071".into(), page.image));
        }
    }
    for (what, page) in &pages {
        assert!(
            !has_sheet_layout(page),
            "{what} taken for a separator sheet"
        );
        assert!(!is_separator(page), "{what} taken for a separator sheet");
    }
}
