//! tesseract's own test scans: our pipeline reads them no worse than the tesseract CLI (plus half
//! a point), and the rotated copies of phototest as well as the upright one.

mod ocr_common;

use ocr_common::{cer, corpus, pool, runtime};

use loket::extract::ocr::{page_images, OcrPool, OcrResult, RasterLimits};

/// Workers belong to the runtime that started them: one runtime per test.
fn read(rt: &tokio::runtime::Runtime, pool: &OcrPool, path: &std::path::Path) -> OcrResult {
    let data = std::fs::read(path).expect("scan");
    let mut pages = page_images(&data, "", &RasterLimits::default()).expect("page images");
    assert_eq!(pages.len(), 1);
    rt.block_on(pool.ocr(pages.remove(0))).expect("ocr")
}

/// The tesseract CLI's CER on the same scan under the same metric, when the CLI is installed.
fn cli_cer(scan: &std::path::Path, truth: &str) -> Option<f64> {
    let out = std::process::Command::new("tesseract")
        .arg(scan)
        .args(["-", "-l", "eng"])
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| cer(&String::from_utf8_lossy(&out.stdout), truth))
}

#[test]
fn tesseract_test_scans_read_no_worse_than_the_cli() {
    let Some(dir) = corpus("tesseract-test") else {
        return;
    };
    // Debian's tesseract 5.3.0 CLI as published in the corpus README. Our metric (whitespace
    // runs as one space, edit distance over truth length) reproduces the first two; on the
    // two-column UNLV page the CLI itself scores 0.094 under it (a heading read out of order
    // counts twice), so each scan is also held to the CLI run here under the same metric.
    let cases = [
        ("phototest.tif", "phototest.gold.txt", 0.000),
        ("eurotext.tif", "eurotext.txt", 0.022),
        ("8071_093.3B.tif", "8071_093.3B.txt", 0.018),
    ];
    let pool = pool(2);
    let rt = runtime();
    let mut worse = Vec::new();
    for (scan, gold, published) in cases {
        let truth = std::fs::read_to_string(dir.join(gold)).expect("ground truth");
        let got = read(&rt, &pool, &dir.join(scan));
        let rate = cer(&got.text, &truth);
        let cli = cli_cer(&dir.join(scan), &truth);
        let baseline = cli.map_or(published, |c| c.max(published));
        println!(
            "{scan}: CER {rate:.3}; CLI here {}; published {published:.3}; confidence {:.0}",
            cli.map_or("n/a".into(), |c| format!("{c:.3}")),
            got.confidence
        );
        if rate > baseline + 0.005 {
            worse.push(format!("{scan}: {rate:.3} > {baseline:.3} + 0.005"));
        }
    }
    assert!(worse.is_empty(), "{worse:?}");
}

