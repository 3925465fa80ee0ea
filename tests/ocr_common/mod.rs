//! Shared by the `ocr_*` integration tests: a worker pool, the corpus location, character error rate.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use loket::extract::ocr::{OcrConfig, OcrPool};

pub fn pool(workers: usize) -> OcrPool {
    OcrPool::new(OcrConfig {
        program: env!("CARGO_BIN_EXE_loket-ocr-worker").into(),
        args: vec![],
        languages: "ind+eng".into(),
        workers,
        page_timeout: Duration::from_secs(120),
        start_timeout: Duration::from_secs(30),
    })
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scans")
}

/// A folder of the shared corpus, or `None` (with a message) when it is not there.
pub fn corpus(folder: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(folder);
    let dir = if dir.is_dir() {
        dir
    } else {
        Path::new("/work/shared/corpus").join(folder)
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: corpus folder {folder} not found (see /work/shared/corpus/README.md)");
        None
    }
}

/// Whitespace runs count as one space: layout is not what is measured.
pub fn normalise(s: &str) -> Vec<char> {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect()
}

/// Character error rate: edit distance between the texts over the length of the truth.
pub fn cer(ocr: &str, truth: &str) -> f64 {
    let (a, b) = (normalise(ocr), normalise(truth));
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] as f64 / b.len().max(1) as f64
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}
