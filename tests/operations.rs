//! What the office's IT person relies on to keep loket running: metrics on their own listener,
//! health checks, logs a collector can read, and secrets that never reach a terminal or a log.

mod app;
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app::{mail_with, repo, text_mail, unique_address, Daemon, Db, Part, TestApp};
use loket::telemetry::metrics as m;

/// Every metric loket promises (SPEC: "every metric is registered at start").
const ALL_METRICS: &[&str] = &[
    m::MESSAGES_FETCHED,
    m::IMAP_CONNECTED,
    m::CASES_FILED,
    m::STEPS,
    m::STEP_DURATION,
    m::JOBS,
    m::QUEUE_DEPTH,
    m::OLDEST_PENDING_AGE,
    m::PARKED_STEPS,
    m::OCR_PAGES,
    m::OCR_SECONDS,
    m::MAILS_SENT,
    m::BOUNCES,
];

/// An instance with `[metrics] listen` on a free port; returns it and the metrics base URL.
async fn app_with_metrics(edit: impl FnOnce(&mut toml::Table)) -> (TestApp, String) {
    let port = support::free_port();
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        let mut metrics = toml::Table::new();
        metrics.insert("listen".into(), format!("127.0.0.1:{port}").into());
        t.insert("metrics".into(), metrics.into());
        edit(t);
    })
    .await
    .unwrap();
    (app, format!("http://127.0.0.1:{port}"))
}

/// The samples of a Prometheus text page: `name{labels}` -> value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

async fn scrape(base: &str) -> BTreeMap<String, f64> {
    let r = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain"), "{ct}");
    samples(&r.text().await.unwrap())
}

/// The sum of every series of `name` whose labels contain all of `labels` (`k="v"`).
fn total(samples: &BTreeMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.split('{').next() == Some(name) && labels.iter().all(|l| series.contains(l))
        })
        .map(|(_, v)| v)
        .sum()
}

