//! The generated scans (fixtures/scans, from fixtures/make_scans.py) read back within 3 % character
//! error rate, with every NIK exact, through the real worker pool.

mod ocr_common;

use ocr_common::{cer, fixtures, pool, runtime};

use loket::extract::ocr::{page_images, pdf_page_image, PageImage, RasterLimits};

fn pages_of(name: &str) -> Vec<PageImage> {
    let data = std::fs::read(fixtures().join(name)).expect("fixture");
    let limits = RasterLimits::default();
    if name.ends_with(".pdf") {
        vec![pdf_page_image(&data, 0, &limits).expect("page image")]
    } else {
        page_images(&data, "", &limits).expect("page images")
    }
}

fn truth(name: &str) -> Vec<String> {
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    let text = std::fs::read_to_string(fixtures().join(format!("{stem}.txt"))).expect("truth");
    text.split('\u{c}').map(str::to_string).collect()
}

fn niks(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"NIK\s*:\s*(\S+)").expect("regex");
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

#[test]
fn scanned_forms_and_ktp_photo_read_within_three_percent() {
    let cases = [
        ("ktp_photo.jpg", "jpeg"),
        ("form_dct.pdf", "pdf-dct"),
        ("form_flate.pdf", "pdf-flate"),
        ("form_ccitt.pdf", "pdf-ccitt"),
        ("forms_g4.tif", "tiff"),
        ("form_upside_down.png", "png"),
    ];
    let pool = pool(2);
    let rt = runtime();
    let mut failures = Vec::new();
    for (name, how) in cases {
        let pages = pages_of(name);
        let truth = truth(name);
        assert_eq!(pages.len(), truth.len(), "{name}: page count");
        for (i, (page, want)) in pages.into_iter().zip(&truth).enumerate() {
            assert_eq!(page.how, how, "{name}: decoding path");
            let got = rt.block_on(pool.ocr(page)).expect("ocr");
            let rate = cer(&got.text, want);
            println!(
                "{name} page {}: CER {rate:.3}, confidence {:.0}, rotation {}",
                i + 1,
                got.confidence,
                got.rotation
            );
            if rate > 0.03 {
                failures.push(format!("{name} p{}: CER {rate:.3}\n{}", i + 1, got.text));
            }
            assert_eq!(niks(&got.text), niks(want), "{name} page {}: NIK", i + 1);
            if name.contains("upside_down") {
                assert_eq!(got.rotation, 180, "upside-down page turned");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn phone_photo_is_turned_upright_by_its_exif_orientation() {
    // Stored 620 wide and 880 high with Orientation 6: shown (and read) 880 x 620.
    let page = &pages_of("ktp_photo.jpg")[0];
    assert!(
        page.image.width() > page.image.height(),
        "landscape after EXIF"
    );
    assert!(
        page.image.width() >= 1400,
        "small photo scaled up: {}",
        page.image.width()
    );
}

#[test]
fn multi_page_tiff_gives_one_image_per_page() {
    let pages = pages_of("forms_g4.tif");
    assert_eq!(pages.len(), 2);
    assert!(pages.iter().all(|p| p.how == "tiff"));
}

#[test]
fn native_pdf_decoding_matches_poppler_rendering() {
    // Honouring BlackIs1 (CCITT) and predictors (Flate) shows in the pixels, not in OCR text.
    for name in ["form_ccitt.pdf", "form_flate.pdf", "form_dct.pdf"] {
        let data = std::fs::read(fixtures().join(name)).expect("fixture");
        let native = pdf_page_image(&data, 0, &RasterLimits::default()).expect("native");
        let limits = RasterLimits {
            render_dpi: native.dpi,
            ..RasterLimits::default()
        };
        let rendered = render_forced(&data, &limits);
        let agree = agreement(&native.image, &rendered.image);
        println!(
            "{name}: {:.1} % of pixels agree with pdftoppm",
            agree * 100.0
        );
        assert!(agree > 0.97, "{name}: only {agree:.3} agree");
    }
}

/// Page 1 as poppler renders it, at the resolution of the native image.
fn render_forced(pdf: &[u8], limits: &RasterLimits) -> PageImage {
    let out = std::process::Command::new("pdftoppm")
        .args([
            "-r",
            &limits.render_dpi.to_string(),
            "-gray",
            "-f",
            "1",
            "-l",
            "1",
            "fd://0",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(pdf)?;
            c.wait_with_output()
        })
        .expect("pdftoppm");
    let img = image::load_from_memory(&pgm_to_png(&out.stdout))
        .expect("pgm")
        .into_luma8();
    PageImage {
        image: img,
        dpi: limits.render_dpi,
        how: "pdftoppm",
    }
}

fn pgm_to_png(pgm: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(&pgm[..32.min(pgm.len())]).to_string();
    let mut it = text.split_ascii_whitespace();
    let (_, w, h) = (
        it.next(),
        it.next().unwrap_or("0"),
        it.next().unwrap_or("0"),
    );
    let (w, h): (u32, u32) = (w.parse().unwrap_or(0), h.parse().unwrap_or(0));
    let start = pgm.len() - (w * h) as usize;
    let img = image::GrayImage::from_raw(w, h, pgm[start..].to_vec()).expect("pgm size");
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    png
}

/// Share of pixels on the same side of mid-grey.
fn agreement(a: &image::GrayImage, b: &image::GrayImage) -> f64 {
    let (w, h) = (a.width().min(b.width()), a.height().min(b.height()));
    let mut same = 0u64;
    for y in 0..h {
        for x in 0..w {
            same += u64::from((a.get_pixel(x, y).0[0] > 127) == (b.get_pixel(x, y).0[0] > 127));
        }
    }
    same as f64 / (u64::from(w) * u64::from(h)).max(1) as f64
}
