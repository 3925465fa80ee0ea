//! Our own fixtures (`fixtures/bounces/`, made by `make.py`): one report per vendor format,
//! each returning our acknowledgement; and mail that must not be taken for a report.

use std::path::{Path, PathBuf};

use super::*;

const ACK_ID: &str = "ack-PSR7K3M9QXD2F.1@loket.dpmptsp.example.go.id";

/// (address, status, severity) of each recipient: what the lead acts on.
pub(super) fn summary(bounce: &Bounce) -> Vec<(&str, Option<&str>, Severity)> {
    bounce
        .recipients
        .iter()
        .map(|r| (r.address.as_str(), r.status.as_deref(), r.severity))
        .collect()
}

fn fixture(path: &str) -> Vec<u8> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

type Expected = (
    &'static str,
    &'static str,
    &'static [(&'static str, Option<&'static str>, Severity)],
    bool,
);

use Severity::{Delayed, Permanent};

/// file, format, recipients, whether it names our acknowledgement.
const VENDOR_FIXTURES: &[Expected] = &[
    (
        "exchange-2010.eml",
        "exchange",
        &[("budi.santoso@contoh.co.id", Some("5.1.1"), Permanent)],
        true,
    ),
    (
        "office365.eml",
        "exchange",
        &[(
            "siti.rahmawati@contoso-id.example",
            Some("5.1.10"),
            Permanent,
        )],
        true,
    ),
    (
        "gmail-address-not-found.eml",
        "gmail",
        &[("rina.kartika@gmail.example", Some("5.1.1"), Permanent)],
        true,
    ),
    (
        "gmail-dns-error.eml",
        "gmail",
        &[(
            "budi@tokobangunan-sejahtera.example",
            Some("5.1.2"),
            Permanent,
        )],
        true,
    ),
    (
        "gmail-delay.eml",
        "gmail",
        &[("ahmad.fauzi@lambat.example", Some("4.3.0"), Delayed)],
        true,
    ),
    (
        "ses-permanent.json",
        "ses",
        &[("dewi.lestari@example.net", Some("5.1.1"), Permanent)],
        true,
    ),
    (
        "ses-sns-transient.eml",
        "ses",
        &[("hendra.gunawan@example.com", Some("4.2.2"), Delayed)],
        true,
    ),
    (
        "qmail.eml",
        "qmail",
        &[("dewi.lestari@mail.example.net", Some("5.1.1"), Permanent)],
        true,
    ),
    (
        "exim.eml",
        "exim",
        &[("hendra.gunawan@example.com", Some("5.1.1"), Permanent)],
        true,
    ),
    (
        "exim-delay-mailbox-full.eml",
        "exim",
        &[("yusuf.pratama@example.com", Some("4.2.2"), Delayed)],
        false,
    ),
    (
        "postfix.eml",
        "postfix",
        &[("rina@cv-maju.example.org", Some("5.1.1"), Permanent)],
        true,
    ),
    (
        "mailbox-full-permanent.eml",
        "postfix",
        &[("fajar.nugroho@example.net", Some("5.2.2"), Permanent)],
        true,
    ),
    (
        "no-mx.eml",
        "postfix",
        &[("lina@tidak-ada-domain.example", Some("5.4.4"), Permanent)],
        true,
    ),
    (
        "yahoo.eml",
        "yahoo",
        &[("agus.salim@yahoo.example", Some("5.1.1"), Permanent)],
        true,
    ),
];

#[test]
fn each_vendor_report_names_the_failed_applicant_and_our_acknowledgement() {
    for (file, format, recipients, names_ack) in VENDOR_FIXTURES {
        let bounce = parse(&fixture(&format!("bounces/{file}")))
            .unwrap_or_else(|| panic!("{file}: not recognised as a delivery report"));
        assert_eq!(bounce.format, *format, "{file}: format");
        assert_eq!(summary(&bounce), *recipients, "{file}: recipients");
        let permanent = recipients.iter().any(|r| r.2 == Permanent);
        assert_eq!(bounce.is_permanent(), permanent, "{file}: is_permanent");
        if *names_ack {
            assert_eq!(
                bounce.original_message_ids.first().map(String::as_str),
                Some(ACK_ID),
                "{file}: ids {:?}",
                bounce.original_message_ids
            );
        }
        for r in &bounce.recipients {
            assert!(
                r.diagnostic.as_deref().is_some_and(|d| !d.is_empty()),
                "{file}: {} has no diagnostic",
                r.address
            );
        }
    }
}

