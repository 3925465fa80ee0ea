//! Departments hear of new cases in their queue, on real servers: one notice per case
//! (`each`) or one digest a day (`digest`), at the department's address from the rules, never
//! with the applicant's documents, never to an address loket itself uses; and loket's own mail
//! that comes back into the watched mailbox never becomes a case.

mod app;
mod support;

use std::path::Path;

use app::{acks_to, fixture_from, header, repo, text_mail, unique_address, Db, TestApp};

/// The department ids of `rules/departments.toml`.
const DEPARTMENTS: &[&str] = &[
    "pupr",
    "kesehatan",
    "usaha",
    "lingkungan",
    "pengaduan",
    "informasi",
];

/// Budi's NIK in `pbg-application.eml`: never in a notice.
const NIK: &str = "3514061208850003";

/// A loket instance whose departments have addresses of their own in the SMTP sink.
struct Office {
    app: TestApp,
    /// Department id -> its address in the rules.
    emails: Vec<(String, String)>,
}

impl Office {
    /// `mode` for `notify.department_notices`; `own` names a department whose address is the
    /// office's own (`smtp.from`).
    async fn spawn(db: Db, mode: &str, own: Option<&str>) -> Option<Office> {
        let emails: Vec<(String, String)> = DEPARTMENTS
            .iter()
            .map(|d| {
                let email = if own == Some(*d) {
                    "perizinan@pasuruankab.go.id".to_string()
                } else {
                    unique_address(&format!("bidang-{d}"))
                };
                (d.to_string(), email)
            })
            .collect();
        let rules = tempfile::tempdir().unwrap().keep();
        copy_rules(&repo().join("rules"), &rules, &emails);
        let app = TestApp::spawn_with(db, |t| {
            t["rules"]["dir"] = toml::Value::String(rules.display().to_string());
            let notify = t["notify"].as_table_mut().unwrap();
            notify.insert("department_notices".into(), mode.into());
            // Due at once: today's digest is made by the first run.
            notify.insert("digest_time".into(), "00:00".into());
        })
        .await?;
        Some(Office { app, emails })
    }

    fn email(&self, department: &str) -> &str {
        &self.emails.iter().find(|(d, _)| d == department).unwrap().1
    }

    /// Mail each department's address received so far.
    fn received(&self) -> Vec<(String, usize)> {
        self.emails
            .iter()
            .map(|(d, e)| (d.clone(), support::smtp().messages_to(e).len()))
            .collect()
    }
}

