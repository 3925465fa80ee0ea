//! The mailbox's kind (`[[mailbox]] kind`) decides only where the rules find no clear kind.

use std::path::Path;

use crate::classify::{Catalogue, ClassifyInput, Decision, Overrides};
use crate::domain::Kind;

fn rules() -> Catalogue {
    Catalogue::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).expect("rules load")
}

fn sort(subject: &str, body: &str, mailbox: Option<Kind>, ov: &Overrides) -> Decision {
    let input = ClassifyInput {
        subject,
        body,
        documents: Vec::new(),
    };
    rules().classify_in(&input, ov, mailbox)
}

const NOTE: (&str, &str) = (
    "Lampu jalan Jl. Melati",
    "Selamat siang. Lampu penerangan jalan di depan rumah nomor 12 padam setiap malam. Terima kasih.",
);

#[test]
fn a_neutral_note_to_pengaduan_is_a_complaint_for_its_department_and_says_why() {
    let plain = sort(NOTE.0, NOTE.1, None, &Overrides::default());
    assert_eq!(plain.kind, Kind::Other, "the rules alone find no kind");
    let d = sort(NOTE.0, NOTE.1, Some(Kind::Complaint), &Overrides::default());
    assert_eq!(d.kind, Kind::Complaint);
    assert_eq!(d.department.as_deref(), Some("pengaduan"));
    assert!(
        d.reasons.iter().any(|r| r.rule == "mailbox:kind:complaint"),
        "{:?}",
        d.reasons
    );
}

#[test]
fn clear_rules_and_officers_still_win_over_the_mailbox() {
    let question = sort(
        "Mau tanya",
        "Mau tanya apa syarat izin reklame? Bagaimana caranya?",
        Some(Kind::Complaint),
        &Overrides::default(),
    );
    assert_eq!(question.kind, Kind::Consultation);
    let application = sort(
        "Permohonan PBG",
        "Dengan hormat, dengan ini saya mengajukan permohonan Persetujuan Bangunan Gedung (PBG) \
         untuk rumah tinggal. Terlampir berkas persyaratan.",
        Some(Kind::Complaint),
        &Overrides::default(),
    );
    assert_eq!(application.kind, Kind::Application);
    let officer = Overrides {
        kind: Some(Kind::Consultation),
        ..Overrides::default()
    };
    let corrected = sort(NOTE.0, NOTE.1, Some(Kind::Complaint), &officer);
    assert_eq!(corrected.kind, Kind::Consultation);
}
