//! The officers' desk in a real browser (headless Chromium) against a real `loket serve` child
//! process, with the real mailbox, SMTP sink and worker: mail comes in and is filed by
//! `run --once`, officers work the cases through the pages, `run --once` sends what the desk
//! queued, and the applicant checks the public status page. Also: hostile mail shows as text
//! and the queue fits a 360 px phone.
//!
//! Screenshots for the README go to `docs/screenshots/`: written when a file is missing, and
//! rewritten on every run with `LOKET_SCREENSHOTS=1` (so ordinary runs leave the tree clean).

mod app;
mod support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use app::{fixture_from, mail_with, repo, unique_address, Db, Part, TestApp};
use fantoccini::Locator;
use mail_parser::MimeHeaders;
use serde_json::Value;
use support::{Browser, Viewport};

/// Every account of these tests has this password.
const PASSWORD: &str = "kata-sandi-uji-123";

/// A `loket serve` child process on a free loopback port, stopped (SIGTERM) when dropped.
struct Serve {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Serve {
    async fn start(app: &TestApp, port: u16) -> Serve {
        let log = app.dir.path().join("serve.log");
        let out = std::fs::File::create(&log).expect("create serve.log");
        let child = app
            .command()
            .arg("serve")
            .env("LOKET_LOG", "info")
            .stdout(out.try_clone().expect("clone log file"))
            .stderr(out)
            .spawn()
            .expect("spawn loket serve");
        let serve = Serve {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        serve.wait_healthy().await;
        serve
    }

    async fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("{}/healthz", self.base);
        loop {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "loket serve did not answer /healthz within 20 s; log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// A test instance whose config has a `[web]` table for `serve` on `port` (plain HTTP on
/// loopback, so cookies without `Secure`).
async fn desk_app(port: u16) -> TestApp {
    TestApp::spawn_with(Db::Sqlite, |t| {
        let web: toml::Table = toml::from_str(&format!(
            "listen = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}\"\n\
             secure_cookies = false\n"
        ))
        .expect("web table");
        t.insert("web".into(), toml::Value::Table(web));
    })
    .await
    .expect("SQLite is always available")
}

/// `loket users add NAME --role ROLE [--department D]`, the password on standard input.
fn add_user(app: &TestApp, name: &str, role: &str, department: Option<&str>) {
    let mut cmd = app.command();
    cmd.args(["users", "add", name, "--role", role]);
    if let Some(d) = department {
        cmd.args(["--department", d]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn loket users add");
    writeln!(child.stdin.take().expect("stdin"), "{PASSWORD}").expect("write password");
    let out = child.wait_with_output().expect("loket users add");
    assert!(
        out.status.success(),
        "users add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `loket users token NAME`: a bearer token for the JSON API.
fn token_for(app: &TestApp, name: &str) -> String {
    let out: std::process::Output = app
        .command()
        .args(["users", "token", name])
        .output()
        .expect("loket users token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The tracking codes `GET /api/cases` gives this token.
async fn api_codes(serve: &Serve, token: &str) -> Vec<String> {
    let cases: Vec<Value> = reqwest::Client::new()
        .get(serve.url("/api/cases?limit=1000"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /api/cases")
        .error_for_status()
        .expect("GET /api/cases succeeds")
        .json()
        .await
        .expect("case JSON");
    cases
        .iter()
        .filter_map(|c| c["tracking_code"].as_str().map(String::from))
        .collect()
}

/// The tracking code of the case whose applicant wrote from `email`.
async fn code_of(app: &TestApp, email: &str) -> String {
    app.cases()
        .await
        .into_iter()
        .find(|c| c.applicant.email.as_deref() == Some(email))
        .unwrap_or_else(|| panic!("no case from {email}"))
        .tracking_code
}

/// Logs in through the login form and waits for the queue.
async fn log_in(b: &Browser, serve: &Serve, username: &str) {
    b.goto(&serve.url("/login")).await;
    b.fill("input[name=username]", username).await;
    b.fill("input[name=password]", PASSWORD).await;
    b.click("form[action='/login'] button[type=submit]").await;
    wait_path(b, "/").await;
    let heading = b.text_of("main h1").await;
    assert!(
        heading.starts_with("Antrean") || heading.starts_with("Triase"),
        "landed on {heading:?}"
    );
}

/// Waits until the browser shows `path` (after a form's redirect).
async fn wait_path(b: &Browser, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = b.client().current_url().await.expect("current URL");
        if url.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "still on {url}, expected {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The visible text of the whole page.
async fn page_text(b: &Browser) -> String {
    b.client()
        .execute("return document.body.innerText;", vec![])
        .await
        .expect("read the page")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Opens the `<details>` around `css` if it is closed (its form is not clickable otherwise).
async fn open_details_of(b: &Browser, css: &str) {
    let js = "const d = document.querySelector(arguments[0]).closest('details'); \
              if (d && !d.open) { d.open = true; } return true;";
    b.client()
        .execute(js, vec![Value::from(css)])
        .await
        .expect("open details");
}

/// Where a README screenshot goes, if it is to be written: when it is missing, or always with
/// `LOKET_SCREENSHOTS=1`.
fn screenshot_path(name: &str) -> Option<PathBuf> {
    let dir = repo().join("docs/screenshots");
    let path = dir.join(name);
    let wanted = std::env::var("LOKET_SCREENSHOTS").is_ok_and(|v| v == "1");
    if !wanted && path.exists() {
        return None;
    }
    std::fs::create_dir_all(&dir).expect("create docs/screenshots");
    Some(path)
}

/// The whole page as `docs/screenshots/NAME`.
async fn screenshot(b: &Browser, name: &str) {
    if let Some(path) = screenshot_path(name) {
        b.screenshot(&path).await;
    }
}

/// The first screen only (a case page with its documents is many screens tall, and the PNGs
/// are committed).
async fn screenshot_top(b: &Browser, name: &str) {
    if let Some(path) = screenshot_path(name) {
        let png = b.client().screenshot().await.expect("viewport screenshot");
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(raw)
        .expect("mail parses")
}

/// The first `Message-ID` of a raw message, without angle brackets.
fn message_id(raw: &[u8]) -> String {
    parse(raw)
        .message_id()
        .expect("message has a Message-ID")
        .to_string()
}

#[tokio::test]
async fn officers_work_cases_in_the_browser_and_the_applicant_sees_the_outcome() {
    let Some(officer) = support::browser(Viewport::Desktop).await else {
        return;
    };
    let port = support::free_port();
    let app = desk_app(port).await;
    add_user(&app, "andi.pupr", "officer", Some("pupr"));
    add_user(&app, "rina.usaha", "officer", Some("usaha"));
    add_user(&app, "tari.depan", "triage", None);
    add_user(&app, "kepala", "admin", None);

    let budi = unique_address("budi");
    let pbg = fixture_from("pbg-application.eml", &budi);
    let siti = unique_address("siti");
    let mut mails = vec![pbg.clone(), fixture_from("reklame.eml", &siti)];
    for name in ["sip-dokter.eml", "pengaduan.eml", "konsultasi.eml"] {
        mails.push(fixture_from(name, &unique_address("warga")));
    }
    app.deliver_all(&mails).await;
    app.run_once().await;
    let pbg_code = code_of(&app, &budi).await;
    let reklame_code = code_of(&app, &siti).await;
    let serve = Serve::start(&app, port).await;

    // 1. The PBG officer asks Budi for a missing document.
    log_in(&officer, &serve, "andi.pupr").await;
    let queue = officer.text_of("ol.queue").await;
    assert!(
        queue.contains(&pbg_code),
        "PBG case on the pupr queue:\n{queue}"
    );
    assert!(
        queue.contains(&reklame_code),
        "reklame case on the pupr queue:\n{queue}"
    );
    officer
        .click(&format!("a.code[href='/cases/{pbg_code}']"))
        .await;
    wait_path(&officer, &format!("/cases/{pbg_code}")).await;
    let (asked, not_asked) = tick_only_one_missing_requirement(&officer).await;
    officer
        .fill(
            "#request-documents textarea[name=note]",
            "Mohon dikirim dalam bentuk PDF.",
        )
        .await;
    officer
        .click("#request-documents button[type=submit]")
        .await;
    let done = officer.text_of("p.ok").await;
    assert!(done.contains("request-documents"), "{done}");
    let badge = officer.text_of("dl.facts .badge").await;
    assert!(badge.starts_with("Perlu perbaikan"), "new status {badge:?}");
    screenshot_top(&officer, "case-desktop.png").await;

    app.run_once().await;
    let request = support::smtp()
        .wait_for(&budi, 2, Duration::from_secs(10))
        .await
        .into_iter()
        .find(|m| {
            parse(m)
                .subject()
                .is_some_and(|s| s.contains("Mohon lengkapi"))
        })
        .expect("the request for documents reached Budi");
    let mail = parse(&request);
    let subject = mail.subject().unwrap_or_default();
    assert!(
        subject.contains(&pbg_code),
        "code in the subject: {subject}"
    );
    let body = mail.body_text(0).unwrap_or_default();
    assert!(body.contains(&asked), "{asked:?} listed in:\n{body}");
    for other in &not_asked {
        assert!(
            !body.contains(other.as_str()),
            "unticked {other:?} asked for:\n{body}"
        );
    }
    assert!(body.contains("Mohon dikirim dalam bentuk PDF."), "{body}");
    let in_reply_to = mail.in_reply_to().as_text().unwrap_or_default().to_string();
    assert_eq!(in_reply_to, message_id(&pbg), "threaded on Budi's mail");

    // 2. The front office moves the advertising case to the business department.
    let triage = support::browser(Viewport::Desktop).await.expect("browser");
    log_in(&triage, &serve, "tari.depan").await;
    triage
        .goto(&serve.url(&format!("/cases/{reklame_code}")))
        .await;
    open_details_of(&triage, "#classify").await;
    triage
        .client()
        .find(Locator::Css("#classify select[name=permit_type]"))
        .await
        .expect("permit type select")
        .select_by_value("nib")
        .await
        .expect("choose NIB");
    triage.click("#classify button[type=submit]").await;
    assert!(triage.text_of("p.ok").await.contains("classify"));
    let facts = triage.text_of("section.card dl.facts").await;
    assert!(
        facts.contains("Bidang Pelayanan Perizinan Usaha"),
        "{facts}"
    );
    triage.close().await;

    let usaha = api_codes(&serve, &token_for(&app, "rina.usaha")).await;
    assert!(
        usaha.contains(&reklame_code),
        "on the usaha queue: {usaha:?}"
    );
    officer.goto(&serve.url("/")).await;
    let queue = officer.text_of("ol.queue").await;
    assert!(
        !queue.contains(&reklame_code),
        "gone from the pupr queue:\n{queue}"
    );
    assert!(queue.contains(&pbg_code));
    officer.close().await;

    // 3. Budi types his code in lower case, without dashes, into the status page.
    let citizen = support::browser(Viewport::Desktop).await.expect("browser");
    let typed = pbg_code.to_lowercase().replace('-', "");
    check_status_page(&citizen, &serve, &typed, &pbg_code).await;
    screenshot(&citizen, "status-desktop.png").await;
    citizen.close().await;
    let phone = support::browser(Viewport::Phone).await.expect("browser");
    check_status_page(&phone, &serve, &typed, &pbg_code).await;
    assert!(
        !phone.has_horizontal_scroll().await,
        "status page fits a phone"
    );
    screenshot(&phone, "status-phone.png").await;
    phone.close().await;

    // Screenshots of the whole office's queue and of the case, as the admin sees them.
    take_queue_and_case_screenshots(&serve, &pbg_code).await;
}

/// Leaves exactly one box of "Minta kelengkapan berkas" ticked, a requirement the case is
/// missing; gives that requirement's name as the form shows it, and the names of the other
/// missing requirements, which were left unticked.
async fn tick_only_one_missing_requirement(b: &Browser) -> (String, Vec<String>) {
    open_details_of(b, "#request-documents").await;
    let boxes = b
        .client()
        .find_all(Locator::Css("#request-documents input[name=requirements]"))
        .await
        .expect("requirement boxes");
    assert!(!boxes.is_empty(), "the PBG checklist has requirements");
    let checklist = b.text_of("ul.checklist").await;
    let (mut chosen, mut others) = (None, Vec::new());
    for cb in &boxes {
        let label = cb
            .find(Locator::XPath(".."))
            .await
            .expect("the box's label")
            .text()
            .await
            .expect("label text")
            .trim()
            .to_string();
        let is_missing = checklist
            .lines()
            .any(|l| l.starts_with('✘') && l.contains(&label));
        let want = chosen.is_none() && is_missing;
        if cb.is_selected().await.expect("checkbox state") != want {
            cb.click().await.expect("tick or untick");
        }
        match (want, is_missing) {
            (true, _) => chosen = Some(label),
            (false, true) => others.push(label),
            (false, false) => {}
        }
    }
    let chosen =
        chosen.unwrap_or_else(|| panic!("no missing requirement on the checklist:\n{checklist}"));
    (chosen, others)
}

async fn check_status_page(b: &Browser, serve: &Serve, typed: &str, code: &str) {
    b.goto(&serve.url("/status")).await;
    b.fill("input[name=code]", typed).await;
    b.click("form[action='/status'] button[type=submit]").await;
    wait_path(b, &format!("/status/{code}")).await;
    let label = b.text_of(".status-big").await;
    assert!(
        label.starts_with("Perlu perbaikan"),
        "status label {label:?}"
    );
    assert_eq!(b.text_of("p.code").await, code);
    let text = page_text(b).await;
    assert!(
        !text.contains("Budi"),
        "no name on the public page:\n{text}"
    );
}

async fn take_queue_and_case_screenshots(serve: &Serve, code: &str) {
    for (viewport, suffix) in [(Viewport::Desktop, "desktop"), (Viewport::Phone, "phone")] {
        let b = support::browser(viewport).await.expect("browser");
        log_in(&b, serve, "kepala").await;
        assert!(
            !b.has_horizontal_scroll().await,
            "{suffix} queue scrolls sideways"
        );
        screenshot(&b, &format!("queue-{suffix}.png")).await;
        if viewport == Viewport::Phone {
            b.goto(&serve.url(&format!("/cases/{code}"))).await;
            assert!(
                !b.has_horizontal_scroll().await,
                "case page scrolls sideways"
            );
            screenshot_top(&b, "case-phone.png").await;
        }
        b.close().await;
    }
}

/// The hostile subject: a script that would set `window.__xss`, then a long subject with an
/// unbroken address in it, the kind that pushes a phone layout sideways.
const HOSTILE_SUBJECT: &str = "<script>window.__xss=1</script> Permohonan PBG ruko tiga lantai \
    Jl. Raya Bangil, berkas lengkap di https://contoh.example.com/berkas/permohonan-pbg-ruko-tiga-lantai-2026-11-23.pdf";

/// The attachment's name as sent...
const HOSTILE_FILENAME: &str = "<img src=x onerror=window.__xss2=1>.pdf";
/// ...and as loket keeps it: `src/extract/mime/filename.rs` turns `<`, `>`, `"` (and other
/// characters Windows refuses) into `_`, so a filename can never carry markup.
const KEPT_FILENAME: &str = "_img src=x onerror=window.__xss2=1_.pdf";

/// Markup that would set `window.__xss2` where the sanitiser does not reach: the body, which
/// the case page and the search snippets show.
const HOSTILE_BODY_LINE: &str = "<img src=x onerror=window.__xss2=1>";

/// A page shows the hostile text as text and nothing it carried became an element (the CSP
/// would also stop the scripts, so the DOM is checked too: the globals alone could not fail).
async fn assert_inert(b: &Browser, what: &str) {
    assert!(
        !b.js_global_set("__xss").await,
        "{what}: the subject's script ran"
    );
    assert!(
        !b.js_global_set("__xss2").await,
        "{what}: an img onerror ran"
    );
    let injected = b
        .client()
        .execute(
            "return document.querySelectorAll('script, img[onerror], [onerror]').length;",
            vec![],
        )
        .await
        .expect("count injected elements");
    assert_eq!(
        injected,
        Value::from(0),
        "{what}: markup from the mail became elements"
    );
}

#[tokio::test]
async fn hostile_subject_and_filename_show_as_text_and_the_queue_fits_a_phone() {
    let Some(desktop) = support::browser(Viewport::Desktop).await else {
        return;
    };
    let port = support::free_port();
    let app = desk_app(port).await;
    add_user(&app, "tari.depan", "triage", None);

    let mallory = unique_address("mallory");
    let pdf = surat_permohonan_pdf();
    let hostile = mail_with(
        &mallory,
        HOSTILE_SUBJECT,
        &format!(
            "Mohon izin ruko di Jalan Kenanga Bangil.\r\n{HOSTILE_BODY_LINE}\r\nTerima kasih."
        ),
        &[Part {
            filename: HOSTILE_FILENAME,
            content_type: "application/pdf",
            data: &pdf,
        }],
    );
    let mut mails = vec![hostile];
    for name in [
        "pbg-application.eml",
        "reklame.eml",
        "sip-dokter.eml",
        "pengaduan.eml",
    ] {
        mails.push(fixture_from(name, &unique_address("warga")));
    }
    app.deliver_all(&mails).await;
    app.run_once().await;
    let code = code_of(&app, &mallory).await;
    let serve = Serve::start(&app, port).await;
    let subject_text = HOSTILE_SUBJECT
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");

    log_in(&desktop, &serve, "tari.depan").await;
    desktop.goto(&serve.url("/?triage=0")).await;
    let row = format!("li:has(a.code[href='/cases/{code}'])");
    assert_eq!(
        desktop.text_of(&format!("{row} .subject")).await,
        subject_text
    );
    assert_inert(&desktop, "queue").await;

    desktop.goto(&serve.url("/?q=kenanga")).await;
    assert_eq!(desktop.text_of("main h1").await, "Hasil pencarian");
    let snippet = desktop.text_of(&format!("{row} .snippet")).await;
    assert!(snippet.to_lowercase().contains("kenanga"), "{snippet}");
    assert_inert(&desktop, "search results").await;

    desktop
        .click(&format!("a.code[href='/cases/{code}']"))
        .await;
    wait_path(&desktop, &format!("/cases/{code}")).await;
    assert_eq!(desktop.text_of("p.subject-line").await, subject_text);
    assert_eq!(
        desktop.text_of("article.doc h3.filename").await,
        KEPT_FILENAME
    );
    let body = desktop.text_of("pre.body").await;
    assert!(
        body.contains(HOSTILE_BODY_LINE),
        "body shown as text:\n{body}"
    );
    assert_inert(&desktop, "case page").await;
    desktop.close().await;

    let phone = support::browser(Viewport::Phone).await.expect("browser");
    log_in(&phone, &serve, "tari.depan").await;
    for path in ["/?triage=0", "/?q=kenanga", &format!("/cases/{code}")] {
        phone.goto(&serve.url(path)).await;
        assert!(
            !phone.has_horizontal_scroll().await,
            "{path} scrolls sideways on a 360 px phone"
        );
        assert_inert(&phone, path).await;
    }
    phone.close().await;
}

/// A real text PDF: the application letter attached to the PBG fixture.
fn surat_permohonan_pdf() -> Vec<u8> {
    let raw = std::fs::read(repo().join("fixtures/mail/pbg-application.eml")).expect("fixture");
    let mail = parse(&raw);
    let part = mail
        .attachments()
        .find(|a| a.attachment_name() == Some("surat-permohonan.pdf"))
        .expect("the fixture has surat-permohonan.pdf");
    part.contents().to_vec()
}