/// The rules with each department's `email` replaced.
fn copy_rules(from: &Path, to: &Path, emails: &[(String, String)]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_rules(&entry.path(), &target, emails);
        } else if entry.file_name() == "departments.toml" {
            let mut table: toml::Table =
                toml::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
            for d in table["department"].as_array_mut().unwrap() {
                let d = d.as_table_mut().unwrap();
                let id = d["id"].as_str().unwrap().to_string();
                let email = &emails.iter().find(|(i, _)| *i == id).unwrap().1;
                d.insert("email".into(), email.clone().into());
            }
            std::fs::write(target, toml::to_string(&table).unwrap()).unwrap();
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A mail that the rules can't place: an officer must route it (triage).
fn vague_mail(from: &str) -> Vec<u8> {
    text_mail(
        from,
        "pengajuan izin",
        "mau mengajukan izin untuk usaha saya, apa saja yang perlu dikirim? berkas ktp sudah \
         saya lampirkan",
        "",
    )
}

/// The plain body of a raw mail, and how many attachments it has.
fn body_and_attachments(raw: &str) -> (String, usize) {
    let parsed = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    (
        parsed.body_text(0).unwrap_or_default().into_owned(),
        parsed.attachment_count(),
    )
}

/// A notice shows no document and nothing of the applicant beyond the subject line.
fn assert_no_documents(raw: &str, document_texts: &[String]) {
    let (body, attachments) = body_and_attachments(raw);
    assert_eq!(attachments, 0, "a notice carries no attachment: {raw}");
    assert!(!raw.contains("Content-Disposition"), "{raw}");
    assert!(!raw.contains(NIK), "no NIK in a notice: {raw}");
    for text in document_texts {
        let line = text.lines().find(|l| l.trim().len() > 20).unwrap_or("");
        assert!(
            line.is_empty() || !body.contains(line.trim()),
            "document text {line:?} in a notice: {body}"
        );
    }
}

/// Every text read from the documents of the case.
async fn document_texts(app: &TestApp, code: &str) -> Vec<String> {
    let case = app.show(code).await;
    let texts: Vec<String> = case.documents.into_iter().filter_map(|d| d.text).collect();
    assert!(!texts.is_empty(), "{code} has text read from its documents");
    texts
}

async fn each_mode_sends_one_notice_per_new_case_and_none_for_triage(db: Db) {
    let Some(office) = Office::spawn(db, "each", None).await else {
        return;
    };
    let app = &office.app;
    let budi = unique_address("budi");
    let siti = unique_address("siti");
    app.deliver(&fixture_from("pbg-application.eml", &budi))
        .await;
    app.deliver(&vague_mail(&siti)).await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let cases = app.cases().await;
    assert_eq!(cases.len(), 2);
    let pbg = cases
        .iter()
        .find(|c| c.permit_type.as_deref() == Some("pbg"))
        .unwrap();
    let vague = cases
        .iter()
        .find(|c| c.tracking_code != pbg.tracking_code)
        .unwrap();
    assert_eq!(pbg.department.as_deref(), Some("pupr"));
    assert!(app.show(&vague.tracking_code).await.details.unwrap().triage);

    let notices = acks_to(office.email("pupr"), 1).await;
    assert_eq!(notices.len(), 1, "one notice for the PBG case");
    let notice = &notices[0];
    let subject = header(notice, "Subject").unwrap();
    assert!(subject.contains(&pbg.tracking_code), "{subject}");
    let (body, _) = body_and_attachments(notice);
    assert!(body.contains(&pbg.tracking_code), "{body}");
    assert!(body.contains("Persetujuan Bangunan Gedung"), "{body}");
    assert!(body.contains("Permohonan PBG rumah tinggal"), "{body}");
    assert!(
        !body.contains(&vague.tracking_code),
        "the triage case is nobody's yet"
    );
    assert_no_documents(notice, &document_texts(app, &pbg.tracking_code).await);
    let others: Vec<_> = office
        .received()
        .into_iter()
        .filter(|(d, n)| d != "pupr" && *n > 0)
        .collect();
    assert!(others.is_empty(), "only PUPR has a new case: {others:?}");

    let history = app.show(&pbg.tracking_code).await.history.unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|e| e.event == "department_notified")
            .count(),
        1,
        "{history:?}"
    );

    // Nothing is announced twice.
    app.run_once().await;
    assert_eq!(acks_to(office.email("pupr"), 1).await.len(), 1);

    // The notice (say the department address forwards to the watched mailbox) and Budi's
    // acknowledgement come back in, byte for byte: recorded as loket's own, no new case.
    let ack = acks_to(&budi, 1).await.remove(0);
    app.deliver(notice.as_bytes()).await;
    app.deliver(ack.as_bytes()).await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(app.cases().await.len(), 2, "loket's own mail is no case");
    assert!(app.inbox().await.is_empty(), "and it leaves the inbox");
    let db = app.sql().await;
    let own: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE state = 'own' AND case_id IS NULL")
            .fetch_one(&db)
            .await
            .unwrap();
    db.close().await;
    assert_eq!(own, 2);
    assert_eq!(acks_to(office.email("pupr"), 1).await.len(), 1);
    assert_eq!(
        acks_to(&budi, 1).await.len(),
        1,
        "nobody answers loket's own mail"
    );
}

