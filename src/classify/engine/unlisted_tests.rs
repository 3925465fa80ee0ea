//! A permit outside the catalogue (`[[unlisted_permit]]`) sends the mail that asks for it to an
//! officer, instead of to the catalogue's nearest permit type.

use std::path::Path;

use crate::classify::{Catalogue, ClassifyInput, Decision, Overrides};

/// The shipped rules without their unlisted permits (`rules/permits/unlisted.toml`): what the
/// catalogue alone makes of a mail. The labelled sets (`rules/tests/`) are not copied.
fn rules_without_unlisted() -> Catalogue {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    crate::maintenance::files::copy_tree(&rules, dir.path()).expect("copy rules");
    std::fs::remove_dir_all(dir.path().join("tests")).expect("remove labelled sets");
    std::fs::remove_file(dir.path().join("permits/unlisted.toml")).expect("remove unlisted");
    Catalogue::load_dir(dir.path()).expect("rules load")
}

fn shipped() -> Catalogue {
    Catalogue::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).expect("load")
}

fn sort(rules: &Catalogue, subject: &str, body: &str) -> Decision {
    let input = ClassifyInput {
        subject,
        body,
        documents: Vec::new(),
    };
    rules.classify_in(&input, &Overrides::default(), None)
}

#[test]
fn a_mail_asking_for_an_unlisted_permit_waits_for_an_officer_and_says_why() {
    let (subject, body) = (
        "Permohonan izin keramaian",
        "Dengan hormat, kami mengajukan permohonan izin keramaian untuk pentas seni dan reklame \
         spanduk acara di lapangan desa. Terima kasih.",
    );
    let nearest = sort(&rules_without_unlisted(), subject, body);
    assert_eq!(
        nearest.permit_type.as_deref(),
        Some("reklame"),
        "without the entry the banner words file it as a reklame"
    );
    let d = sort(&shipped(), subject, body);
    assert!(d.triage, "{d:?}");
    assert_eq!(d.permit_type, None);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.rule == "triage:unlisted_permit" && r.snippet.contains("Izin Keramaian")),
        "{:?}",
        d.reasons
    );
}

#[test]
fn a_mail_not_naming_it_is_sorted_as_before() {
    let (with, without) = (shipped(), rules_without_unlisted());
    let (subject, body) = (
        "Permohonan PBG",
        "Dengan hormat, dengan ini saya mengajukan permohonan Persetujuan Bangunan Gedung (PBG) \
         untuk rumah tinggal. Terlampir berkas persyaratan.",
    );
    let (a, b) = (sort(&with, subject, body), sort(&without, subject, body));
    assert_eq!(a.permit_type.as_deref(), Some("pbg"));
    assert_eq!(a.permit_type, b.permit_type);
    assert_eq!(a.triage, b.triage);
    assert!(!a.reasons.iter().any(|r| r.rule.contains("unlisted")));
}
