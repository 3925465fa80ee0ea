//! Real third-party bounces (`../shared/corpus/bounces`: flanker, MimeKit, ruby mail) with
//! the truth read off each file by hand; real non-bounce mail from mail-parser's and enmime's
//! corpora; and CPython's email corpus, where exactly four messages are reports.

use std::path::{Path, PathBuf};

use super::tests::summary;
use super::*;
use Severity::{Delayed, NotAFailure, Permanent};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    dir.is_dir().then_some(dir)
}

type Row = (
    &'static str,
    &'static str,
    &'static [(&'static str, Option<&'static str>, Severity)],
    &'static [&'static str],
);

const GMAIL_550: Option<&str> = Some("5.1.1");
const MULTI: &[(&str, Option<&str>, Severity)] = &[
    ("bbbbvhvbbvkjbhfbvbvjhb@gmail.com", GMAIL_550, Permanent),
    (
        "bscdbcjhasbcjhbdscbhbsdhcbj@gmail.com",
        GMAIL_550,
        Permanent,
    ),
    ("egyfefsdvsfvvhjsd@gmail.com", GMAIL_550, Permanent),
    ("kfhejkfbsjkjsbhds@gmail.com", GMAIL_550, Permanent),
    (
        "qfvhgsvhgsduiohncdhcvhsdfvsfygusd@gmail.com",
        GMAIL_550,
        Permanent,
    ),
];

/// file, format, recipients, original message ids.
const TRUTH: &[Row] = &[
    // Plain text from a postmaster: "Delivery failed 10 attempts: info@example.net".
    (
        "flanker/broken-mime.eml",
        "generic",
        &[("info@example.net", None, Permanent)],
        &[],
    ),
    // Action failed but 4.2.2 (mailbox full): not known to be a bad address.
    (
        "flanker/delayed-broken.eml",
        "rfc3464",
        &[("demo@example.com", Some("4.2.2"), Delayed)],
        &[],
    ),
    // Sendmail gave up after 5 days of timeouts (Action failed, Status 4.0.0).
    (
        "flanker/delayed.eml",
        "rfc3464",
        &[("foo@example.com", Some("4.0.0"), Delayed)],
        &[],
    ),
    (
        "flanker/gmail-invalid-address.eml",
        "gmail",
        &[(
            "awfawfawfawfawfaw@someserverhere.com",
            Some("5.1.0"),
            Permanent,
        )],
        &["CAKsfaBUUGqVZiaMrmH3TRPfq1odQPtM7Ey5YW1SgyJJRHtAjgw@mail.gmail.com"],
    ),
    // "DNS Error: Domain name not found" without a code: the usual 5.1.2.
    (
        "flanker/gmail-no-dns.eml",
        "gmail",
        &[("user@example.comm", Some("5.1.2"), Permanent)],
        &[],
    ),
    (
        "flanker/mailbox-full.eml",
        "rfc3464",
        &[("user@aol.com", Some("5.2.2"), Permanent)],
        &["4E326A95.3010907@example.com"],
    ),
    (
        "flanker/no-mx.eml",
        "rfc3464",
        &[("user@example.com", Some("4.4.4"), Delayed)],
        &["19E44CA63F984902B7D654F8FF40F89D@bo"],
    ),
    (
        "flanker/office365.eml",
        "exchange",
        &[("noname@example.com", Some("5.1.10"), Permanent)],
        &["20171013111011.20866.254C2F3A4D7AA526@ninomail.com"],
    ),
    (
        "flanker/zed.eml",
        "postfix",
        &[(
            "asdfasdfasdfasdfasdfasdfewrqertrtyrthsfgdfgadfqeadvxzvz@gmail.com",
            Some("5.1.1"),
            Permanent,
        )],
        &["20090708054735.GC7578@example.com"],
    ),
    // Proofpoint base64-encoded the recipient groups inside the status part.
    (
        "mimekit/bounce.txt",
        "postfix",
        &[("netec.test@netecgc.com", Some("5.1.1"), Permanent)],
        &["44565655.JitbitHelpdesk.13439.691a0afc-a0a0-457c-8208-f20b7c4a4cb1@jitbit.com"],
    ),
    // Only Original-Recipient and Status, no Action, two blank lines, no closing boundary.
    (
        "mimekit/delivery-status-multiple-blank-lines.txt",
        "rfc3464",
        &[("orig_recip@customer.com", Some("5.5.0"), Permanent)],
        &[],
    ),
    // Action failed, no Status, "X-LOCAL; 500 (err.nosuchuser)".
    (
        "mimekit/delivery-status-no-blank-line.txt",
        "rfc3464",
        &[("newsletter-request@imusic.com", None, Permanent)],
        &["31FC7EB4.41C6@netscape.com"],
    ),
    (
        "mimekit/delivery-status.txt",
        "rfc3464",
        &[("newsletter-request@imusic.com", None, Permanent)],
        &["31FC7EB4.41C6@netscape.com"],
    ),
    // Every field blotted out: still a report, nobody readable in it.
    (
        "mimekit/delivery-status.anonymized.eml",
        "rfc3464",
        &[],
        &["xxxxxxxx.xxxx@xxxxxxxx.xxx"],
    ),
    (
        "mimekit/delivery-status2.txt",
        "exim",
        &[("source@domain.com", Some("5.0.0"), Permanent)],
        &[],
    ),
    // Read receipts: reports, never failures.
    (
        "mimekit/disposition-notification.txt",
        "mdn",
        &[("joe_recipient@example.com", None, NotAFailure)],
        &["199509192301.23456@example.org"],
    ),
    (
        "mimekit/disposition-notification.anonymized.eml",
        "mdn",
        &[],
        &["xxxxxxxxxxxx.xxxxx@xxxxxxx.xxx"],
    ),
    (
        "ruby-mail/multi_address_bounce1.eml",
        "postfix",
        MULTI,
        &["118707422.15521266992174819.JavaMail.root@lvmail01"],
    ),
    (
        "ruby-mail/multi_address_bounce2.eml",
        "postfix",
        MULTI,
        &["118707422.15521266992174819.JavaMail.root@lvmail01"],
    ),
    // Its first part is prose mislabelled message/delivery-status.
    (
        "ruby-mail/multipart_report_multiple_status.eml",
        "rfc3464",
        &[("u@ci.com", Some("5.3.0"), Permanent)],
        &["4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail"],
    ),
    (
        "ruby-mail/report_422.eml",
        "rfc3464",
        &[("fraser@oooooooo.com.au", Some("4.2.2"), Delayed)],
        &["15655788.13.1200472642578.JavaMail.Administrator@mail.ttttt.com.au"],
    ),
    (
        "ruby-mail/report_530.eml",
        "rfc3464",
        &[("edwin@zzzzzzz.com", Some("5.3.0"), Permanent)],
        &["200712232303.lBNN3jDq002941@mail12.rrrr.com.au"],
    ),
];

