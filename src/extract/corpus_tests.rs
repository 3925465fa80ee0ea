//! Robustness over third-party mail corpora (`../shared/corpus/README.md`): every message
//! parses without panic, every attachment is read without panic, all in bounded time. Skips
//! with a message when the corpora are absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::document::read_document;
use super::mime::{parse, MimeLimits};

/// Generous for a debug build on a loaded 2-core machine; a release build takes a fraction.
const BUDGET: Duration = Duration::from_secs(20);

fn files_under(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, suffix, out);
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
}

/// CPython's `test/test_email/data`, found through the interpreter.
fn python_email_data() -> Option<PathBuf> {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import test, os; print(os.path.dirname(test.__file__))",
        ])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()).join("test_email/data");
    dir.is_dir().then_some(dir)
}

pub(super) fn corpus_messages() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let shared = Path::new("/work/shared/corpus");
    files_under(
        &shared.join("mail-parser-eml/resources/eml"),
        ".eml",
        &mut files,
    );
    files_under(&shared.join("enmime/testdata"), ".raw", &mut files);
    match python_email_data() {
        Some(dir) => {
            let mut python = Vec::new();
            files_under(&dir, ".txt", &mut python);
            python.retain(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("msg_"))
            });
            files.extend(python);
        }
        None => println!("skipping CPython's test_email data: not found"),
    }
    files.sort();
    files
}

#[test]
fn every_corpus_message_parses_and_its_attachments_read() {
    let files = corpus_messages();
    if files.is_empty() {
        println!("skipping: no mail corpora found under /work/shared/corpus");
        return;
    }
    let started = Instant::now();
    let (mut messages, mut rejected, mut attachments, mut unreadable) = (0, 0, 0, 0);
    let mut slowest = (Duration::ZERO, PathBuf::new());
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for path in &files {
        let raw = std::fs::read(path).unwrap();
        let one = Instant::now();
        match parse(&raw, &MimeLimits::default()) {
            Ok(msg) => {
                messages += 1;
                for a in &msg.attachments {
                    attachments += 1;
                    assert!(
                        !a.filename.is_empty() && !a.filename.contains(['/', '\\']),
                        "{path:?}: {a:?}"
                    );
                    let got = read_document(&a.data, &a.content_type, &a.filename);
                    if let Some(error) = got.error {
                        unreadable += 1;
                        *reasons
                            .entry(format!("{}: {error}", got.content_type))
                            .or_default() += 1;
                    }
                }
            }
            Err(_) => rejected += 1,
        }
        if one.elapsed() > slowest.0 {
            slowest = (one.elapsed(), path.clone());
        }
    }
    let took = started.elapsed();
    println!(
        "{} files: {messages} parsed, {rejected} rejected; {attachments} attachments, \
         {unreadable} unreadable; {took:?} total, slowest {:?} ({})",
        files.len(),
        slowest.0,
        slowest.1.display()
    );
    for (reason, count) in reasons {
        println!("  {count:>3} x {reason}");
    }
    assert!(took < BUDGET, "took {took:?}");
}
