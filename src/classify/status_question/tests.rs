use std::path::PathBuf;

use super::*;

const OFFICE: &str = "PSR";

fn code(s: &str) -> TrackingCode {
    s.parse().expect("fixture code is valid")
}

#[test]
fn codes_in_finds_every_code_in_any_forgiving_form_in_order() {
    let text = "Kode kami psr-2vy0d-xzha9 dan PSR 2ZM4F Q2T8D, juga PSRPRTJGXBKQY; \
                sekali lagi PSR-2VY0D-XZHA9.";
    assert_eq!(
        codes_in(OFFICE, text),
        [
            code("PSR-2VY0D-XZHA9"),
            code("PSR-2ZM4F-Q2T8D"),
            code("PSR-PRTJG-XBKQY")
        ]
    );
}

#[test]
fn codes_in_reads_i_l_as_one_and_o_as_zero() {
    // PSR-PMVE0-2NMFV written with a letter O for the zero, and 8XFWR-20F87 with an o.
    assert_eq!(
        codes_in(OFFICE, "[psr-pmveO-2nmfv] dan psr 8xfwr 2of87"),
        [code("PSR-PMVE0-2NMFV"), code("PSR-8XFWR-20F87")]
    );
}

#[test]
fn codes_of_another_office_and_mistyped_codes_are_not_ours() {
    assert!(codes_in(OFFICE, "KDR-2VY0D-XZHA9 dan KDR2ZM4FQ2T8D").is_empty());
    // One symbol off: the check symbol catches it.
    assert!(codes_in(OFFICE, "PSR-2VY0D-XZHA8").is_empty());
    // No office code, no codes (else any ten-letter word could pass the check).
    assert!(codes_in("", "2VY0D-XZHA9 perkembangan").is_empty());
}

#[test]
fn nik_nib_and_phone_numbers_give_no_codes() {
    let text = "NIK 3514061208850003, NIB 9120001234567, NPWP 01.234.567.8-901.000, \
                HP 081234567890, PSR 3514061208850003, nomor PSR 9120001234567";
    assert!(codes_in(OFFICE, text).is_empty());
}

#[test]
fn applicant_asks_cek_status_with_a_code_and_the_code_comes_back() {
    let q = detect(OFFICE, Some("Cek status PSR-2VY0D-XZHA9"), "", 0).expect("a status question");
    assert_eq!(q.codes, [code("PSR-2VY0D-XZHA9")]);
    assert_eq!(q.cue, "cek status");
    assert!(q.unreadable_codes.is_empty());
}

#[test]
fn a_code_in_the_body_and_one_in_the_subject_are_both_named_subject_first() {
    let q = detect(
        OFFICE,
        Some("Re: PSR-2ZM4F-Q2T8D"),
        "bagaimana statusnya? yang satu lagi psr 2vy0d xzha9",
        0,
    )
    .expect("a status question");
    assert_eq!(q.codes, [code("PSR-2ZM4F-Q2T8D"), code("PSR-2VY0D-XZHA9")]);
    assert_eq!(q.cue, "bagaimana statusnya");
}

#[test]
fn a_mistyped_code_is_kept_so_the_answer_can_say_so() {
    // The example in issue 10 has a wrong check symbol.
    let q = detect(OFFICE, Some("Cek status PSR-7K3M9-QXD2F"), "", 0).expect("a status question");
    assert!(q.codes.is_empty());
    assert_eq!(q.unreadable_codes, ["PSR-7K3M9-QXD2F"]);
}

#[test]
fn an_application_that_mentions_status_tanah_is_filed_not_answered() {
    let text = "Permohonan izin usaha, status tanah hak milik, terlampir sertifikat";
    assert_eq!(
        explain(OFFICE, Some("Permohonan izin usaha"), text, 1),
        Err(NotStatus::Sends("terlampir".into()))
    );
}

#[test]
fn frustration_wins_over_the_question() {
    let text = "saya kecewa, bagaimana status izin saya? sudah 3 bulan";
    assert_eq!(
        explain(OFFICE, None, text, 0),
        Err(NotStatus::Complaint("kecewa".into()))
    );
    // A duration alone is not frustration.
    assert!(detect(OFFICE, None, "Kapan PBG saya keluar? sudah 3 minggu", 0).is_some());
}

#[test]
fn past_sending_is_fine_present_sending_is_a_reply_with_documents() {
    let asked = "Sudah saya kirim berkasnya kemarin, permohonan saya sampai mana ya?";
    assert!(detect(OFFICE, None, asked, 0).is_some());
    let sends = "berikut saya kirimkan KTP, permohonan saya sampai mana ya?";
    assert_eq!(
        explain(OFFICE, None, sends, 1),
        Err(NotStatus::Sends("kirimkan".into()))
    );
}

#[test]
fn a_long_letter_is_not_a_status_question() {
    let letter = format!(
        "{} Bagaimana status permohonan saya?",
        "Saya ingin bercerita. ".repeat(30)
    );
    assert_eq!(explain(OFFICE, None, &letter, 0), Err(NotStatus::TooLong));
}