#[tokio::test]
async fn each_mode_sends_one_notice_per_new_case_and_none_for_triage_sqlite() {
    each_mode_sends_one_notice_per_new_case_and_none_for_triage(Db::Sqlite).await;
}

#[tokio::test]
async fn each_mode_sends_one_notice_per_new_case_and_none_for_triage_postgres() {
    each_mode_sends_one_notice_per_new_case_and_none_for_triage(Db::Postgres).await;
}

async fn digest_mode_sends_one_digest_per_department_listing_the_days_cases_once(db: Db) {
    let Some(office) = Office::spawn(db, "digest", None).await else {
        return;
    };
    let app = &office.app;
    let budi = unique_address("budi");
    let andi = unique_address("andi");
    let warga = unique_address("warga");
    app.deliver(&fixture_from("pbg-application.eml", &budi))
        .await;
    app.deliver(&fixture_from("pbg-application.eml", &andi))
        .await;
    app.deliver(&fixture_from("pengaduan.eml", &warga)).await;
    app.deliver(&vague_mail(&unique_address("siti"))).await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let cases = app.cases().await;
    assert_eq!(cases.len(), 4);
    let codes_of = |department: &str| -> Vec<String> {
        cases
            .iter()
            .filter(|c| c.department.as_deref() == Some(department))
            .map(|c| c.tracking_code.clone())
            .collect()
    };
    let (pupr, pengaduan) = (codes_of("pupr"), codes_of("pengaduan"));
    assert_eq!(pupr.len(), 2, "{cases:#?}");
    assert_eq!(pengaduan.len(), 1, "{cases:#?}");

    let digest = acks_to(office.email("pupr"), 1).await;
    assert_eq!(digest.len(), 1, "one digest for PUPR");
    let (body, _) = body_and_attachments(&digest[0]);
    for code in &pupr {
        assert_eq!(
            body.matches(code.as_str()).count(),
            1,
            "{code} once: {body}"
        );
    }
    let mut texts = Vec::new();
    for code in &pupr {
        texts.extend(document_texts(app, code).await);
    }
    assert_no_documents(&digest[0], &texts);
    let complaint = acks_to(office.email("pengaduan"), 1).await;
    assert_eq!(complaint.len(), 1);
    assert!(complaint[0].contains(&pengaduan[0]));
    let idle: Vec<_> = office
        .received()
        .into_iter()
        .filter(|(d, n)| d != "pupr" && d != "pengaduan" && *n > 0)
        .collect();
    assert!(idle.is_empty(), "no digest without new cases: {idle:?}");

    // Today's digests are made: another run sends nothing more, and a case that arrives now
    // waits for tomorrow's digest.
    app.run_once().await;
    app.deliver(&fixture_from(
        "pbg-application.eml",
        &unique_address("rina"),
    ))
    .await;
    app.run_once().await;
    assert_eq!(app.cases().await.len(), 5);
    assert_eq!(acks_to(office.email("pupr"), 1).await.len(), 1);
    assert_eq!(acks_to(office.email("pengaduan"), 1).await.len(), 1);

    // A digest that comes back in is loket's own mail too.
    app.deliver(digest[0].as_bytes()).await;
    app.run_once().await;
    assert_eq!(app.cases().await.len(), 5);
}

#[tokio::test]
async fn digest_mode_sends_one_digest_per_department_listing_the_days_cases_once_sqlite() {
    digest_mode_sends_one_digest_per_department_listing_the_days_cases_once(Db::Sqlite).await;
}

#[tokio::test]
async fn digest_mode_sends_one_digest_per_department_listing_the_days_cases_once_postgres() {
    digest_mode_sends_one_digest_per_department_listing_the_days_cases_once(Db::Postgres).await;
}

