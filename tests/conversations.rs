//! Conversations by email on the real servers (Dovecot, the SMTP sink, SQLite and PostgreSQL):
//! applicants ask how far their case is, reply with the missing document under the quoted
//! acknowledgement, send the same files again; strangers quote codes; addresses bounce in the
//! formats real mail servers write; staff forward an applicant's mail.

mod app;
mod support;

use app::TestApp;
use app::{
    acks_to, bounce_of, fixture_from, header, mail_with, repo, text_mail, unique_address, Db, Part,
};

/// The decoded text body of a raw mail.
fn body_of(raw: &str) -> String {
    mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .and_then(|m| m.body_text(0).map(|b| b.into_owned()))
        .unwrap_or_default()
}

/// The one case of `who` and the acknowledgement it got.
async fn applied(app: &TestApp, who: &str) -> (String, String) {
    app.deliver(&fixture_from("pbg-application.eml", who)).await;
    app.run_once().await;
    let acks = acks_to(who, 1).await;
    assert_eq!(acks.len(), 1, "acknowledged");
    let code = app
        .cases()
        .await
        .into_iter()
        .find(|c| c.applicant.email.as_deref() == Some(who))
        .expect("a case for the applicant")
        .tracking_code;
    (code, acks[0].clone())
}

async fn history(app: &TestApp, code: &str) -> Vec<(String, String)> {
    app.show(code)
        .await
        .history
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.event, e.detail))
        .collect()
}

