//! A loket instance for integration tests, wired to the harness's real servers: like
//! zero2prod's `spawn_app()`. Each test gets its own mailbox user, database and folders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use loket::config::Config;
use loket::filing::views::CaseView;
use loket::pipeline::Context;
use loket::worker::{self, OnceReport};

use crate::support;

mod daemon;
#[allow(unused_imports)]
pub use daemon::Daemon;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub user: String,
    pub pass: String,
    pub db_url: String,
}

/// The repository root (rules/, templates/, fixtures/).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl TestApp {
    /// A fresh instance; `None` when the database kind is not available here.
    pub async fn spawn(db: Db) -> Option<Self> {
        Self::spawn_with(db, |_| {}).await
    }

    /// A fresh instance whose config TOML can be adjusted by `edit` before loading.
    pub async fn spawn_with(db: Db, edit: impl FnOnce(&mut toml::Table)) -> Option<Self> {
        let imap = support::dovecot();
        let smtp = support::smtp();
        let (user, pass) = imap.new_user();
        let dir = tempfile::tempdir().unwrap();
        let db_url = match db {
            Db::Sqlite => format!("sqlite://{}/loket.db", dir.path().display()),
            Db::Postgres => support::postgres()?.new_database(),
        };
        let mut table: toml::Table = toml::from_str(&format!(
            r#"
            [office]
            code = "PSR"
            name = "DPMPTSP Kabupaten Pasuruan"
            own_addresses = ["perizinan@pasuruankab.go.id"]
            [database]
            url = "{db_url}"
            [storage]
            dir = "{d}/blobs"
            [imap]
            host = "127.0.0.1"
            port = {imap_port}
            security = "none"
            username = "{user}"
            password = "{pass}"
            poll_seconds = 2
            timeout_seconds = 10
            [smtp]
            host = "127.0.0.1"
            port = {smtp_port}
            security = "none"
            from = "DPMPTSP Kabupaten Pasuruan <perizinan@pasuruankab.go.id>"
            timeout_seconds = 5
            [spool]
            dir = "{d}/spool"
            [rules]
            dir = "{rules}"
            [notify]
            templates_dir = "{templates}"
            # Department notices depend on the time of day (digests); tests that are about them
            # turn them on (tests/department_notices.rs).
            department_notices = "off"
            [ocr]
            worker_program = "{loket}"
            [worker]
            lease_seconds = 3
            "#,
            d = dir.path().display(),
            imap_port = imap.port,
            smtp_port = smtp.port,
            rules = repo().join("rules").display(),
            templates = repo().join("templates").display(),
            loket = env!("CARGO_BIN_EXE_loket"),
        ))
        .unwrap();
        edit(&mut table);
        let config_path = dir.path().join("loket.toml");
        std::fs::write(&config_path, toml::to_string(&table).unwrap()).unwrap();
        Some(Self {
            dir,
            config_path,
            user,
            pass,
            db_url,
        })
    }

    pub fn config(&self) -> Config {
        Config::load(&self.config_path).expect("test config loads")
    }

    pub async fn context(&self) -> Context {
        worker::context(self.config(), "test")
            .await
            .expect("worker starts")
    }

    /// `run --once` in this process.
    pub async fn run_once(&self) -> OnceReport {
        let ctx = self.context().await;
        let report = worker::run_once(&ctx).await.expect("run --once");
        ctx.close().await;
        report
    }

    /// A direct connection to this instance's database, for checks the repositories don't
    /// offer (tests only: loket itself keeps SQL inside `filing/`).
    pub async fn sql(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.db_url)
            .await
            .expect("test connects to its database")
    }

    /// Deliver a raw message to this test's INBOX.
    pub async fn deliver(&self, raw: &[u8]) {
        support::dovecot()
            .append(&self.user, &self.pass, "INBOX", raw)
            .await;
    }

    /// Deliver many raw messages to this test's INBOX, in order, over one IMAP session.
    pub async fn deliver_all(&self, raws: &[Vec<u8>]) {
        support::dovecot()
            .append_many(&self.user, &self.pass, "INBOX", raws)
            .await;
    }

    pub async fn cases(&self) -> Vec<CaseView> {
        let store = self.store().await;
        let cases = store.list_cases(&Default::default()).await.unwrap();
        store.close().await;
        cases
    }

    pub async fn show(&self, code: &str) -> CaseView {
        let store = self.store().await;
        let case = store.show_case(code).await.unwrap().expect("case exists");
        store.close().await;
        case
    }

    /// The store alone (no worker registered).
    pub async fn store(&self) -> loket::filing::Store {
        loket::filing::Store::open(&self.db_url, 2)
            .await
            .expect("store opens")
    }

    pub async fn inbox(&self) -> Vec<Vec<u8>> {
        support::dovecot()
            .list(&self.user, &self.pass, "INBOX")
            .await
    }

    pub async fn processed(&self) -> Vec<Vec<u8>> {
        support::dovecot()
            .list(&self.user, &self.pass, "Processed")
            .await
    }

    /// The `loket` binary with this instance's config.
    pub fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_loket"));
        cmd.arg("--config")
            .arg(&self.config_path)
            .env("LOKET_LOG", "warn");
        cmd
    }
}