/// Two workers reach the digest time together: each department still gets one digest.
async fn two_workers_at_digest_time_make_one_digest_per_department(db: Db) {
    let Some(office) = Office::spawn(db, "digest", None).await else {
        return;
    };
    let app = &office.app;
    app.deliver(&fixture_from(
        "pbg-application.eml",
        &unique_address("budi"),
    ))
    .await;
    app.deliver(&fixture_from(
        "pbg-application.eml",
        &unique_address("andi"),
    ))
    .await;
    // Sort the cases with the digest not due yet (at 23:59 office time, unless it is that late).
    let mut cfg = app.config();
    cfg.notify.digest_time = "23:59".into();
    let ctx = loket::worker::context(cfg.clone(), "test").await.unwrap();
    loket::worker::run_once(&ctx).await.unwrap();
    ctx.close().await;
    if support::smtp().messages_to(office.email("pupr")).len() == 1 {
        eprintln!("skipping the race: it is 23:59 office time");
        return;
    }
    cfg.notify.digest_time = "00:00".into();
    let a = loket::worker::context(cfg.clone(), "a").await.unwrap();
    let b = loket::worker::context(cfg, "b").await.unwrap();
    let (made_a, made_b) = tokio::join!(
        loket::pipeline::notices::make_due_digests(&a),
        loket::pipeline::notices::make_due_digests(&b),
    );
    let made = made_a.unwrap() + made_b.unwrap();
    assert_eq!(made, 1, "one digest to send (only PUPR has cases)");
    a.close().await;
    b.close().await;
    app.run_once().await;
    let digest = acks_to(office.email("pupr"), 1).await;
    assert_eq!(digest.len(), 1);
    assert_eq!(
        body_and_attachments(&digest[0]).0.matches("PSR-").count(),
        2
    );
    let db = app.sql().await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_digests")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    assert_eq!(
        rows as usize,
        DEPARTMENTS.len(),
        "one row per department and day"
    );
}

#[tokio::test]
async fn two_workers_at_digest_time_make_one_digest_per_department_sqlite() {
    two_workers_at_digest_time_make_one_digest_per_department(Db::Sqlite).await;
}

#[tokio::test]
async fn two_workers_at_digest_time_make_one_digest_per_department_postgres() {
    two_workers_at_digest_time_make_one_digest_per_department(Db::Postgres).await;
}

async fn a_department_whose_email_is_an_own_address_gets_nothing(db: Db, mode: &str) {
    let Some(office) = Office::spawn(db, mode, Some("pupr")).await else {
        return;
    };
    let app = &office.app;
    let own = office.email("pupr").to_string();
    let before = support::smtp().messages_to(&own).len();
    app.deliver(&fixture_from(
        "pbg-application.eml",
        &unique_address("budi"),
    ))
    .await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    let cases = app.cases().await;
    assert_eq!(cases[0].department.as_deref(), Some("pupr"));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        support::smtp().messages_to(&own).len(),
        before,
        "nothing to the office's own address"
    );
    let db_pool = app.sql().await;
    let skipped: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM department_notices WHERE state = 'skipped' \
         OR digest_id IN (SELECT id FROM notice_digests WHERE state = 'skipped')",
    )
    .fetch_one(&db_pool)
    .await
    .unwrap();
    db_pool.close().await;
    assert_eq!(skipped, 1, "the notice is recorded as not sent");

    // `rules check` warns about it, and still passes.
    let out = app.command().args(["rules", "check"]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("\"pupr\"") && stderr.contains(&own),
        "{stderr}"
    );
    assert!(!stderr.contains("\"kesehatan\""), "{stderr}");
}

#[tokio::test]
async fn a_department_whose_email_is_an_own_address_gets_nothing_sqlite() {
    a_department_whose_email_is_an_own_address_gets_nothing(Db::Sqlite, "each").await;
    a_department_whose_email_is_an_own_address_gets_nothing(Db::Sqlite, "digest").await;
}

#[tokio::test]
async fn a_department_whose_email_is_an_own_address_gets_nothing_postgres() {
    a_department_whose_email_is_an_own_address_gets_nothing(Db::Postgres, "each").await;
    a_department_whose_email_is_an_own_address_gets_nothing(Db::Postgres, "digest").await;
}