#[test]
fn every_fixture_in_the_folder_has_an_expectation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bounces");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    files.retain(|f| f.ends_with(".eml") || f.ends_with(".json"));
    files.sort();
    let mut known: Vec<String> = VENDOR_FIXTURES.iter().map(|e| e.0.to_string()).collect();
    known.push("not-a-bounce-undeliverable.eml".into());
    known.sort();
    assert_eq!(files, known);
}

#[test]
fn a_delay_or_a_full_mailbox_that_may_empty_does_not_condemn_the_address() {
    for file in [
        "gmail-delay.eml",
        "exim-delay-mailbox-full.eml",
        "ses-sns-transient.eml",
    ] {
        let bounce = parse(&fixture(&format!("bounces/{file}"))).expect(file);
        assert!(!bounce.is_permanent(), "{file}");
        assert_eq!(bounce.permanent_addresses().count(), 0, "{file}");
    }
}

#[test]
fn the_address_we_wrote_to_is_reported_not_where_its_alias_led() {
    let bounce = parse(&fixture("bounces/postfix.eml")).expect("postfix report");
    assert_eq!(
        bounce.permanent_addresses().collect::<Vec<_>>(),
        ["rina@cv-maju.example.org"]
    );
}

#[test]
fn an_applicant_who_writes_that_a_mail_was_undeliverable_is_not_a_bounce() {
    assert_eq!(
        parse(&fixture("bounces/not-a-bounce-undeliverable.eml")),
        None
    );
    let pasted = b"From: Dewi <dewi@example.com>\r\nTo: perizinan@dpmptsp.example.go.id\r\n\
        Subject: Fwd: Mail delivery failed\r\n\r\nIni pesan yang saya terima:\r\n\r\n\
        This message was created automatically by mail delivery software.\r\n\r\n  \
        dewi.lama@example.com\r\n    550 5.1.1 User unknown\r\n";
    assert_eq!(
        parse(pasted),
        None,
        "a forwarded bounce is the applicant's own mail"
    );
}

fn applicant_mail() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mail");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
}

#[test]
fn ordinary_mail_and_auto_replies_in_the_fixtures_are_not_bounces() {
    let files = applicant_mail();
    assert!(files.len() >= 10, "fixtures/mail has the sample mail");
    for path in files {
        let raw = std::fs::read(&path).expect("fixture readable");
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let found = parse(&raw);
        if name == "bounce.eml" {
            let bounce = found.expect("the sample bounce is one");
            assert_eq!(
                summary(&bounce),
                [("salah.ketik@example.net", Some("5.1.1"), Permanent)]
            );
            assert_eq!(
                bounce.original_message_ids,
                ["ack.PSR-7K3M-9QXD@example.go.id"]
            );
        } else {
            assert_eq!(found, None, "{name} is not a delivery report");
        }
    }
}

#[test]
fn hostile_or_truncated_input_never_panics() {
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"{".to_vec(),
        b"{\"notificationType\":\"Bounce\",\"bounce\":7}".to_vec(),
        b"Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: \xff\xfe;\r\n Action: \r\n".to_vec(),
        "Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nDiagnostic-Code: smtp; 550 é\u{301}".repeat(3).into_bytes(),
    ];
    for (file, ..) in VENDOR_FIXTURES {
        let raw = fixture(&format!("bounces/{file}"));
        for cut in (0..raw.len()).step_by(97) {
            inputs.push(raw[..cut].to_vec());
        }
    }
    for input in inputs {
        let _ = parse(&input);
    }
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
        let _ = parse(&data);
    }
}
