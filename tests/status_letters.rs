//! Status notices by post: when the status of a postal case changes, `loket letters` prints a
//! letter with the new status in words, the officer's note verbatim and what is still missing,
//! once; naming the case reprints it. The PDF's text is read back with lopdf. Set
//! `LOKET_LETTERS_OUT=/some/dir` to keep the reprint for a look.

mod app;
mod support;

use std::path::Path;

use app::{repo, Db, TestApp};
use loket::filing::{cases, notices};

/// The text of every page of a PDF, as lopdf extracts it.
fn pdf_text(path: &Path) -> String {
    let doc = lopdf::Document::load(path).expect("a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("text")
}

/// Words as lopdf gives them back, on one line each: compare without layout.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn letters(app: &TestApp, args: &[&str], out: &Path) -> (bool, String) {
    let run = app
        .command()
        .arg("letters")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    (
        run.status.success(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}

async fn a_status_change_of_a_postal_case_is_printed_once_with_the_officers_note(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let form = repo().join("fixtures/postal/formulir-pbg-tanpa-email.pdf");
    let import = app
        .command()
        .arg("import")
        .arg(&form)
        .args([
            "--name",
            "Slamet Riyadi",
            "--address",
            "Jl. Melati 3, Pandaan",
        ])
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let stdout = String::from_utf8_lossy(&import.stdout);
    let code = stdout.split('\t').next().unwrap().to_string();
    let dir = app.dir.path();
    let (ok, stderr) = letters(&app, &[], &dir.join("receipts.pdf"));
    assert!(ok, "{stderr}");

    // An officer asks for corrections (the desk queues the letter in the same transaction).
    let note = "Mohon kirim fotokopi sertifikat tanah yang terbaca jelas.\nGambar denah lantai 2 belum ada.";
    let store = app.store().await;
    let mut conn = store.conn().await.unwrap();
    let case_id = cases::by_code(&mut conn, &code).await.unwrap().unwrap();
    notices::queue_status_notice(&mut conn, case_id, "event-41", "needs_correction", note)
        .await
        .unwrap();
    // The same change queued again is the same letter.
    notices::queue_status_notice(&mut conn, case_id, "event-41", "needs_correction", note)
        .await
        .unwrap();
    drop(conn);
    store.close().await;
    let missing = app.show(&code).await.missing;
    assert!(!missing.is_empty(), "the PBG form alone is not complete");

    let printed = dir.join("status.pdf");
    let (ok, stderr) = letters(&app, &[], &printed);
    assert!(ok, "{stderr}");
    let text = squash(&pdf_text(&printed));
    assert!(text.contains("PEMBERITAHUAN STATUS PERMOHONAN"), "{text}");
    assert!(text.contains(&code), "{text}");
    assert!(text.contains("Perlu dilengkapi atau diperbaiki"), "{text}");
    assert!(text.contains(&squash(note)), "the note verbatim: {text}");
    assert!(text.contains("Persyaratan yang masih kurang"), "{text}");
    assert!(
        text.contains("Slamet Riyadi"),
        "addressed to the applicant: {text}"
    );
    assert!(
        !text.contains("TANDA TERIMA BERKAS"),
        "the receipt was printed before: {text}"
    );
    assert_eq!(
        text.matches("Catatan petugas").count(),
        1,
        "printed once: {text}"
    );

    // Printed once: the next run has nothing new.
    let again = dir.join("again.pdf");
    let (ok, stderr) = letters(&app, &[], &again);
    assert!(ok);
    assert!(stderr.contains("no letters"), "{stderr}");
    assert!(!again.exists());

    // Naming the case reprints its letters: the receipt and the status notice.
    let reprint = dir.join("reprint.pdf");
    let (ok, stderr) = letters(&app, &[&code], &reprint);
    assert!(ok, "{stderr}");
    if let Some(keep) = std::env::var_os("LOKET_LETTERS_OUT") {
        std::fs::copy(&reprint, Path::new(&keep).join("status-notice.pdf")).unwrap();
    }
    let text = squash(&pdf_text(&reprint));
    assert!(text.contains("TANDA TERIMA BERKAS PERMOHONAN"), "{text}");
    assert!(text.contains("PEMBERITAHUAN STATUS PERMOHONAN"), "{text}");
    assert!(text.contains(&squash(note)), "{text}");
}

#[tokio::test]
async fn a_status_change_of_a_postal_case_is_printed_once_with_the_officers_note_sqlite() {
    a_status_change_of_a_postal_case_is_printed_once_with_the_officers_note(Db::Sqlite).await;
}

#[tokio::test]
async fn a_status_change_of_a_postal_case_is_printed_once_with_the_officers_note_postgres() {
    a_status_change_of_a_postal_case_is_printed_once_with_the_officers_note(Db::Postgres).await;
}