async fn applicants_ask_for_the_status_and_get_it_without_a_new_case(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let budi = unique_address("budi");
    let (code, _) = applied(&app, &budi).await;

    // With the code, in a forgiving spelling.
    let spelled = code.to_lowercase().replace('-', "");
    app.deliver(&text_mail(
        &budi,
        &format!("Cek status {spelled}"),
        "Selamat siang, mohon info sudah sampai mana. Terima kasih.",
        "",
    ))
    .await;
    app.run_once().await;
    let answers = acks_to(&budi, 2).await;
    assert_eq!(answers.len(), 2, "the question is answered");
    let answer = &answers[1];
    let subject = header(answer, "Subject").unwrap_or_default();
    assert!(subject.contains(&code), "{subject}");
    let text = body_of(answer);
    assert!(text.contains(&format!("NOMOR PELACAKAN: {code}")), "{text}");
    assert!(
        text.contains("Dalam antrean"),
        "the status in words: {text}"
    );
    assert!(
        text.contains("MASIH KURANG"),
        "what is still missing: {text}"
    );
    assert_eq!(
        header(answer, "Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    assert_eq!(app.cases().await.len(), 1, "no case for a question");
    assert!(
        history(&app, &code)
            .await
            .iter()
            .any(|(e, _)| e == "status_question"),
        "the question is kept in the case's thread"
    );

    // From the applicant's address without a code: their open cases.
    app.deliver(&text_mail(
        &budi,
        "Pertanyaan",
        "sdh smpai mana ya permohonan sy pak?",
        "",
    ))
    .await;
    app.run_once().await;
    let answers = acks_to(&budi, 3).await;
    assert_eq!(answers.len(), 3);
    assert!(body_of(&answers[2]).contains(&code), "{}", answers[2]);

    // A stranger without a code is told where to find it, and learns nothing of Budi's case.
    let dewi = unique_address("dewi");
    app.deliver(&text_mail(
        &dewi,
        "Tanya",
        "Bagaimana perkembangan permohonan izin saya?",
        "",
    ))
    .await;
    app.run_once().await;
    let told = acks_to(&dewi, 1).await;
    assert_eq!(told.len(), 1, "the stranger gets an answer");
    let text = body_of(&told[0]);
    assert!(text.contains("sebutkan NOMOR PELACAKAN"), "{text}");
    assert!(!text.contains(&code), "nobody else's case: {text}");

    // An application that merely mentions a status is an application.
    let sari = unique_address("sari");
    app.deliver(&mail_with(
        &sari,
        "Permohonan PBG gudang",
        "Dengan hormat, kami mengajukan PBG gudang. Status tanah hak milik, terlampir sertifikat.",
        &[Part {
            filename: "sertifikat.docx",
            content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            data: &app::docx(&["SERTIFIKAT HAK MILIK", "Luas tanah 300 m2"]),
        }],
    ))
    .await;
    app.run_once().await;
    assert_eq!(app.cases().await.len(), 2, "filed as a case");
    assert_eq!(acks_to(&sari, 1).await.len(), 1);
}

#[tokio::test]
async fn applicants_ask_for_the_status_and_get_it_without_a_new_case_sqlite() {
    applicants_ask_for_the_status_and_get_it_without_a_new_case(Db::Sqlite).await;
}

#[tokio::test]
async fn applicants_ask_for_the_status_and_get_it_without_a_new_case_postgres() {
    applicants_ask_for_the_status_and_get_it_without_a_new_case(Db::Postgres).await;
}

/// A Gmail-style reply: new text on top, the acknowledgement quoted below.
fn gmail_reply(from: &str, ack: &str, text: &str, parts: &[Part<'_>]) -> Vec<u8> {
    let quoted: String = body_of(ack).lines().map(|l| format!("> {l}\n")).collect();
    let body = format!(
        "{text}\n\nPada Sen, 1 Des 2026 pukul 09.15 DPMPTSP Kabupaten Pasuruan <\
         perizinan@pasuruankab.go.id> menulis:\n\n{quoted}"
    );
    let subject = format!("Re: {}", header(ack, "Subject").unwrap_or_default());
    let raw = String::from_utf8(mail_with(from, &subject, &body, parts)).unwrap();
    let ack_id = header(ack, "Message-ID").unwrap_or_default();
    raw.replacen(
        "MIME-Version: 1.0",
        &format!("In-Reply-To: {ack_id}\r\nReferences: {ack_id}\r\nMIME-Version: 1.0"),
        1,
    )
    .into_bytes()
}

async fn a_reply_with_the_missing_document_joins_the_case_and_is_acknowledged(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let budi = unique_address("budi");
    let (code, ack) = applied(&app, &budi).await;
    let before = app.show(&code).await;
    assert!(
        before.missing.contains(&"sertifikat_tanah".to_string()),
        "{:?}",
        before.missing
    );
    let sertifikat = app::docx(&[
        "SERTIFIKAT HAK MILIK No. 1234",
        "Nomor Identifikasi Bidang 12.34",
        "Luas tanah 120 m2",
    ]);
    let part = Part {
        filename: "sertifikat_tanah.docx",
        content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        data: &sertifikat,
    };
    // The quoted acknowledgement names a reklame and a complaint nowhere, but it does quote
    // the whole checklist: none of it may be read as the applicant's words.
    app.deliver(&gmail_reply(
        &budi,
        &ack,
        "Berikut saya kirimkan sertifikat tanah yang kurang.",
        std::slice::from_ref(&part),
    ))
    .await;
    app.run_once().await;
    assert_eq!(app.cases().await.len(), 1, "the reply joins the case");
    let acks = acks_to(&budi, 2).await;
    assert_eq!(acks.len(), 2, "one acknowledgement for the reply");
    let text = body_of(&acks[1]);
    assert!(text.contains("pesan susulan"), "{text}");
    assert!(text.contains("Berkas tambahan"), "{text}");
    assert!(text.contains("sertifikat_tanah.docx"), "{text}");
    assert!(
        !text.contains("ktp-budi.pdf"),
        "only what arrived in this message is listed: {text}"
    );
    let after = app.show(&code).await;
    assert!(
        !after.missing.contains(&"sertifikat_tanah".to_string()),
        "the checklist is re-evaluated: {:?}",
        after.missing
    );
    let still = text.split("MASIH KURANG").nth(1).unwrap_or("");
    assert!(
        !still.to_lowercase().contains("sertifikat"),
        "the sertifikat is no longer missing: {text}"
    );
    let events = history(&app, &code).await;
    assert!(events.iter().any(|(e, _)| e == "message_joined"));

    // The same file again, without the code: not counted twice, and the applicant is told.
    app.deliver(&mail_with(
        &budi,
        "Sertifikat",
        "Sertifikat saya kirim ulang.",
        std::slice::from_ref(&part),
    ))
    .await;
    app.run_once().await;
    assert_eq!(app.cases().await.len(), 1, "the same files join the case");
    assert_eq!(
        app.show(&code).await.documents.len(),
        after.documents.len(),
        "not counted twice"
    );
    let acks = acks_to(&budi, 3).await;
    assert_eq!(acks.len(), 3);
    let text = body_of(&acks[2]);
    assert!(text.contains("SUDAH KAMI TERIMA"), "{text}");

    // The KTP of the first application reused with a new application's documents is a new
    // case.
    let first = std::fs::read(repo().join("fixtures/mail/pbg-application.eml")).unwrap();
    use mail_parser::MimeHeaders;
    let first = mail_parser::MessageParser::default().parse(&first).unwrap();
    let ktp = first
        .attachments()
        .find(|a| a.attachment_name() == Some("ktp-budi.pdf"))
        .unwrap()
        .contents()
        .to_vec();
    app.deliver(&mail_with(
        &budi,
        "Permohonan izin reklame",
        "Dengan hormat, saya mengajukan izin reklame papan nama toko.",
        &[
            Part {
                filename: "ktp-budi.pdf",
                content_type: "application/pdf",
                data: &ktp,
            },
            Part {
                filename: "desain-reklame.docx",
                content_type:
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                data: &app::docx(&["DESAIN REKLAME papan nama 2 x 1 m"]),
            },
        ],
    ))
    .await;
    app.run_once().await;
    assert_eq!(app.cases().await.len(), 2, "a second application");
}

#[tokio::test]
async fn a_reply_with_the_missing_document_joins_the_case_and_is_acknowledged_sqlite() {
    a_reply_with_the_missing_document_joins_the_case_and_is_acknowledged(Db::Sqlite).await;
}

#[tokio::test]
async fn a_reply_with_the_missing_document_joins_the_case_and_is_acknowledged_postgres() {
    a_reply_with_the_missing_document_joins_the_case_and_is_acknowledged(Db::Postgres).await;
}

#[tokio::test]
async fn a_stranger_quoting_a_code_gets_a_case_of_their_own_for_triage() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let budi = unique_address("budi");
    let (code, _) = applied(&app, &budi).await;
    let docs = app.show(&code).await.documents.len();
    let joko = unique_address("joko");
    app.deliver(&mail_with(
        &joko,
        &format!("Re: [{code}] berkas"),
        "Saya tambahkan surat kuasa untuk permohonan ini.",
        &[Part {
            filename: "surat-kuasa.docx",
            content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            data: &app::docx(&["SURAT KUASA"]),
        }],
    ))
    .await;
    app.run_once().await;
    let cases = app.cases().await;
    assert_eq!(cases.len(), 2, "a case of their own");
    let theirs = cases
        .iter()
        .find(|c| c.applicant.email.as_deref() == Some(&joko))
        .unwrap();
    assert_eq!(theirs.mentions, vec![code.clone()]);
    let shown = app.show(&theirs.tracking_code).await;
    assert!(shown.details.unwrap().triage, "flagged for triage");
    assert_eq!(
        app.show(&code).await.documents.len(),
        docs,
        "Budi's case is untouched"
    );
}

#[tokio::test]
async fn mail_staff_forward_into_the_mailbox_is_the_applicants() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let ahmad = unique_address("ahmad");
    let raw = std::fs::read(repo().join("fixtures/mail/forwarded.eml")).unwrap();
    let raw = String::from_utf8_lossy(&raw)
        .replace(
            "rina.kartika@example.com",
            "bidang.pupr@dpmptsp.example.go.id",
        )
        .replace("ahmad.fauzi@example.net", &ahmad);
    app.deliver(raw.as_bytes()).await;
    app.run_once().await;
    let cases = app.cases().await;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].applicant.email.as_deref(), Some(ahmad.as_str()));
    assert_eq!(
        acks_to(&ahmad, 1).await.len(),
        1,
        "the applicant is acknowledged"
    );
    assert!(
        acks_to("bidang.pupr@dpmptsp.example.go.id", 0)
            .await
            .is_empty(),
        "the department is not"
    );
}

