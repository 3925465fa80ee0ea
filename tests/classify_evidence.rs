//! Sorting from the documents, end to end on the real mailbox: a vague email whose attachments
//! say what is wanted is filed under that permit type, `loket rules explain` names the documents
//! and words that decided, and an email whose body and documents disagree waits for an officer
//! with both reasons on the case (what the desk's case page lists).

mod app;
mod support;

use app::{docx, mail_with, unique_address, Db, Part, TestApp};
use serde_json::Value;

fn doc<'a>(filename: &'a str, data: &'a [u8]) -> Part<'a> {
    Part {
        filename,
        content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        data,
    }
}

/// The reasons of the engine's decision kept on the case.
fn reasons(details: &Value) -> Vec<(String, String)> {
    details["reasons"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    (
                        r["rule"].as_str().unwrap_or_default().to_string(),
                        r["snippet"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn berkas_with_a_doctors_str_ijazah_and_idi_letter_is_filed_as_sip_dokter_and_explained() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let str_doc = docx(&[
        "KONSIL KEDOKTERAN INDONESIA",
        "SURAT TANDA REGISTRASI DOKTER",
        "Nama: dr. Laila Fitriani. Berlaku sampai 2029",
    ]);
    let ijazah = docx(&[
        "UNIVERSITAS AIRLANGGA FAKULTAS KEDOKTERAN IJAZAH",
        "Laila Fitriani telah menyelesaikan pendidikan dan diberikan gelar DOKTER. Dekan",
    ]);
    let idi = docx(&[
        "IKATAN DOKTER INDONESIA CABANG PASURUAN",
        "SURAT REKOMENDASI: memberikan rekomendasi kepada dr. Laila Fitriani",
    ]);
    let mail = mail_with(
        &unique_address("laila"),
        "berkas",
        "Berikut saya kirimkan berkas-berkasnya. Terima kasih.",
        &[
            doc("STR_Laila.docx", &str_doc),
            doc("ijazah.docx", &ijazah),
            doc("rekomendasi.docx", &idi),
        ],
    );
    app.deliver(&mail).await;
    app.run_once().await;
    let case = app.cases().await.pop().expect("one case");
    let shown = app.show(&case.tracking_code).await;
    assert_eq!(
        shown.permit_type.as_deref(),
        Some("sip_dokter"),
        "{shown:#?}"
    );
    let details = shown.details.expect("details");
    assert!(!details.triage);
    assert!(details.confidence.unwrap_or(0.0) >= 0.8, "{details:#?}");

    let eml = app.dir.path().join("berkas.eml");
    std::fs::write(&eml, &mail).unwrap();
    let out = app
        .command()
        .args(["rules", "explain"])
        .arg(&eml)
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("permit_type: sip_dokter"), "{text}");
    assert!(
        text.contains("evidence:sip_dokter in document: \"STR_Laila.docx: Surat Tanda Registrasi"),
        "the STR is named as evidence: {text}"
    );
    assert!(
        text.contains("permit:sip_dokter in document: \"STR_Laila.docx:")
            && text.contains("KONSIL KEDOKTERAN"),
        "the words in the STR are shown: {text}"
    );
}

#[tokio::test]
async fn a_reklame_body_with_a_buildings_documents_waits_for_an_officer_with_both_reasons() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let sertifikat = docx(&[
        "SERTIPIKAT HAK MILIK",
        "Kantor Pertanahan Kabupaten Pasuruan. Surat Ukur",
    ]);
    let gambar = docx(&["DENAH LANTAI 1, TAMPAK DEPAN, POTONGAN A-A", "skala 1:100"]);
    let pbb = docx(&["SPPT PAJAK BUMI DAN BANGUNAN 2026", "LUNAS"]);
    let pernyataan = docx(&["SURAT PERNYATAAN", "tanah tersebut tidak dalam sengketa"]);
    let mail = mail_with(
        &unique_address("toko"),
        "izin reklame toko",
        "Dengan hormat, mohon izin reklame untuk toko kami. Berkas terlampir.",
        &[
            doc("sertifikat.docx", &sertifikat),
            doc("gambar.docx", &gambar),
            doc("pbb.docx", &pbb),
            doc("pernyataan.docx", &pernyataan),
        ],
    );
    app.deliver(&mail).await;
    app.run_once().await;
    let case = app.cases().await.pop().expect("one case");
    let shown = app.show(&case.tracking_code).await;
    assert_eq!(shown.permit_type, None, "{shown:#?}");
    let details = shown.details.expect("details");
    assert!(details.triage);
    let reasons = reasons(&details.decision.expect("decision"));
    let conflict = reasons
        .iter()
        .find(|(rule, _)| rule == "evidence:conflict")
        .unwrap_or_else(|| panic!("a conflict reason: {reasons:#?}"));
    assert!(conflict.1.contains("Reklame") && conflict.1.contains("Bangunan Gedung"));
    assert!(reasons.iter().any(|(rule, _)| rule == "permit:reklame"));
    assert!(reasons
        .iter()
        .any(|(rule, s)| rule == "evidence:pbg" && s.starts_with("pbb.docx")));
}