/// Phototest scanned upright, a quarter turn either way and upside down: every copy is read
/// within half a point of the upright reading, and the upright reading is as good as the CLI's
/// (0.000), so "as well as upright" cannot pass because upright got worse.
#[test]
fn rotated_phototest_reads_as_well_as_upright() {
    let Some(dir) = corpus("tesseract-test") else {
        return;
    };
    let truth = std::fs::read_to_string(dir.join("phototest.gold.txt")).expect("ground truth");
    let pool = pool(2);
    let rt = runtime();
    let upright = cer(&read(&rt, &pool, &dir.join("phototest.tif")).text, &truth);
    assert!(upright <= 0.005, "upright phototest: CER {upright:.3}");
    let mut failures = Vec::new();
    // `turn`: the clockwise quarter turn that makes the copy upright.
    for (name, turn) in [
        ("phototest-rotated-L.png", 90),
        ("phototest-rotated-R.png", 270),
        ("phototest-rotated-180.png", 180),
    ] {
        let got = read(&rt, &pool, &dir.join(name));
        let rate = cer(&got.text, &truth);
        println!(
            "{name}: CER {rate:.3} (upright {upright:.3}), turned {} (needs {turn})",
            got.rotation
        );
        if rate > upright + 0.005 {
            failures.push(format!("{name}: CER {rate:.3} > {upright:.3} + 0.005"));
        }
        // Tesseract's layout analysis reads some sideways pages unturned (as vertical lines),
        // so a sideways copy may report 0; any other turn is wrong. Upside down is never
        // readable unturned.
        let allowed: &[u16] = if turn == 180 { &[180] } else { &[turn, 0] };
        if !allowed.contains(&got.rotation) {
            failures.push(format!(
                "{name}: turned {}, expected one of {allowed:?}",
                got.rotation
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The UNLV magazine page (four columns, a drop cap, a caption and a headline under the
/// columns) comes out in reading order: each column to its end, then what is below them. Read as
/// tesseract orders its blocks (what loket did before, and the CLI's `--psm 3`) it scores 0.094:
/// the drop cap's line after its column, the caption and byline between two columns. One block
/// (`--psm 4`/`--psm 6`) reads straight across the columns: 0.74 under this metric. What is
/// left (0.037): the caption under column 2 is read there, where the ground truth puts it after
/// column 4 (0.021), and typographic quotes where the truth has straight ones (0.008).
#[test]
fn a_magazine_page_in_columns_is_read_column_by_column() {
    let Some(dir) = corpus("tesseract-test") else {
        return;
    };
    let truth = std::fs::read_to_string(dir.join("8071_093.3B.txt")).expect("ground truth");
    let pool = pool(1);
    let rt = runtime();
    let got = read(&rt, &pool, &dir.join("8071_093.3B.tif"));
    let rate = cer(&got.text, &truth);
    println!("8071: CER {rate:.3}, layout {:?}", got.layout);
    assert_eq!(got.layout, loket::extract::ocr::Layout::Columns);
    assert!(rate <= 0.04, "CER {rate:.3}\n{}", got.text);
}

/// fixtures/layout, the tuning set (written before the reading-order code was run on them, but
/// the code changed after their first scores, 0.067 and 0.866): a title over two columns of
/// prose is read title, left column, right column; a ruled table row by row (its row numbers,
/// lone digits in their cells, are lost: 0.050).
#[test]
fn two_columns_and_a_table_come_out_in_reading_order() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/layout");
    let pool = pool(1);
    let rt = runtime();
    let mut failures = Vec::new();
    for name in ["dua_kolom", "tabel"] {
        let truth = std::fs::read_to_string(dir.join(format!("{name}.txt"))).expect("truth");
        let scan = dir.join(format!("{name}.png"));
        let got = read(&rt, &pool, &scan);
        let rate = cer(&got.text, &truth);
        let cli = cli_cer(&scan, &truth);
        println!(
            "{name}: CER {rate:.3} ({:?}); CLI --psm 3 {}",
            got.layout,
            cli.map_or("n/a".into(), |c| format!("{c:.3}"))
        );
        if rate > 0.06 {
            failures.push(format!("{name}: CER {rate:.3}\n{}", got.text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// fixtures/layout, written as the held-out set (after the reading-order change, before it was
/// run on them): three columns of uneven length, a form in ruled boxes. Scored once they read
/// 0.659 (the narrow columns, three words a line, were taken for a table) and 0.042 (CLI
/// `--psm 3`: 0.010 and 0.091); the column test was then changed, so they are tuning material
/// now. Held to the CLI's `--psm 3`, which loket replaced.
#[test]
fn held_out_layouts_read_no_worse_than_tesseracts_own_order() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/layout");
    let pool = pool(1);
    let rt = runtime();
    let mut failures = Vec::new();
    for scan in ["tiga_kolom.jpg", "formulir_kotak.png"] {
        let stem = scan.split('.').next().unwrap_or(scan);
        let truth = std::fs::read_to_string(dir.join(format!("{stem}.txt"))).expect("truth");
        let got = read(&rt, &pool, &dir.join(scan));
        let rate = cer(&got.text, &truth);
        let cli = cli_cer(&dir.join(scan), &truth);
        println!(
            "{scan}: CER {rate:.3} ({:?}); CLI --psm 3 {}\n{}",
            got.layout,
            cli.map_or("n/a".into(), |c| format!("{c:.3}")),
            got.text
        );
        if cli.is_some_and(|c| rate > c + 0.005) {
            failures.push(format!("{scan}: CER {rate:.3} > CLI {:?}", cli));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