async fn bounces_mark_the_address_and_are_never_answered(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    for fixture in [
        "gmail-address-not-found.eml",
        "office365.eml",
        "exchange-2010.eml",
        "exim.eml",
        "postfix.eml",
        "qmail.eml",
        "yahoo.eml",
        "no-mx.eml",
        "mailbox-full-permanent.eml",
    ] {
        let who = unique_address("rina");
        let (code, ack) = applied(&app, &who).await;
        let cases = app.cases().await.len();
        let id = header(&ack, "Message-ID").unwrap();
        app.deliver(&bounce_of(fixture, &who, &id)).await;
        app.run_once().await;
        assert_eq!(
            app.cases().await.len(),
            cases,
            "{fixture}: no case for a bounce"
        );
        let case = app.show(&code).await;
        assert!(
            case.applicant.email_undeliverable,
            "{fixture}: address marked"
        );
        assert!(
            history(&app, &code)
                .await
                .iter()
                .any(|(e, _)| e == "email_undeliverable"),
            "{fixture}: in the history"
        );
        assert_eq!(
            acks_to(&who, 1).await.len(),
            1,
            "{fixture}: nothing more sent"
        );
        let raw = std::fs::read(repo().join("fixtures/bounces").join(fixture)).unwrap();
        let from = mail_parser::MessageParser::default()
            .parse(&raw)
            .and_then(|m| {
                m.from()
                    .and_then(|f| f.first()?.address().map(String::from))
            })
            .unwrap();
        assert!(
            acks_to(&from, 0).await.is_empty(),
            "{fixture}: the bounce ({from}) is never answered"
        );
    }

    // A delay does not mark the address; a later message from a marked one clears it.
    let who = unique_address("tono");
    let (code, ack) = applied(&app, &who).await;
    let id = header(&ack, "Message-ID").unwrap();
    app.deliver(&bounce_of("gmail-delay.eml", &who, &id)).await;
    app.run_once().await;
    assert!(
        !app.show(&code).await.applicant.email_undeliverable,
        "a delay marks nothing"
    );
    app.deliver(&bounce_of("gmail-address-not-found.eml", &who, &id))
        .await;
    app.run_once().await;
    assert!(app.show(&code).await.applicant.email_undeliverable);
    app.deliver(&text_mail(
        &who,
        &format!("Re: [{code}] berkas"),
        "Alamat email saya sudah aktif lagi.",
        "",
    ))
    .await;
    app.run_once().await;
    assert!(
        !app.show(&code).await.applicant.email_undeliverable,
        "a message from the address clears the mark"
    );
}