/// Scrape until `done` holds (counters move a moment after the mail went out).
async fn scrape_until(
    base: &str,
    what: &str,
    done: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = scrape(base).await;
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: {s:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn operator_scrapes_every_metric_at_zero_then_sees_a_scanned_application_counted() {
    let (app, metrics) = app_with_metrics(|_| {}).await;
    let worker = Daemon::start(&app, &["run"]);
    worker.wait_for(&format!("{metrics}/healthz")).await;
    let ready = reqwest::get(format!("{metrics}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200, "the database answers");

    // Before any mail: every metric is there, and nothing has moved.
    let before = scrape(&metrics).await;
    for name in ALL_METRICS {
        assert!(
            before.keys().any(|s| s.starts_with(name)),
            "{name} missing before it first moved: {before:#?}"
        );
    }
    let mailbox = format!("mailbox=\"{}@127.0.0.1:", app.user);
    assert_eq!(total(&before, m::MESSAGES_FETCHED, &[&mailbox]), 0.0);
    for (series, value) in &before {
        if !series.starts_with(m::IMAP_CONNECTED) {
            assert_eq!(*value, 0.0, "{series} before any mail");
        }
    }
    assert!(before.contains_key(&format!(
        "{}{{step=\"intake\",le=\"0.005\"}}",
        "loket_step_duration_seconds_bucket"
    )));

    // An applicant mails a scanned form; it is filed, read by OCR and acknowledged.
    let wati = unique_address("wati");
    let scan = std::fs::read(repo().join("fixtures/scans/form_ccitt.pdf")).unwrap();
    app.deliver(&mail_with(
        &wati,
        "Permohonan surat keterangan domisili",
        "Terlampir formulir yang sudah saya isi.",
        &[Part {
            filename: "formulir.pdf",
            content_type: "application/pdf",
            data: &scan,
        }],
    ))
    .await;
    let after = scrape_until(&metrics, "counters after one mail", |s| {
        total(s, m::MAILS_SENT, &["outcome=\"sent\""]) >= 1.0
    })
    .await;
    assert_eq!(total(&after, m::MESSAGES_FETCHED, &[&mailbox]), 1.0);
    assert_eq!(total(&after, m::CASES_FILED, &[]), 1.0);
    assert_eq!(total(&after, m::IMAP_CONNECTED, &[&mailbox]), 1.0);
    assert!(total(&after, m::OCR_PAGES, &["outcome=\"read\""]) >= 1.0);
    assert!(total(&after, "loket_ocr_page_seconds_sum", &[]) > 0.0);
    for step in ["intake", "extract", "classify", "send"] {
        let label = format!("step=\"{step}\"");
        assert!(
            total(&after, m::STEPS, &[&label, "outcome=\"done\""]) >= 1.0,
            "{step} done: {after:#?}"
        );
        assert!(total(&after, "loket_step_duration_seconds_count", &[&label]) >= 1.0);
    }
    assert_eq!(total(&after, m::STEPS, &["outcome=\"parked\""]), 0.0);
    assert_eq!(total(&after, m::PARKED_STEPS, &[]), 0.0);
    assert_eq!(worker.stop(), Some(0));
}

#[tokio::test]
async fn the_desk_has_metrics_on_their_own_listener_never_on_the_public_one() {
    let web_port = support::free_port();
    let (app, metrics) = app_with_metrics(|t| {
        let web = format!("listen = \"127.0.0.1:{web_port}\"\nsecure_cookies = false");
        t.insert(
            "web".into(),
            toml::from_str::<toml::Table>(&web).unwrap().into(),
        );
    })
    .await;
    // The mail room files a postal form: its receipt letter waits for the clerk to print it.
    let form = repo().join("fixtures/postal/formulir-reklame-siti.pdf");
    let out = app.command().arg("import").arg(&form).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let desk = Daemon::start(&app, &["serve"]);
    let web = format!("http://127.0.0.1:{web_port}");
    desk.wait_for(&format!("{web}/healthz")).await;
    desk.wait_for(&format!("{metrics}/healthz")).await;
    for base in [&web, &metrics] {
        let r = reqwest::get(format!("{base}/readyz")).await.unwrap();
        assert_eq!(r.status(), 200, "{base}/readyz");
    }
    let public = reqwest::get(format!("{web}/metrics")).await.unwrap();
    assert_eq!(public.status(), 404, "no metrics on the public listener");
    let body = public.text().await.unwrap();
    assert!(!body.contains("loket_"), "{body}");

    let s = scrape(&metrics).await;
    for name in ALL_METRICS {
        if *name != m::MESSAGES_FETCHED && *name != m::IMAP_CONNECTED {
            assert!(s.keys().any(|k| k.starts_with(name)), "{name}: {s:#?}");
        }
    }
    // The queue gauges come from the database, whichever process is scraped.
    assert_eq!(
        total(&s, m::JOBS, &["kind=\"letter\"", "state=\"pending\""]),
        1.0,
        "{s:#?}"
    );
    assert_eq!(total(&s, m::QUEUE_DEPTH, &["kind=\"letter\""]), 1.0);
    assert!(total(&s, m::OLDEST_PENDING_AGE, &["kind=\"letter\""]) > 0.0);
    assert_eq!(total(&s, m::QUEUE_DEPTH, &["kind=\"intake\""]), 0.0);
    assert_eq!(desk.stop(), Some(0));
}

#[tokio::test]
async fn readyz_fails_when_the_database_goes_away_while_healthz_still_answers() {
    let port = support::free_port();
    let Some(app) = TestApp::spawn_with(Db::Postgres, |t| {
        let metrics = format!("listen = \"127.0.0.1:{port}\"");
        t.insert(
            "metrics".into(),
            toml::from_str::<toml::Table>(&metrics).unwrap().into(),
        );
    })
    .await
    else {
        eprintln!("SKIPPED: no PostgreSQL here");
        return;
    };
    let metrics = format!("http://127.0.0.1:{port}");
    let worker = Daemon::start(&app, &["run"]);
    worker.wait_for(&format!("{metrics}/readyz")).await;

    // The database is dropped under the running worker (a DBA's mistake, a failed-over cluster).
    let name = app.db_url.rsplit('/').next().unwrap().to_string();
    let admin = sqlx::PgPool::connect(&support::postgres().unwrap().admin_url())
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = reqwest::get(format!("{metrics}/readyz")).await.unwrap();
        if r.status() == 503 {
            assert_eq!(r.text().await.unwrap(), "database unavailable");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still ready; log:\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let health = reqwest::get(format!("{metrics}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200, "the process still runs");
    // Scrapes still answer, with the last gauges, while the database is gone.
    assert!(scrape(&metrics).await.contains_key(m::PARKED_STEPS));
}

#[tokio::test]
async fn a_metrics_address_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t.insert(
            "metrics".into(),
            toml::from_str::<toml::Table>(&format!("listen = \"127.0.0.1:{port}\""))
                .unwrap()
                .into(),
        );
    })
    .await
    .unwrap();
    let out = app.command().arg("run").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("metrics.listen 127.0.0.1:{port}")),
        "{stderr}"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_for_the_log_collector() {
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t.insert(
            "log".into(),
            toml::from_str::<toml::Table>("format = \"json\"")
                .unwrap()
                .into(),
        );
    })
    .await
    .unwrap();
    app.deliver(&text_mail(
        &unique_address("budi"),
        "Permohonan izin reklame",
        "Mohon izin reklame.",
        "",
    ))
    .await;
    let out = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_LOG", "info")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let finished = lines
        .iter()
        .find(|l| l["fields"]["message"] == "run --once finished")
        .unwrap_or_else(|| panic!("no summary line: {stderr}"));
    assert_eq!(finished["level"], "INFO");
    assert_eq!(finished["fields"]["fetched"], 1);
    assert!(finished["timestamp"].is_string());
    assert!(!stderr.contains("\x1b["), "{stderr}");
}

#[tokio::test]
async fn logs_written_to_a_file_carry_no_colour_codes() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    app.deliver(&text_mail(
        &unique_address("sari"),
        "Permohonan izin apotek",
        "Kami mengajukan izin apotek.",
        "",
    ))
    .await;
    let out = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INFO"), "{stderr}");
    assert!(!stderr.contains("\x1b["), "{stderr}");
}

/// The TOML of `app` without `[imap] password`, so the environment must supply it.
fn without_imap_password(t: &mut toml::Table) {
    t["imap"].as_table_mut().unwrap().remove("password");
}

#[tokio::test]
async fn an_all_digit_password_in_the_environment_is_a_password_not_a_number() {
    let app = TestApp::spawn_with(Db::Sqlite, without_imap_password)
        .await
        .unwrap();
    let out = app
        .command()
        .args(["cases", "list"])
        .env("LOKET_IMAP__PASSWORD", "123456")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("123456"), "{stderr}");
}