#[test]
fn real_bounces_name_the_failed_recipients_and_the_returned_message() {
    let Some(corpus) = corpus() else {
        println!("skipping: ../shared/corpus not found");
        return;
    };
    for (file, format, recipients, ids) in TRUTH {
        let raw = std::fs::read(corpus.join("bounces").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let bounce = parse(&raw).unwrap_or_else(|| panic!("{file}: not recognised"));
        assert_eq!(bounce.format, *format, "{file}: format");
        assert_eq!(summary(&bounce), *recipients, "{file}: recipients");
        assert_eq!(bounce.original_message_ids, *ids, "{file}: original ids");
    }
}

#[test]
fn every_real_bounce_in_the_corpus_has_a_row_in_the_table() {
    let Some(corpus) = corpus() else {
        println!("skipping: ../shared/corpus not found");
        return;
    };
    let mut files = Vec::new();
    for vendor in ["flanker", "mimekit", "ruby-mail"] {
        let dir = corpus.join("bounces").join(vendor);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".eml") || name.ends_with(".txt") {
                files.push(format!("{vendor}/{name}"));
            }
        }
    }
    files.sort();
    let mut known: Vec<String> = TRUTH.iter().map(|row| row.0.to_string()).collect();
    known.sort();
    assert_eq!(files, known);
}

#[test]
fn real_mail_that_is_not_a_report_is_not_taken_for_one() {
    let Some(corpus) = corpus() else {
        println!("skipping: ../shared/corpus not found");
        return;
    };
    let mut files = Vec::new();
    collect(
        &corpus.join("mail-parser-eml/resources/eml"),
        "eml",
        &mut files,
    );
    collect(&corpus.join("enmime/testdata"), "raw", &mut files);
    assert!(
        files.len() > 100,
        "mail-parser's and enmime's corpora have their messages"
    );
    let taken: Vec<String> = files
        .iter()
        .filter(|p| std::fs::read(p).ok().and_then(|raw| parse(&raw)).is_some())
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(taken, Vec::<String>::new());
}

fn collect(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

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

#[test]
fn cpython_email_corpus_reports_are_found_and_nothing_else() {
    let Some(dir) = python_email_data() else {
        println!("skipping: CPython's test_email data not found");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("msg_"))
        })
        .collect();
    files.sort();
    assert!(files.len() > 40, "CPython's corpus has its messages");
    let mut reports = Vec::new();
    for path in &files {
        let Some(bounce) = std::fs::read(path).ok().and_then(|raw| parse(&raw)) else {
            continue;
        };
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        match name.as_str() {
            // A multipart/report with "Yadda yadda" and no status part: a report of nobody.
            "msg_05.txt" => assert_eq!(summary(&bounce), []),
            // Sun Internet Mail Server: disk quota, but the report says 5.0.0 and failed.
            "msg_16.txt" => {
                assert_eq!(
                    summary(&bounce),
                    [("jangel1@cougar.noc.ucla.edu", Some("5.0.0"), Permanent)]
                );
                assert_eq!(
                    bounce.original_message_ids,
                    ["002001c144a6$8752e060$56104586@oxy.edu"]
                );
            }
            // Its boundary parameter is cut off: the status fields are read from the raw text.
            "msg_25.txt" => assert_eq!(
                summary(&bounce),
                [("scoffman@wellpartner.com", Some("5.4.6"), Permanent)]
            ),
            // A spam firewall refusing an attachment for eleven recipients (5.7.1).
            "msg_43.txt" => {
                assert_eq!(bounce.recipients.len(), 11);
                assert!(bounce
                    .recipients
                    .iter()
                    .all(|r| r.status.as_deref() == Some("5.7.1")));
            }
            other => panic!("{other} taken for a delivery report: {bounce:?}"),
        }
        reports.push(name);
    }
    assert_eq!(
        reports,
        ["msg_05.txt", "msg_16.txt", "msg_25.txt", "msg_43.txt"]
    );
}
