//! [`split`] over the bodies of real third-party mail (`../shared/corpus`, CPython's
//! `test_email` data): no panic, no invented text, text kept when the body starts with text.
//! Skips with a message when the corpora are absent.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::split;
use crate::extract::corpus_tests::corpus_messages;
use crate::extract::mime::{parse, MimeLimits};

/// Lines that may open a body without being text of the sender's own: quote markers, reply and
/// forward headers, signature delimiters, client footers. Deliberately broader than the module's
/// recognisers, so the check below does not just repeat them.
static NOT_PLAIN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(>|--|_{5,}|(on|pada|le|am|el|em|op)\s|(from|dari|sent|dikirim|date|to|subject)\s*:|sent\s|dikirim\s|get outlook|\d{4}-\d{2}-\d{2})|wrote:|menulis:|original message|pesan asli",
    )
    .unwrap()
});

fn body_of(path: &Path) -> Option<String> {
    let raw = std::fs::read(path).ok()?;
    parse(&raw, &MimeLimits::default())
        .ok()
        .map(|m| m.body_text)
}

/// Every non-blank line of `part`, in order, is a line of `body` (trimmed: blocks are trimmed).
fn is_made_of_lines_of(part: &str, body: &str) -> bool {
    let mut remaining = body.lines().map(str::trim);
    part.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .all(|line| remaining.any(|b| b == line))
}

#[test]
fn real_bodies_split_without_panic_or_invented_text() {
    let files = corpus_messages();
    if files.is_empty() {
        println!("skipping: no mail corpora found under /work/shared/corpus");
        return;
    }
    let (mut bodies, mut quoted, mut signed) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let Some(body) = body_of(path) else { continue };
        bodies += 1;
        let parts = split(&body);
        quoted += usize::from(parts.has_quote());
        signed += usize::from(parts.signature.is_some());
        let name = path.display();
        for (what, text) in [
            ("new_text", Some(parts.new_text.as_str())),
            ("quoted", parts.quoted.as_deref()),
            ("signature", parts.signature.as_deref()),
        ] {
            if text.is_some_and(|t| !is_made_of_lines_of(t, &body)) {
                failures.push(format!("{name}: {what} has a line that is not in the body"));
            }
        }
        let first = body.lines().map(str::trim).find(|l| !l.is_empty());
        if first.is_some_and(|l| !NOT_PLAIN_TEXT.is_match(l)) && parts.new_text.is_empty() {
            failures.push(format!(
                "{name}: body starts with text but new_text is empty"
            ));
        }
    }
    println!("{bodies} bodies split: {quoted} with a quote, {signed} with a signature");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "exploration: lists what is cut in the corpora"]
fn list_what_is_cut() {
    for path in corpus_messages() {
        let Some(body) = body_of(&path) else { continue };
        let parts = split(&body);
        let suspicious = body.lines().any(|l| {
            let l = l.trim();
            l.starts_with('>')
                || l.ends_with("wrote:")
                || l.starts_with("-----")
                || l.starts_with("From:")
                || l.starts_with("On ")
                || l.starts_with("Sent from")
                || l.starts_with("___")
        });
        if std::env::var("SUSPICIOUS").is_ok() && suspicious && !parts.has_quote() {
            println!(
                "??? {}\n{}\n",
                path.display(),
                body.lines()
                    .filter(|l| {
                        let l = l.trim();
                        l.starts_with('>')
                            || l.ends_with("wrote:")
                            || l.starts_with("-----")
                            || l.starts_with("From:")
                            || l.starts_with("On ")
                            || l.starts_with("Sent from")
                            || l.starts_with("___")
                    })
                    .take(5)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        if parts.has_quote() || parts.signature.is_some() {
            println!(
                "=== {}\n--- new\n{}\n--- quoted\n{}\n--- sig\n{}\n",
                path.display(),
                parts.new_text.chars().take(300).collect::<String>(),
                parts
                    .quoted
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect::<String>(),
                parts.signature.unwrap_or_default()
            );
        }
    }
}

/// The body of one corpus message by path, or `None` (with a message) when it is absent.
fn real_body(path: &str) -> Option<String> {
    let path = Path::new(path);
    let body = body_of(path);
    if body.is_none() {
        println!("skipping: {} not found", path.display());
    }
    body
}

fn cpython_data(name: &str) -> String {
    corpus_messages()
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == name))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

#[test]
fn real_signatures_are_cut_and_the_letter_above_stays() {
    // A German reply from Dovecot's test mail: "--" without its space, after "Beste Grüße".
    if let Some(body) =
        real_body("/work/shared/corpus/mail-parser-eml/resources/eml/thirdparty/015.eml")
    {
        let parts = split(&body);
        assert!(parts.new_text.starts_with("Hallo Stoiko,"));
        assert!(
            parts.new_text.ends_with("Beste Grüße"),
            "{}",
            parts.new_text
        );
        let signature = parts.signature.clone().unwrap();
        assert!(signature.starts_with("--\nJonas Sterr\nInhaber | ProxForge"));
        assert!(!parts.new_text.contains("jsterr@proxforge.de"));
        assert!(!parts.has_quote());
    }
    // A service's welcome mail with an RFC 3676 "-- " signature.
    if let Some(body) = real_body("/work/shared/corpus/enmime/testdata/mail/ctype-bug.raw") {
        let parts = split(&body);
        assert!(
            parts.new_text.ends_with("All of us at Papertrail"),
            "{}",
            parts.new_text
        );
        let signature = parts.signature.unwrap();
        let first: Vec<&str> = signature.lines().take(2).collect();
        assert_eq!(first, ["-- ", "Can we help?"]);
        assert!(signature.contains("support@papertrailapp.com"));
    }
    // CPython's nested multipart whose last text part is only a signature.
    if let Some(body) = real_body(&cpython_data("msg_38.txt")) {
        let parts = split(&body);
        assert_eq!(
            parts.signature.as_deref(),
            Some("--\nIt's never too late to have a happy childhood.")
        );
        assert!(parts
            .new_text
            .starts_with("Unlike the test test_nested-multiples"));
    }
}

#[test]
fn real_header_lists_and_list_footers_are_not_mistaken_for_quotes() {
    // A delivery report that lists the failed message's From/To/Subject: content, not history.
    if let Some(body) = real_body(&cpython_data("msg_16.txt")) {
        let parts = split(&body);
        assert!(!parts.has_quote());
        assert!(parts
            .new_text
            .contains("From: \"Ian T. Henry\" <henryi@oxy.edu>"));
        assert_eq!(parts.new_text, body.trim());
    }
    // A Mailman footer under an underscore rule: no From line below it, so no Outlook quote.
    if let Some(body) = real_body(&cpython_data("msg_02.txt")) {
        let parts = split(&body);
        assert!(!parts.has_quote());
        assert!(parts
            .new_text
            .contains("_______________________________________________"));
    }
}
