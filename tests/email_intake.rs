//! The spine, end to end on real servers: an applicant emails the office, loket files a case and
//! acknowledges it, exactly once, whatever happens in between.

mod app;
mod support;

use app::{
    acks_to, fixture_from, header, mail_with, text_mail, unique_address, Daemon, Db, Part, TestApp,
};

async fn applicant_emails_pbg_application_and_gets_one_acknowledgement(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let budi = unique_address("budi");
    app.deliver(&fixture_from("pbg-application.eml", &budi))
        .await;

    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let cases = app.cases().await;
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    assert!(case.tracking_code.starts_with("PSR-"));
    assert_eq!(case.channel, "email");
    assert_eq!(case.applicant.email.as_deref(), Some(budi.as_str()));
    assert_eq!(case.kind, "application");
    assert_eq!(case.permit_type.as_deref(), Some("pbg"), "{case:#?}");
    assert!(case.documents.len() >= 2, "{:#?}", case.documents);
    assert!(
        case.documents
            .iter()
            .all(|d| d.error.is_none() && d.text_chars > 0),
        "{:#?}",
        case.documents
    );

    let acks = acks_to(&budi, 1).await;
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    let subject = header(ack, "Subject").unwrap();
    assert!(subject.contains(&case.tracking_code), "{subject}");
    assert_eq!(
        header(ack, "Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    assert!(header(ack, "In-Reply-To").is_some());
    assert!(header(ack, "References").is_some());
    let parsed = mail_parser::MessageParser::default()
        .parse(ack.as_bytes())
        .unwrap();
    let body = parsed.body_text(0).unwrap();
    assert!(body.contains(&case.tracking_code));
    for doc in &case.documents {
        assert!(
            body.contains(&doc.filename),
            "ack names {}: {body}",
            doc.filename
        );
    }

    // The message left the inbox only after it was filed.
    assert!(app.inbox().await.is_empty());
    assert_eq!(app.processed().await.len(), 1);

    // Running again changes nothing.
    app.run_once().await;
    assert_eq!(app.cases().await.len(), 1);
    assert_eq!(acks_to(&budi, 1).await.len(), 1);
    let shown = app.show(&case.tracking_code).await;
    let history: Vec<&str> = shown
        .history
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| e.event.as_str())
        .collect();
    assert_eq!(
        history.iter().filter(|e| **e == "acknowledged").count(),
        1,
        "{history:?}"
    );
}

/// A surat permohonan as Word saves it: the letterhead in a header, the request in a table
/// with curly quotes written as character references, a note in a text box (with its VML
/// fallback copy), and the footer.
fn surat_permohonan_docx() -> Vec<u8> {
    use std::io::Write;
    const NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;
    let p = |t: &str| format!("<w:p><w:r><w:t xml:space=\"preserve\">{t}</w:t></w:r></w:p>");
    let cell = |t: &str| format!("<w:tc>{}</w:tc>", p(t));
    let row = |a: &str, b: &str| format!("<w:tr>{}{}</w:tr>", cell(a), cell(b));
    let note = p("Catatan: apoteker penanggung jawab sudah memiliki STRA");
    let body = format!(
        "{}<w:tbl>{}{}{}</w:tbl><w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wps:txbx><w:txbxContent>{note}</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox><w:txbxContent>{note}</w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>{}",
        p("Kepada Yth. Kepala DPMPTSP Kabupaten Pasuruan"),
        row("Perihal", "Permohonan Izin Apo</w:t></w:r><w:r><w:t>tek baru"),
        row("Nama apotek", "Apotek &#8220;Sehat &amp; Sentosa&#8221;"),
        row("Alamat", "Jl. Pahlawan 12, Bangil"),
        p("Hormat saya,"),
    );
    let parts = [
        ("[Content_Types].xml".to_string(), "<Types/>".to_string()),
        (
            "word/document.xml".into(),
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document {NS}><w:body>{body}</w:body></w:document>"),
        ),
        ("word/header1.xml".into(), format!("<w:hdr {NS}>{}</w:hdr>", p("APOTEK SEHAT &amp; SENTOSA"))),
        ("word/footer1.xml".into(), format!("<w:ftr {NS}>{}</w:ftr>", p("Bangil, 23 November 2026"))),
    ];
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    for (name, xml) in parts {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(xml.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    buf.into_inner()
}

async fn applicant_emails_a_word_surat_permohonan_and_the_case_is_sorted_to_its_permit(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let sri = unique_address("sri");
    let letter = surat_permohonan_docx();
    let raw = mail_with(
        &sri,
        "Permohonan izin",
        "Dengan hormat, bersama ini saya kirimkan surat permohonan terlampir.",
        &[Part {
            filename: "Surat Permohonan.docx",
            content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            data: &letter,
        }],
    );
    app.deliver(&raw).await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let code = app.cases().await[0].tracking_code.clone();
    let case = app.show(&code).await;
    assert_eq!(case.permit_type.as_deref(), Some("apotek"), "{case:#?}");
    let doc = &case.documents[0];
    assert!(doc.error.is_none(), "{:?}", doc.error);
    assert_eq!(doc.doc_type.as_deref(), Some("surat_permohonan"));
    let text = doc.text.as_deref().unwrap();
    for line in [
        "Perihal\tPermohonan Izin Apotek baru",
        "Nama apotek\tApotek \u{201c}Sehat & Sentosa\u{201d}",
        "APOTEK SEHAT & SENTOSA",
        "Bangil, 23 November 2026",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in {text}");
    }
    assert_eq!(
        text.matches("STRA").count(),
        1,
        "text box read once: {text}"
    );
    assert_eq!(acks_to(&sri, 1).await.len(), 1);
}

#[tokio::test]
async fn applicant_emails_a_word_surat_permohonan_and_the_case_is_sorted_to_its_permit_sqlite() {
    applicant_emails_a_word_surat_permohonan_and_the_case_is_sorted_to_its_permit(Db::Sqlite).await;
}

#[tokio::test]
async fn applicant_emails_a_word_surat_permohonan_and_the_case_is_sorted_to_its_permit_postgres() {
    applicant_emails_a_word_surat_permohonan_and_the_case_is_sorted_to_its_permit(Db::Postgres)
        .await;
}

#[tokio::test]
async fn applicant_emails_pbg_application_and_gets_one_acknowledgement_sqlite() {
    applicant_emails_pbg_application_and_gets_one_acknowledgement(Db::Sqlite).await;
}

#[tokio::test]
async fn applicant_emails_pbg_application_and_gets_one_acknowledgement_postgres() {
    applicant_emails_pbg_application_and_gets_one_acknowledgement(Db::Postgres).await;
}

async fn worker_killed_between_filing_and_sending_sends_exactly_one_acknowledgement(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let siti = unique_address("siti");
    app.deliver(&text_mail(
        &siti,
        "Permohonan izin reklame",
        "Saya mau pasang papan reklame di toko.",
        "",
    ))
    .await;

    let crashed = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_TEST_CRASH_AFTER", "classify")
        .status()
        .unwrap();
    assert!(!crashed.success(), "the test hook aborts the worker");
    assert!(
        acks_to(&siti, 0).await.is_empty(),
        "nothing sent before the crash"
    );

    let rerun = app.command().args(["run", "--once"]).status().unwrap();
    assert!(rerun.success());
    assert_eq!(acks_to(&siti, 1).await.len(), 1);
    let again = app.command().args(["run", "--once"]).status().unwrap();
    assert!(again.success());
    assert_eq!(acks_to(&siti, 1).await.len(), 1, "still exactly one");
    assert_eq!(app.cases().await.len(), 1);
}

/// A run killed while it holds the sending step (its lease still running): the next
/// `run --once`, on any machine, waits for that lease to run out and sends the
/// acknowledgement, once.
async fn run_killed_while_sending_is_finished_by_the_next_run(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let rina = unique_address("rina");
    app.deliver(&text_mail(
        &rina,
        "Permohonan izin reklame",
        "Saya mau pasang papan reklame di depan toko.",
        "",
    ))
    .await;
    let stalled = Daemon::start_with(&app, &["run", "--once"], |c| {
        c.env("LOKET_TEST_STALL_IN", "send")
            .env("LOKET_TEST_STALL_SECONDS", "120");
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !stalled.log().contains("LOKET_TEST_STALL_IN") {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached the sending step; log:\n{}",
            stalled.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let holders = app.store().await.job_holders("").await.unwrap();
    assert_eq!(holders.len(), 1, "the run holds its step: {holders:?}");
    stalled.kill();

    // The next run has no mailbox to wait for (the mail room's spool-only config), so nothing
    // but the killed run's lease stands between it and the acknowledgement.
    let mut cfg: toml::Table =
        toml::from_str(&std::fs::read_to_string(&app.config_path).unwrap()).unwrap();
    cfg.remove("imap");
    let spool_only = app.dir.path().join("spool-only.toml");
    std::fs::write(&spool_only, toml::to_string(&cfg).unwrap()).unwrap();
    let rerun = std::process::Command::new(env!("CARGO_BIN_EXE_loket"))
        .arg("--config")
        .arg(&spool_only)
        .args(["run", "--once"])
        .env("LOKET_LOG", "warn")
        .status()
        .unwrap();
    assert!(rerun.success());
    assert_eq!(
        acks_to(&rina, 1).await.len(),
        1,
        "the next run sent what the killed one held"
    );
    assert!(app.store().await.job_holders("").await.unwrap().is_empty());
    let again = app.command().args(["run", "--once"]).status().unwrap();
    assert!(again.success());
    assert_eq!(acks_to(&rina, 1).await.len(), 1, "still exactly one");
}

#[tokio::test]
async fn run_killed_while_sending_is_finished_by_the_next_run_sqlite() {
    run_killed_while_sending_is_finished_by_the_next_run(Db::Sqlite).await;
}

#[tokio::test]
async fn run_killed_while_sending_is_finished_by_the_next_run_postgres() {
    run_killed_while_sending_is_finished_by_the_next_run(Db::Postgres).await;
}

async fn worker_killed_after_storing_resumes_without_a_second_case(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let rudi = unique_address("rudi");
    app.deliver(&text_mail(
        &rudi,
        "Pengaduan pelayanan lambat",
        "Sudah dua minggu belum ada kabar.",
        "",
    ))
    .await;
    let crashed = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_TEST_CRASH_AFTER", "intake")
        .status()
        .unwrap();
    assert!(!crashed.success());
    assert_eq!(
        app.inbox().await.len(),
        1,
        "not moved before its case is complete"
    );
    assert!(app
        .command()
        .args(["run", "--once"])
        .status()
        .unwrap()
        .success());
    assert_eq!(app.cases().await.len(), 1);
    assert_eq!(acks_to(&rudi, 1).await.len(), 1);
    assert!(app.inbox().await.is_empty());
}

async fn machines_get_no_acknowledgement_but_are_recorded(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let (ooo, bounce, news) = (
        unique_address("ooo"),
        unique_address("mailer-daemon"),
        unique_address("news"),
    );
    app.deliver(&fixture_from("out-of-office.eml", &ooo)).await;
    app.deliver(&fixture_from("bounce.eml", &bounce)).await;
    app.deliver(&fixture_from("newsletter.eml", &news)).await;
    let own = text_mail("perizinan@pasuruankab.go.id", "Re: test", "loop?", "");
    app.deliver(&own).await;

    app.run_once().await;
    let cases = app.cases().await;
    assert_eq!(cases.len(), 4, "every message is filed");
    for case in &cases {
        let shown = app.show(&case.tracking_code).await;
        let no_reply = shown.details.as_ref().unwrap().no_reply.clone();
        assert!(
            no_reply.is_some(),
            "{} must not be answered: {shown:#?}",
            case.tracking_code
        );
    }
    for addr in [&ooo, &bounce, &news] {
        assert!(
            acks_to(addr, 0).await.is_empty(),
            "no acknowledgement to {addr}"
        );
    }
    assert!(acks_to("perizinan@pasuruankab.go.id", 0).await.is_empty());
}

#[tokio::test]
async fn broken_mime_is_recorded_and_the_next_message_still_processed() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let (broken, next) = (unique_address("broken"), unique_address("next"));
    app.deliver(&fixture_from("broken-mime.eml", &broken)).await;
    app.deliver(&fixture_from("hostile-filenames.eml", &broken))
        .await;
    app.deliver(&text_mail(
        &next,
        "Konsultasi NIB",
        "Bagaimana cara membuat NIB di OSS?",
        "",
    ))
    .await;
    app.deliver(b"\x00\x01\x02 this is not an email at all \xff\xfe")
        .await;

    let report = app.run_once().await;
    assert_eq!(report.jobs.parked, 0, "{report:?}");
    let cases = app.cases().await;
    assert_eq!(cases.len(), 4);
    for case in &cases {
        for doc in &case.documents {
            assert!(
                !doc.filename.contains('/') && !doc.filename.contains(".."),
                "{}",
                doc.filename
            );
            assert!(
                doc.filename.chars().count() <= 120 && !doc.filename.chars().any(char::is_control)
            );
        }
    }
    assert_eq!(acks_to(&next, 1).await.len(), 1);
    assert!(app.inbox().await.is_empty());
}

async fn dead_smtp_server_delays_the_acknowledgement_but_never_loses_or_repeats_it(db: Db) {
    let dead = support::dead_smtp_port();
    let Some(app) = TestApp::spawn_with(db, |t| {
        t["smtp"]["port"] = toml::Value::Integer(dead as i64);
    })
    .await
    else {
        return;
    };
    let ani = unique_address("ani");
    app.deliver(&text_mail(
        &ani,
        "Permohonan SIP dokter",
        "Dengan hormat, saya mengajukan SIP dokter.",
        "",
    ))
    .await;

    let report = app.run_once().await;
    assert!(
        !report.unreachable.is_empty(),
        "run --once reports the dead SMTP server"
    );
    assert_eq!(app.cases().await.len(), 1, "the case is filed anyway");
    let status = app.command().args(["run", "--once"]).status().unwrap();
    assert_eq!(status.code(), Some(1), "non-zero when SMTP is unreachable");

    // The server comes back.
    let mut config = std::fs::read_to_string(&app.config_path).unwrap();
    config = config.replace(
        &format!("port = {dead}"),
        &format!("port = {}", support::smtp().port),
    );
    std::fs::write(&app.config_path, config).unwrap();
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(acks_to(&ani, 1).await.len(), 1);
    app.run_once().await;
    assert_eq!(acks_to(&ani, 1).await.len(), 1);
}

async fn applicant_replies_with_more_documents_to_the_same_case(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let budi = unique_address("budi");
    app.deliver(&text_mail(
        &budi,
        "Permohonan PBG rumah tinggal",
        "Saya mengajukan PBG untuk rumah tinggal.",
        "",
    ))
    .await;
    app.run_once().await;
    let code = app.cases().await[0].tracking_code.clone();

    let reply = fixture_from("pbg-application.eml", &budi);
    let reply = String::from_utf8_lossy(&reply).replacen(
        "Subject: ",
        &format!("Subject: Re: [{code}] "),
        1,
    );
    app.deliver(reply.as_bytes()).await;
    // A stranger quoting the code does not get into the case.
    let stranger = unique_address("stranger");
    app.deliver(&text_mail(
        &stranger,
        &format!("Re: [{code}] lihat"),
        "spam",
        "",
    ))
    .await;
    app.run_once().await;

    let cases = app.cases().await;
    assert_eq!(cases.len(), 2, "the stranger's mail is its own case");
    let case = app.show(&code).await;
    assert!(
        !case.documents.is_empty(),
        "documents added to the original case"
    );
    assert_eq!(
        acks_to(&budi, 2).await.len(),
        2,
        "one acknowledgement per message"
    );
}

#[tokio::test]
async fn mailbox_over_tls_with_the_office_ca() {
    let imap = support::dovecot();
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["imap"]["port"] = toml::Value::Integer(imap.tls_port as i64);
        t["imap"]["security"] = toml::Value::String("tls".into());
        t["imap"]["host"] = toml::Value::String("localhost".into());
        t["imap"].as_table_mut().unwrap().insert(
            "ca_file".into(),
            imap.ca_cert_path.display().to_string().into(),
        );
    })
    .await
    .unwrap();
    let dewi = unique_address("dewi");
    app.deliver(&text_mail(
        &dewi,
        "Konsultasi izin usaha",
        "Apa syarat izin usaha mikro?",
        "",
    ))
    .await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(app.cases().await.len(), 1);

    // Without the CA the certificate is refused, with a clear error naming the server.
    let strict = TestApp::spawn_with(Db::Sqlite, |t| {
        t["imap"]["port"] = toml::Value::Integer(imap.tls_port as i64);
        t["imap"]["security"] = toml::Value::String("tls".into());
        t["imap"]["host"] = toml::Value::String("localhost".into());
    })
    .await
    .unwrap();
    let out = strict.command().args(["run", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("localhost:{}", imap.tls_port)),
        "{stderr}"
    );
    assert!(!stderr.contains(&strict.pass), "no secrets in errors");
}

async fn stored_uidvalidity(app: &TestApp) -> i64 {
    let db = app.sql().await;
    let v = sqlx::query_scalar("SELECT uidvalidity FROM mailbox_state")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    v
}

/// Mail stored but not yet moved when Dovecot gives the inbox a new UIDVALIDITY: every message
/// is looked at again under the new UIDs, the copies join their cases, and each applicant gets
/// exactly one acknowledgement.
async fn new_uidvalidity_from_dovecot_loses_and_doubles_nothing(change: impl FnOnce(&TestApp)) {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let (a, b, c) = (
        unique_address("a"),
        unique_address("b"),
        unique_address("c"),
    );
    app.deliver(&text_mail(
        &a,
        "Permohonan izin trayek",
        "Mohon izin trayek angkot.",
        "",
    ))
    .await;
    app.deliver(&text_mail(
        &b,
        "Permohonan izin reklame",
        "Papan reklame toko.",
        "",
    ))
    .await;
    let crashed = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_TEST_CRASH_AFTER", "intake")
        .status()
        .unwrap();
    assert!(!crashed.success(), "stopped after storing, before moving");
    assert_eq!(app.inbox().await.len(), 2);
    let before = stored_uidvalidity(&app).await;

    change(&app);
    app.deliver(&text_mail(&c, "Permohonan izin apotek", "Apotek baru.", ""))
        .await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_ne!(stored_uidvalidity(&app).await, before, "Dovecot changed it");

    assert_eq!(app.cases().await.len(), 3, "same content, same case");
    for addr in [&a, &b, &c] {
        assert_eq!(acks_to(addr, 1).await.len(), 1, "{addr}");
    }
    assert!(app.inbox().await.is_empty(), "every message moved out");
    assert_eq!(app.processed().await.len(), 3, "each moved once");
}

#[tokio::test]
async fn uidvalidity_changed_by_doveadm_loses_and_doubles_nothing() {
    new_uidvalidity_from_dovecot_loses_and_doubles_nothing(|app| {
        support::dovecot().set_uid_validity(&app.user, "INBOX", 4242);
    })
    .await;
}

#[tokio::test]
async fn inbox_renumbered_by_dovecot_loses_and_doubles_nothing() {
    new_uidvalidity_from_dovecot_loses_and_doubles_nothing(|app| {
        support::dovecot().rebuild_inbox_uids(&app.user);
    })
    .await;
}

#[tokio::test]
async fn mailbox_with_starttls() {
    let imap = support::dovecot();
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["imap"]["security"] = toml::Value::String("starttls".into());
        t["imap"]["host"] = toml::Value::String("localhost".into());
        t["imap"].as_table_mut().unwrap().insert(
            "ca_file".into(),
            imap.ca_cert_path.display().to_string().into(),
        );
    })
    .await
    .unwrap();
    let eko = unique_address("eko");
    app.deliver(&text_mail(
        &eko,
        "Permohonan izin klinik",
        "Kami mengajukan izin klinik pratama.",
        "",
    ))
    .await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(app.cases().await.len(), 1);
    assert!(app.inbox().await.is_empty());
    assert_eq!(acks_to(&eko, 1).await.len(), 1);
}

#[tokio::test]
async fn worker_killed_between_filing_and_sending_sends_exactly_one_acknowledgement_sqlite() {
    worker_killed_between_filing_and_sending_sends_exactly_one_acknowledgement(Db::Sqlite).await;
}

#[tokio::test]
async fn worker_killed_between_filing_and_sending_sends_exactly_one_acknowledgement_postgres() {
    worker_killed_between_filing_and_sending_sends_exactly_one_acknowledgement(Db::Postgres).await;
}

#[tokio::test]
async fn worker_killed_after_storing_resumes_without_a_second_case_sqlite() {
    worker_killed_after_storing_resumes_without_a_second_case(Db::Sqlite).await;
}

#[tokio::test]
async fn worker_killed_after_storing_resumes_without_a_second_case_postgres() {
    worker_killed_after_storing_resumes_without_a_second_case(Db::Postgres).await;
}

#[tokio::test]
async fn machines_get_no_acknowledgement_but_are_recorded_sqlite() {
    machines_get_no_acknowledgement_but_are_recorded(Db::Sqlite).await;
}

#[tokio::test]
async fn machines_get_no_acknowledgement_but_are_recorded_postgres() {
    machines_get_no_acknowledgement_but_are_recorded(Db::Postgres).await;
}

#[tokio::test]
async fn applicant_replies_with_more_documents_to_the_same_case_sqlite() {
    applicant_replies_with_more_documents_to_the_same_case(Db::Sqlite).await;
}

#[tokio::test]
async fn applicant_replies_with_more_documents_to_the_same_case_postgres() {
    applicant_replies_with_more_documents_to_the_same_case(Db::Postgres).await;
}

#[tokio::test]
async fn dead_smtp_server_delays_the_acknowledgement_but_never_loses_or_repeats_it_sqlite() {
    dead_smtp_server_delays_the_acknowledgement_but_never_loses_or_repeats_it(Db::Sqlite).await;
}

#[tokio::test]
async fn dead_smtp_server_delays_the_acknowledgement_but_never_loses_or_repeats_it_postgres() {
    dead_smtp_server_delays_the_acknowledgement_but_never_loses_or_repeats_it(Db::Postgres).await;
}