/// A unique address for one test, so tests sharing the SMTP sink don't see each other's mail.
pub fn unique_address(name: &str) -> String {
    format!("{name}.{}@example.com", uuid::Uuid::new_v4().simple())
}

/// A fixture email with its sender addresses replaced by `new_from` (the fixture's own
/// addresses are the same in every test; the SMTP sink is shared).
pub fn fixture_from(name: &str, new_from: &str) -> Vec<u8> {
    let raw = std::fs::read(repo().join("fixtures/mail").join(name)).expect("fixture exists");
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw)
        .expect("fixture parses");
    let mut text = String::from_utf8_lossy(&raw).into_owned();
    let mut olds: Vec<String> = Vec::new();
    for addr in [parsed.from(), parsed.reply_to()].into_iter().flatten() {
        for a in addr.iter() {
            if let Some(e) = a.address() {
                olds.push(e.to_string());
            }
        }
    }
    for old in olds {
        text = text.replace(&old, new_from);
    }
    // A fresh Message-ID, so the same fixture in another test is another message.
    let id = uuid::Uuid::new_v4().simple().to_string();
    text = text.replacen("Message-ID: <", &format!("Message-ID: <{id}."), 1);
    text.into_bytes()
}

/// A simple text email.
pub fn text_mail(from: &str, subject: &str, body: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "From: Pemohon <{from}>\r\nTo: perizinan@pasuruankab.go.id\r\nSubject: {subject}\r\n\
         Message-ID: <{}@example.com>\r\nDate: Mon, 23 Nov 2026 09:15:00 +0700\r\n{extra_headers}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        uuid::Uuid::new_v4().simple()
    )
    .into_bytes()
}

/// One attachment of [`mail_with`].
pub struct Part<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
}

/// An email with a text body and base64 attachments.
pub fn mail_with(from: &str, subject: &str, body: &str, parts: &[Part<'_>]) -> Vec<u8> {
    let boundary = format!("b{}", uuid::Uuid::new_v4().simple());
    let mut out = format!(
        "From: Pemohon <{from}>\r\nTo: perizinan@pasuruankab.go.id\r\nSubject: {subject}\r\n\
         Message-ID: <{}@example.com>\r\nDate: Mon, 23 Nov 2026 09:15:00 +0700\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        uuid::Uuid::new_v4().simple()
    );
    for p in parts {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: {}\r\nContent-Disposition: attachment; filename=\"{}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            p.content_type,
            p.filename,
            data_encoding::BASE64_MIME.encode(p.data)
        ));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out.into_bytes()
}

/// A minimal DOCX with one paragraph per line.
pub fn docx(lines: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let paras: String = lines
        .iter()
        .map(|l| format!("<w:p><w:r><w:t>{l}</w:t></w:r></w:p>"))
        .collect();
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{paras}</w:body></w:document>"#
    );
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).unwrap();
    zip.start_file("word/document.xml", opts).unwrap();
    zip.write_all(xml.as_bytes()).unwrap();
    zip.finish().unwrap();
    buf.into_inner()
}

/// Acknowledgements that reached `addr`, waiting briefly for stragglers.
pub async fn acks_to(addr: &str, expected: usize) -> Vec<String> {
    let msgs = support::smtp()
        .wait_for(
            addr,
            expected,
            Duration::from_secs(if expected == 0 { 1 } else { 10 }),
        )
        .await;
    msgs.into_iter()
        .map(|m| String::from_utf8_lossy(&m).into_owned())
        .collect()
}

/// The value of a header in a raw message (first occurrence, unfolded).
pub fn header(raw: &str, name: &str) -> Option<String> {
    let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes())?;
    parsed
        .header_raw(name)
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A bounce fixture made to return the mail loket sent to `to` with Message-ID `id`.
pub fn bounce_of(fixture: &str, to: &str, id: &str) -> Vec<u8> {
    let raw = std::fs::read(repo().join("fixtures/bounces").join(fixture)).unwrap();
    let report = loket::extract::bounce::parse(&raw).expect("the fixture is a bounce");
    let old_to = report.recipients[0].address.clone();
    let text = String::from_utf8_lossy(&raw)
        .replace(
            "ack-PSR7K3M9QXD2F.1@loket.dpmptsp.example.go.id",
            id.trim_matches(['<', '>']),
        )
        .replace(&old_to, to);
    // A fresh Message-ID of its own (the same fixture is used again by the other database),
    // in its own header block: the returned message further down keeps ours.
    let fresh = uuid::Uuid::new_v4().simple().to_string();
    let end = text
        .find("\r\n\r\n")
        .or_else(|| text.find("\n\n"))
        .unwrap_or(0);
    let (head, rest) = text.split_at(end);
    let head = if head.contains("Message-ID: <") {
        head.replacen("Message-ID: <", &format!("Message-ID: <{fresh}."), 1)
    } else {
        format!("Message-ID: <{fresh}@bounce.example>\r\n{head}")
    };
    format!("{head}{rest}").into_bytes()
}