#[tokio::test]
async fn a_secret_of_the_wrong_type_is_named_but_never_shown() {
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["imap"]["password"] = toml::Value::Integer(987_654_321);
        let smtp = t["smtp"].as_table_mut().unwrap();
        smtp.insert("password".into(), toml::Value::Boolean(true));
    })
    .await
    .unwrap();
    let out = app.command().args(["cases", "list"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("imap.password"), "{stderr}");
    assert!(!stderr.contains("987654321"), "{stderr}");
    assert!(stderr.contains("not shown"), "{stderr}");
}

#[tokio::test]
async fn database_passwords_never_reach_the_terminal() {
    let port = support::free_port();
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let url = format!(
        "postgres://loket:geheim-eins@127.0.0.1:{port}/loket?sslmode=disable&password=geheim-zwei"
    );
    let out = app
        .command()
        .args(["cases", "list"])
        .env("LOKET_DATABASE__URL", &url)
        .env("LOKET_LOG", "debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains("geheim"), "{stderr}");
    assert!(!stderr.contains("loket:geheim"), "{stderr}");
}

#[tokio::test]
async fn plaintext_to_another_machine_is_refused_unless_the_operator_allows_it() {
    for table in ["imap", "smtp"] {
        let app = TestApp::spawn_with(Db::Sqlite, |t| {
            t[table]["host"] = "mail.pasuruankab.go.id".into();
        })
        .await
        .unwrap();
        let out = app.command().args(["cases", "list"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{table}: {stderr}");
        assert!(
            stderr.contains(&format!("{table}: security = \"none\"")),
            "{stderr}"
        );
        assert!(stderr.contains("mail.pasuruankab.go.id"), "{stderr}");
        assert!(stderr.contains("allow_plaintext = true"), "{stderr}");

        let allowed = TestApp::spawn_with(Db::Sqlite, |t| {
            t[table]["host"] = "mail.pasuruankab.go.id".into();
            let server = t[table].as_table_mut().unwrap();
            server.insert("allow_plaintext".into(), true.into());
        })
        .await
        .unwrap();
        let out = allowed.command().args(["cases", "list"]).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{table} with allow_plaintext: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Hunting a slow query: `LOKET_SLOW_QUERY_MS` makes loket log every statement slower than
/// that, with its text; without it no statement is logged.
#[tokio::test]
async fn an_it_person_finds_slow_statements_with_loket_slow_query_ms() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let run = |slow: Option<&str>| {
        let mut cmd = app.command();
        cmd.args(["cases", "list"]).env("LOKET_LOG", "warn");
        if let Some(ms) = slow {
            cmd.env("LOKET_SLOW_QUERY_MS", ms);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let logged = run(Some("0"));
    assert!(
        logged.contains("slow statement") && logged.contains("SELECT"),
        "{logged}"
    );
    assert!(!run(None).contains("slow statement"));
    assert!(!run(Some("60000")).contains("slow statement"));
}
