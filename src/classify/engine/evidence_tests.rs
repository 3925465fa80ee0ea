//! Sorting from the documents: the issue's own example, a disagreement, and too little to go on,
//! each with the reasons an officer reads.

use std::path::Path;

use crate::classify::{Catalogue, ClassifyInput, Decision, DocInput};

fn sort(subject: &str, body: &str, docs: &[(&str, &str)]) -> Decision {
    let cat =
        Catalogue::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).expect("rules");
    let input = ClassifyInput {
        subject,
        body,
        documents: docs
            .iter()
            .map(|(filename, text)| DocInput {
                filename,
                content_type: "image/jpeg",
                text,
            })
            .collect(),
    };
    cat.classify(&input)
}

const KTP: (&str, &str) = (
    "IMG_1.jpg",
    "NIK 3516075203880001 Nama AULIA Gol. Darah A Status Perkawinan KAWIN Berlaku Hingga SEUMUR HIDUP",
);
const STR: (&str, &str) = (
    "IMG_2.jpg",
    "KONSIL KEDOKTERAN INDONESIA SURAT TANDA REGISTRASI DOKTER dr. Aulia berlaku sampai 2029",
);
const IJAZAH: (&str, &str) = (
    "IMG_3.jpg",
    "UNIVERSITAS AIRLANGGA IJAZAH telah menyelesaikan pendidikan dan diberikan gelar DOKTER. Dekan",
);
const IDI: (&str, &str) = (
    "IMG_4.jpg",
    "IKATAN DOKTER INDONESIA CABANG SIDOARJO SURAT REKOMENDASI memberikan rekomendasi kepada dr. Aulia",
);

#[test]
fn berkas_with_ktp_str_ijazah_and_idi_letter_is_a_sip_dokter_and_says_which_documents() {
    let d = sort(
        "berkas",
        "Berikut saya kirimkan berkas-berkasnya",
        &[KTP, STR, IJAZAH, IDI],
    );
    assert_eq!(d.permit_type.as_deref(), Some("sip_dokter"), "{d:#?}");
    assert!(!d.triage, "filed, not triaged: confidence {}", d.confidence);
    let coverage = d
        .reasons
        .iter()
        .find(|r| r.rule == "evidence:sip_dokter" && r.snippet.starts_with("IMG_2.jpg"))
        .expect("the STR is named as evidence");
    assert!(coverage.snippet.contains("STR") && coverage.weight > 0.0);
    assert!(
        d.reasons.iter().any(|r| r.rule == "permit:sip_dokter"
            && r.field == "document"
            && r.snippet.contains("KONSIL KEDOKTERAN")),
        "the words in the STR are shown: {:#?}",
        d.reasons
    );
}

#[test]
fn body_says_reklame_documents_say_pbg_goes_to_triage_with_both_reasons() {
    let d = sort(
        "izin reklame toko",
        "Dengan hormat, mohon izin reklame untuk toko kami.",
        &[
            (
                "sertifikat.pdf",
                "SERTIPIKAT HAK MILIK Kantor Pertanahan Surat Ukur luas 200 m2",
            ),
            (
                "gambar.pdf",
                "DENAH LANTAI 1, TAMPAK DEPAN, POTONGAN A-A skala 1:100",
            ),
            ("pbb.pdf", "SPPT PAJAK BUMI DAN BANGUNAN 2026 LUNAS"),
            (
                "pernyataan.pdf",
                "SURAT PERNYATAAN tanah tidak dalam sengketa",
            ),
        ],
    );
    assert!(d.triage && d.permit_type.is_none(), "{d:#?}");
    assert_eq!(d.confidence, 0.0);
    let conflict = d
        .reasons
        .iter()
        .find(|r| r.rule == "evidence:conflict")
        .expect("a conflict reason");
    assert!(
        conflict.snippet.contains("Reklame") && conflict.snippet.contains("Bangunan Gedung"),
        "{}",
        conflict.snippet
    );
    assert!(d
        .reasons
        .iter()
        .any(|r| r.rule == "permit:reklame" && r.field == "subject"));
    assert!(d
        .reasons
        .iter()
        .any(|r| r.rule == "evidence:pbg" && r.snippet.starts_with("pbb.pdf")));
}

#[test]
fn a_ktp_alone_says_nothing_about_the_permit() {
    let d = sort("berkas", "Berikut saya kirimkan berkas-berkasnya", &[KTP]);
    assert!(d.triage, "{d:#?}");
    assert!(d.confidence < 0.5, "{}", d.confidence);
}

#[test]
fn documents_of_two_permits_go_to_triage_naming_both_sets() {
    let d = sort(
        "berkas",
        "ini berkas saya dan suami",
        &[
            STR,
            IDI,
            (
                "stnk.jpg",
                "SURAT TANDA NOMOR KENDARAAN Nomor polisi L 1234 AB Warna TNKB KUNING",
            ),
            (
                "kir.jpg",
                "BUKU UJI BERKALA KENDARAAN BERMOTOR Dinas Perhubungan lulus uji",
            ),
        ],
    );
    assert!(d.triage && d.permit_type.is_none(), "{d:#?}");
    assert!(d.confidence < 0.5, "{}", d.confidence);
    let split = d
        .reasons
        .iter()
        .find(|r| r.rule == "triage:two_permits" && r.field == "document")
        .expect("a reason naming the two sets of documents");
    assert!(
        split.snippet.contains("stnk.jpg")
            && split.snippet.contains("kir.jpg")
            && split.snippet.contains("IMG_2.jpg")
            && split.snippet.contains("IMG_4.jpg"),
        "{}",
        split.snippet
    );
}