#[test]
fn a_megabyte_subject_is_read_quickly() {
    let subject = format!("cek status {}", "ä".repeat(500_000));
    let started = std::time::Instant::now();
    assert!(detect(OFFICE, Some(&subject), "", 0).is_some());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

proptest::proptest! {
    #[test]
    fn any_text_gets_an_answer_without_panicking(subject in ".{0,80}", body in ".{0,300}", n in 0usize..3) {
        let _ = detect(OFFICE, Some(&subject), &body, n);
        let _ = codes_in(&subject, &body);
    }
}

/// One labelled row of `fixtures/status_questions/*.tsv`.
struct Row {
    line: usize,
    status: bool,
    subject: Option<String>,
    body: String,
    attachments: usize,
}

fn rows(name: &str) -> Vec<Row> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/status_questions")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "{name}:{}: want 4 fields", i + 1);
            assert!(
                matches!(f[0], "status" | "no"),
                "{name}:{}: label {:?}",
                i + 1,
                f[0]
            );
            Row {
                line: i + 1,
                status: f[0] == "status",
                subject: (!f[1].is_empty()).then(|| f[1].to_string()),
                body: f[2].replace("\\n", "\n"),
                attachments: f[3].parse().expect("attachments is a number"),
            }
        })
        .collect()
}

fn verdict(r: &Row) -> Result<StatusQuestion, NotStatus> {
    explain(OFFICE, r.subject.as_deref(), &r.body, r.attachments)
}

#[test]
fn every_tuning_row_is_sorted_as_labelled() {
    let rows = rows("tune.tsv");
    assert!(rows.len() >= 80);
    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let v = verdict(r);
            println!("tune.tsv:{} {v:?}", r.line);
            (v.is_ok() != r.status)
                .then(|| format!("tune.tsv:{} {:?} | {:?}: {v:?}", r.line, r.subject, r.body))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} rows wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Precision and recall of `detect` on a held-out file, printing every miss.
fn score(name: &str) -> (f64, f64) {
    let rows = rows(name);
    assert!(rows.len() >= 50);
    let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
    for r in &rows {
        let v = verdict(r);
        match (v.is_ok(), r.status) {
            (true, true) => tp += 1,
            (false, false) => tn += 1,
            (true, false) => {
                fp += 1;
                println!("false positive {name}:{} {:?}: {v:?}", r.line, r.body);
            }
            (false, true) => {
                fn_ += 1;
                println!(
                    "missed {name}:{} {:?} | {:?}: {v:?}",
                    r.line, r.subject, r.body
                );
            }
        }
    }
    let precision = f64::from(tp) / f64::from((tp + fp).max(1));
    let recall = f64::from(tp) / f64::from((tp + fn_).max(1));
    let accuracy = f64::from(tp + tn) / rows.len() as f64;
    println!(
        "{name}: {} rows, tp {tp} fp {fp} tn {tn} fn {fn_}; precision {precision:.3} recall \
         {recall:.3} accuracy {accuracy:.3}",
        rows.len()
    );
    (precision, recall)
}

/// A false positive (an application answered and never filed) costs more than a miss (a
/// question filed as a case, which an officer still sees), hence the higher bar on precision.
fn assert_good(name: &str) {
    let (precision, recall) = score(name);
    assert!(precision >= 0.95, "{name}: precision {precision:.3}");
    assert!(recall >= 0.85, "{name}: recall {recall:.3}");
}

/// First held-out set. Its first score (precision 1.000, recall 0.758) led to fixes, so it is
/// partly seen now; `heldout2.tsv` is the clean measure.
#[test]
fn held_out_rows_score_high_precision_and_good_recall() {
    assert_good("heldout.tsv");
}

#[test]
fn second_held_out_set_scores_high_precision_and_good_recall() {
    assert_good("heldout2.tsv");
}

/// Real third-party mail (bounces, list traffic, MIME test messages): none of it asks about a
/// permit, so any status question found there is a false positive.
#[test]
fn no_message_of_the_real_corpora_is_taken_for_a_status_question() {
    use crate::extract::mime::{parse, MimeLimits};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut files: Vec<PathBuf> = ["bounces", "enmime", "mail-parser-eml", "tnef"]
        .iter()
        .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    let cpython = std::process::Command::new("python3")
        .args([
            "-c",
            "import test, os; print(os.path.dirname(test.__file__))",
        ])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("test_email/data"));
    if let Some(entries) = cpython.and_then(|d| std::fs::read_dir(d).ok()) {
        files.extend(entries.flatten().map(|e| e.path()).filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("msg_"))
        }));
    }
    if files.is_empty() {
        eprintln!(
            "skipped: no corpus at {} and no CPython email data",
            root.display()
        );
        return;
    }
    let mut read = 0;
    for path in &files {
        let Ok(raw) = std::fs::read(path) else {
            continue;
        };
        let Ok(msg) = parse(&raw, &MimeLimits::default()) else {
            continue;
        };
        read += 1;
        let found = detect(
            OFFICE,
            msg.subject.as_deref(),
            &msg.body_text,
            msg.attachments.len(),
        );
        assert!(found.is_none(), "{}: {found:?}", path.display());
    }
    println!(
        "corpus: {read} of {} files read, none a status question",
        files.len()
    );
    assert!(read > 0);
}
