//! A worker that hangs or dies costs only its page: the pool reports it, kills the child and
//! carries on with fresh workers.

mod ocr_common;

use std::time::{Duration, Instant};

use image::GrayImage;
use loket::extract::ocr::{OcrConfig, OcrError, OcrPool, PageImage};

/// A fake worker: says it is ready (a 7-byte frame `"ready"`), then runs `then`.
fn fake(then: &str) -> OcrPool {
    OcrPool::new(OcrConfig {
        program: "sh".into(),
        args: vec![
            "-c".into(),
            format!(r#"printf '\007\000\000\000"ready"'; {then}"#),
            "fake-worker".into(),
        ],
        languages: "ind+eng".into(),
        workers: 1,
        page_timeout: Duration::from_secs(1),
        start_timeout: Duration::from_secs(5),
    })
}

fn blank_page() -> PageImage {
    PageImage {
        image: GrayImage::from_pixel(200, 100, image::Luma([255])),
        dpi: 300,
        how: "png",
    }
}

#[test]
fn a_hanging_page_hits_the_time_limit_and_the_worker_is_replaced() {
    let rt = ocr_common::runtime();
    let pool = fake("sleep 30");
    for _ in 0..2 {
        let started = Instant::now();
        let err = rt.block_on(pool.ocr(blank_page())).expect_err("times out");
        assert_eq!(err, OcrError::Timeout { secs: 1 });
        assert!(!err.is_transient());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        println!("{err} / {}", err.alasan());
    }
}

#[test]
fn a_crashing_worker_costs_only_its_page() {
    let rt = ocr_common::runtime();
    let pool = fake("head -c 10 >/dev/null; exit 3");
    let err = rt.block_on(pool.ocr(blank_page())).expect_err("dies");
    assert!(matches!(err, OcrError::WorkerDied(_)), "{err}");
    assert!(
        !err.is_transient(),
        "a dead worker is no outage: the page, not OCR, may be the problem"
    );
    println!("{err}");
}

#[test]
fn a_missing_worker_program_is_a_spawn_error() {
    let rt = ocr_common::runtime();
    let pool = OcrPool::new(OcrConfig {
        program: "/nonexistent/loket".into(),
        ..OcrConfig::current_exe("ind+eng", 1).expect("exe")
    });
    let err = rt.block_on(pool.ocr(blank_page())).expect_err("no program");
    assert!(matches!(err, OcrError::Spawn { .. }), "{err}");
    assert!(err.is_transient(), "OCR is down: try again later");
}

#[test]
fn a_blank_page_reads_as_empty_text_and_missing_languages_are_reported() {
    let rt = ocr_common::runtime();
    let r = rt
        .block_on(ocr_common::pool(1).ocr(blank_page()))
        .expect("blank page");
    assert_eq!(r.text.trim(), "");
    let bad = OcrPool::new(OcrConfig {
        program: env!("CARGO_BIN_EXE_loket-ocr-worker").into(),
        args: vec![],
        languages: "xxx".into(),
        workers: 1,
        page_timeout: Duration::from_secs(30),
        start_timeout: Duration::from_secs(30),
    });
    let err = rt
        .block_on(bad.ocr(blank_page()))
        .expect_err("no such language");
    assert!(matches!(err, OcrError::Spawn { .. }), "{err}");
    println!("{err}");
}
