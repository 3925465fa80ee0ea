//! Acknowledgements over the SMTP an office really has: TLS from the first byte (465) and
//! STARTTLS (587), trusting the office's own CA through `smtp.ca_file`. A server whose
//! certificate that CA did not issue gets no mail, the acknowledgement waits with an error that
//! says why, and once the config is fixed it goes out exactly once.

mod app;
mod support;

use std::path::Path;
use std::time::Duration;

use app::{header, text_mail, unique_address, Db, TestApp};
use support::{SinkTls, SmtpSink};

/// An instance whose `[smtp]` points at `sink` with the security it speaks, trusting `ca_file`.
async fn app_sending_to(sink: &SmtpSink, host: &str, ca_file: &Path) -> TestApp {
    let security = match sink.tls {
        SinkTls::Implicit => "tls",
        SinkTls::Starttls => "starttls",
        SinkTls::None => "none",
    };
    TestApp::spawn_with(Db::Sqlite, |t| {
        let smtp = t["smtp"].as_table_mut().unwrap();
        smtp.insert("host".into(), host.into());
        smtp.insert("port".into(), i64::from(sink.port).into());
        smtp.insert("security".into(), security.into());
        smtp.insert("ca_file".into(), ca_file.display().to_string().into());
    })
    .await
    .expect("SQLite is always there")
}

/// An applicant's mail, delivered and run through once; returns the tracking code.
async fn applicant_applies(app: &TestApp, from: &str) -> String {
    app.deliver(&text_mail(
        from,
        "Permohonan izin usaha mikro",
        "Dengan hormat, saya mengajukan izin usaha mikro untuk warung saya.",
        "",
    ))
    .await;
    app.run_once().await;
    let cases = app.cases().await;
    assert_eq!(cases.len(), 1, "the case is filed whatever SMTP does");
    cases[0].tracking_code.clone()
}

/// The acknowledgements `sink` got for `to`, waiting up to 10 s for `n` of them.
async fn acks_in(sink: &SmtpSink, to: &str, n: usize) -> Vec<String> {
    let timeout = Duration::from_secs(if n == 0 { 1 } else { 10 });
    sink.wait_for(to, n, timeout)
        .await
        .into_iter()
        .map(|m| String::from_utf8_lossy(&m).into_owned())
        .collect()
}

/// How often the history of case `code` says it was acknowledged.
async fn acknowledged(app: &TestApp, code: &str) -> usize {
    let shown = app.show(code).await;
    shown
        .history
        .unwrap_or_default()
        .iter()
        .filter(|e| e.event == "acknowledged")
        .count()
}

/// The story on a sink that trusts the office CA: two applicants write, each gets one
/// acknowledgement naming the tracking code (the second mail may ride the kept TLS session),
/// and none again on the next run.
async fn acknowledgements_arrive_over(sink: &SmtpSink, host: &str) {
    let ca = sink.ca_cert_path.as_deref().expect("a TLS sink has a CA");
    let app = app_sending_to(sink, host, ca).await;
    let (sari, tono) = (unique_address("sari"), unique_address("tono"));
    for (from, permit) in [(&sari, "izin usaha mikro"), (&tono, "izin reklame")] {
        app.deliver(&text_mail(
            from,
            &format!("Permohonan {permit}"),
            &format!("Dengan hormat, saya mengajukan {permit}."),
            "",
        ))
        .await;
    }
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let cases = app.cases().await;
    assert_eq!(cases.len(), 2);
    for case in &cases {
        let to = case.applicant.email.as_deref().unwrap_or_default();
        let acks = acks_in(sink, to, 1).await;
        assert_eq!(acks.len(), 1, "{to}");
        let subject = header(&acks[0], "Subject").unwrap_or_default();
        assert!(subject.contains(&case.tracking_code), "{subject}");
        assert_eq!(acknowledged(&app, &case.tracking_code).await, 1);
    }

    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    for to in [&sari, &tono] {
        assert_eq!(acks_in(sink, to, 1).await.len(), 1, "not sent again");
    }
}

#[tokio::test]
async fn acknowledgement_goes_out_over_tls_with_the_office_ca() {
    acknowledgements_arrive_over(support::smtp_tls(), "localhost").await;
}

#[tokio::test]
async fn acknowledgement_goes_out_over_starttls_with_the_office_ca() {
    // By address: the certificate names 127.0.0.1 too, as some offices configure it.
    acknowledgements_arrive_over(support::smtp_starttls(), "127.0.0.1").await;
}

/// The sink's certificate is not from the CA in `smtp.ca_file` (that is the mailbox server's
/// own): nothing is sent, `run --once` fails naming the certificate and the server, the mail
/// waits (not given up), and after the config names the right CA it goes out once.
async fn foreign_certificate_holds_the_acknowledgement_until_the_ca_is_fixed(sink: &SmtpSink) {
    let wrong_ca = &support::dovecot().ca_cert_path;
    let app = app_sending_to(sink, "localhost", wrong_ca).await;
    let rina = unique_address("rina");
    let code = applicant_applies(&app, &rina).await;
    assert!(acks_in(sink, &rina, 0).await.is_empty(), "nothing sent");

    let out = app.command().args(["run", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "run --once says SMTP failed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("localhost:{}", sink.port)),
        "names the server: {stderr}"
    );
    assert!(stderr.contains("certificate"), "says why: {stderr}");
    assert!(!stderr.contains(&app.pass), "no secrets in errors");

    let db = app.sql().await;
    let outbox: Vec<(String,)> = sqlx::query_as("SELECT state FROM outbox")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(outbox, vec![("pending".to_string(),)], "waits, not failed");
    let (state, attempts, error): (String, i64, String) = sqlx::query_as(
        "SELECT state, attempts, COALESCE(last_error, '') FROM jobs WHERE kind = 'send'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    db.close().await;
    assert_eq!(state, "pending", "retried, never parked");
    assert_eq!(attempts, 0, "a TLS failure is an outage, not an attempt");
    assert!(error.contains("certificate"), "{error}");
    assert!(error.contains("TLS"), "{error}");
    assert_eq!(acknowledged(&app, &code).await, 0);

    // The officer puts the office CA in the config.
    let mut config: toml::Table =
        toml::from_str(&std::fs::read_to_string(&app.config_path).unwrap()).unwrap();
    let ca = sink.ca_cert_path.as_deref().expect("a TLS sink has a CA");
    config["smtp"]["ca_file"] = ca.display().to_string().into();
    std::fs::write(&app.config_path, toml::to_string(&config).unwrap()).unwrap();
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(acks_in(sink, &rina, 1).await.len(), 1);
    app.run_once().await;
    assert_eq!(acks_in(sink, &rina, 1).await.len(), 1, "exactly once");
    assert_eq!(acknowledged(&app, &code).await, 1);
}

#[tokio::test]
async fn tls_server_with_a_foreign_certificate_holds_the_acknowledgement_until_the_ca_is_fixed() {
    foreign_certificate_holds_the_acknowledgement_until_the_ca_is_fixed(support::smtp_tls()).await;
}

#[tokio::test]
async fn starttls_server_with_a_foreign_certificate_holds_the_acknowledgement_until_the_ca_is_fixed(
) {
    foreign_certificate_holds_the_acknowledgement_until_the_ca_is_fixed(support::smtp_starttls())
        .await;
}