#[tokio::test]
async fn bounces_mark_the_address_and_are_never_answered_sqlite() {
    bounces_mark_the_address_and_are_never_answered(Db::Sqlite).await;
}

#[tokio::test]
async fn bounces_mark_the_address_and_are_never_answered_postgres() {
    bounces_mark_the_address_and_are_never_answered(Db::Postgres).await;
}

#[tokio::test]
async fn a_forged_from_never_joins_a_case_by_naming_its_code() {
    let Some(app) = TestApp::spawn_with(Db::Sqlite, |t| {
        t["imap"]
            .as_table_mut()
            .unwrap()
            .insert("trusted_authserv_id".into(), "mx.pasuruankab.go.id".into());
    })
    .await
    else {
        return;
    };
    let budi = unique_address("budi");
    let (code, _) = applied(&app, &budi).await;
    let docs = app.show(&code).await.documents.len();
    let with_results = |results: &str, file: &str| {
        let raw = String::from_utf8(mail_with(
            &budi,
            &format!("Re: [{code}] tambahan"),
            "Berikut tambahan berkas.",
            &[Part {
                filename: file,
                content_type:
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                data: &app::docx(&[file]),
            }],
        ))
        .unwrap();
        format!("Authentication-Results: {results}\r\n{raw}").into_bytes()
    };
    // The office's own server says the From is forged: a case of its own, the code a mention.
    app.deliver(&with_results(
        "mx.pasuruankab.go.id; dkim=none; spf=fail smtp.mailfrom=evil.example; dmarc=fail (p=none) header.from=example.com",
        "palsu.docx",
    ))
    .await;
    // A header written by anyone else is not believed: this one joins.
    app.deliver(&with_results(
        "mx.evil.example; dmarc=fail header.from=example.com",
        "asli.docx",
    ))
    .await;
    app.run_once().await;
    let cases = app.cases().await;
    assert_eq!(cases.len(), 2, "the forged message is a case of its own");
    let forged = cases.iter().find(|c| c.tracking_code != code).unwrap();
    assert_eq!(forged.mentions, vec![code.clone()]);
    let names: Vec<String> = app
        .show(&code)
        .await
        .documents
        .into_iter()
        .map(|d| d.filename)
        .collect();
    assert_eq!(names.len(), docs + 1, "{names:?}");
    assert!(names.contains(&"asli.docx".to_string()), "{names:?}");
}
