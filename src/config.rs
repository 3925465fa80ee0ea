//! Configuration: one `Config`, layered defaults -> TOML file -> `LOKET_<SECTION>__<KEY>` env vars.
//!
//! Unknown keys are errors (a typo must not silently fall back to a default), every problem is
//! reported at once with the key it concerns, and secrets live in `SecretString` so they can't
//! end up in logs or error messages.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::tracking::valid_office;

mod mailboxes;

/// Transport security for IMAP and SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, submission 587).
    Starttls,
    /// No encryption: only for loopback and tests.
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Office {
    /// Tracking-code prefix, 2-8 letters/digits.
    pub code: String,
    pub name: String,
    /// Postal address for the letterhead of receipt letters.
    #[serde(default)]
    pub address: Option<String>,
    /// Extra addresses of the office itself: mail from them is never answered.
    #[serde(default)]
    pub own_addresses: Vec<String>,
    /// Public status page; `{code}` is replaced by the tracking code.
    #[serde(default)]
    pub status_url: Option<String>,
    /// The office's time zone as hours east of UTC: 7 (WIB), 8 (WITA) or 9 (WIT).
    #[serde(default = "default_utc_offset")]
    pub utc_offset_hours: i8,
}

impl Office {
    /// A stored time as the office's local time, e.g. `23-11-2026 16:15 WIB`.
    pub fn local_time(&self, ms: i64) -> String {
        let zone = match self.utc_offset_hours {
            7 => "WIB".to_string(),
            8 => "WITA".to_string(),
            9 => "WIT".to_string(),
            h => format!("UTC{h:+}"),
        };
        let offset =
            time::UtcOffset::from_hms(self.utc_offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .to_offset(offset);
        let fmt = time::macros::format_description!("[day]-[month]-[year] [hour]:[minute]");
        format!("{} {zone}", t.format(&fmt).unwrap_or_default())
    }

    /// The status page address for a case, if the office has one.
    pub fn status_url_for(&self, code: &str) -> Option<String> {
        self.status_url.as_ref().map(|u| u.replace("{code}", code))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub url: String,
    /// Connections in the pool.
    pub max_connections: u32,
}

/// `[storage]`: a local folder (`dir`, the default) or, with `url`, an S3-compatible object
/// store that workers on several machines share.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    pub dir: PathBuf,
    /// `s3://BUCKET/PREFIX`: documents go to this bucket under this prefix instead of `dir`.
    #[serde(default)]
    pub url: Option<String>,
    /// The store's address, e.g. `http://127.0.0.1:3900` (Garage) or `https://s3.example.id`.
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default, skip_serializing)]
    pub secret_access_key: Option<SecretString>,
    #[serde(default)]
    pub secret_access_key_file: Option<PathBuf>,
}

/// The bucket and prefix of `storage.url` (`s3://BUCKET/PREFIX`, the prefix may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub prefix: String,
}

impl S3Url {
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("storage.url {url:?} must look like s3://BUCKET/PREFIX"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!(
                "storage.url {url:?} names no bucket (s3://BUCKET/PREFIX)"
            ));
        }
        Ok(Self {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }
}

/// An `http(s)://` address whose host is this machine (127.0.0.0/8, ::1, localhost).
pub fn is_loopback_url(address: &str) -> bool {
    let Ok(parsed) = url::Url::parse(address) else {
        return false;
    };
    match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Storage {
    /// Problems with `[storage] url` and its keys, each naming its key (never a secret's value).
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(url) = &self.url else {
            return out;
        };
        if let Err(e) = S3Url::parse(url) {
            out.push(e);
        }
        if self.access_key_id.is_none() {
            out.push("storage.access_key_id is required with storage.url".into());
        }
        if self.secret_access_key.is_none() && self.secret_access_key_file.is_none() {
            out.push(
                "storage.secret_access_key or storage.secret_access_key_file is required with \
                 storage.url (or env LOKET_STORAGE__SECRET_ACCESS_KEY)"
                    .into(),
            );
        }
        if let Some(endpoint) = &self.endpoint {
            match url::Url::parse(endpoint) {
                Ok(u) if u.scheme() == "https" => {}
                Ok(u) if u.scheme() == "http" && is_loopback_url(endpoint) => {}
                Ok(u) if u.scheme() == "http" => out.push(format!(
                    "storage.endpoint {endpoint:?}: plain http only to this machine (loopback); \
                     use https://"
                )),
                _ => out.push(format!(
                    "storage.endpoint {endpoint:?} must be an address like https://s3.example.id"
                )),
            }
        }
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Imap {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    #[serde(default, skip_serializing)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    #[serde(default = "default_processed")]
    pub processed_mailbox: String,
    /// PEM file with an extra CA to trust (an office's own CA or a self-signed server).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Seconds between polls when the server has no IDLE, and the IDLE refresh period.
    #[serde(default = "default_poll")]
    pub poll_seconds: u64,
    /// Messages fetched per round trip.
    #[serde(default = "default_batch")]
    pub batch_size: u32,
    /// Seconds for connecting and for each command.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// The authserv-id of the office's own mail server: only its `Authentication-Results`
    /// are believed, and a From that fails DMARC/DKIM there never joins a case by address.
    #[serde(default)]
    pub trusted_authserv_id: Option<String>,
    /// What mail in this mailbox is (`complaint` for pengaduan@), unless the rules know better.
    #[serde(default)]
    pub kind: Option<crate::domain::Kind>,
    /// The sender of answers to this mailbox's mail, `Name <address>`; else `smtp.from`.
    #[serde(default)]
    pub from: Option<String>,
    /// `security = "none"` to a host that is not loopback: the password crosses the network in
    /// clear, so the operator must say so ([`check_plaintext`]).
    #[serde(default)]
    pub allow_plaintext: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The sender of acknowledgements, `Name <address>`.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, skip_serializing)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// See [`Imap::allow_plaintext`].
    #[serde(default)]
    pub allow_plaintext: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spool {
    pub dir: PathBuf,
    /// A file is taken once it looked the same (size, modification time) at two scans this
    /// many seconds apart; `run --once` waits up to this long for files still being written.
    pub settle_seconds: u64,
    /// Bigger files are not read: they go to `failed/` (or `import` refuses them).
    pub max_file_bytes: u64,
    /// Also split batch scans at blank pages (besides separator sheets).
    #[serde(default)]
    pub split_blank: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ocr {
    pub languages: String,
    /// Parallel OCR workers (one page each).
    pub workers: usize,
    /// Time limit for reading one page; a worker that takes longer is stopped.
    pub page_timeout_seconds: u64,
    /// The program started as OCR worker (`<program> __ocr-worker <languages>`); default: this
    /// `loket` binary.
    #[serde(default)]
    pub worker_program: Option<PathBuf>,
}

impl Ocr {
    /// How to start the OCR workers.
    pub fn pool_config(&self) -> std::io::Result<crate::extract::ocr::OcrConfig> {
        let mut cfg = crate::extract::ocr::OcrConfig::current_exe(&self.languages, self.workers)?;
        if let Some(program) = &self.worker_program {
            cfg.program = program.clone();
        }
        cfg.page_timeout = std::time::Duration::from_secs(self.page_timeout_seconds.max(1));
        Ok(cfg)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// Folder with editable templates; the built-in ones are used for files not found there.
    pub templates_dir: PathBuf,
    /// How departments hear of new cases in their queue (at `department.email` in the rules).
    #[serde(default)]
    pub department_notices: DepartmentNotices,
    /// When the daily digest goes out, `HH:MM` office time (`office.utc_offset_hours`).
    #[serde(default = "default_digest_time")]
    pub digest_time: String,
    /// At most this many automatic messages (acknowledgements, status answers) to one address
    /// in any hour; acknowledgements over it go out later as one combined message.
    #[serde(default = "default_max_acks_per_hour")]
    pub max_acks_per_sender_per_hour: u32,
}

/// `notify.department_notices`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DepartmentNotices {
    /// One mail a day per department at `notify.digest_time`, listing the new cases.
    #[default]
    Digest,
    /// One mail per new case.
    Each,
    Off,
}

impl Notify {
    /// `digest_time` as minutes after midnight; None if it is not `HH:MM`.
    pub fn digest_minutes(&self) -> Option<u32> {
        let (h, m) = self.digest_time.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 && self.digest_time.len() == 5).then_some(h * 60 + m)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Bigger messages are filed with their headers only and an error.
    pub max_message_bytes: u64,
    pub max_attachments: usize,
    /// A job failing this many times is parked for an officer.
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Worker {
    /// Jobs processed in parallel.
    pub concurrency: usize,
    /// A claimed job stays leased this long without a heartbeat; heartbeats renew it every
    /// third of it. A worker that stops (killed, paused, cut off) loses its jobs after this.
    pub lease_seconds: u64,
    /// Idle job runners look for due jobs this often when nothing wakes them (new work in this
    /// process wakes them at once, and on PostgreSQL so does work enqueued by any process).
    #[serde(default = "default_job_poll")]
    pub poll_seconds: u64,
}

/// `[web]`: the officers' desk and the public status page (`loket serve`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Web {
    /// Address `loket serve` listens on.
    pub listen: String,
    /// Public address of the desk: links in emails, letters and QR codes are BASE/status/CODE
    /// (an explicit `office.status_url` still wins).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Per client address on /status and /api/status; then 429.
    pub status_requests_per_minute: u32,
    /// Largest mail-room upload (all files of one form together).
    pub max_upload_bytes: u64,
    /// A session unused this long ends (hours).
    pub session_idle_hours: u64,
    /// Send the session cookie with `Secure` (set false only for plain-HTTP tests on loopback).
    pub secure_cookies: bool,
}

/// `[metrics]`: Prometheus text at `/metrics` (plus `/healthz`, `/readyz`) for `run` and
/// `serve`, on its own listener so it is never on the public web address.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub listen: String,
}

/// `[log]`: how log lines on stderr look.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    #[serde(default)]
    pub format: LogFormat,
}

/// `log.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (colour only on a terminal).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub office: Office,
    pub database: Database,
    pub storage: Storage,
    #[serde(default)]
    pub imap: Option<Imap>,
    /// `[[mailbox]]`: more mailboxes of the office, watched besides `[imap]`.
    #[serde(default, rename = "mailbox")]
    pub mailboxes: Vec<Imap>,
    #[serde(default)]
    pub smtp: Option<Smtp>,
    pub spool: Spool,
    pub rules: Rules,
    pub ocr: Ocr,
    pub notify: Notify,
    pub limits: Limits,
    pub worker: Worker,
    pub web: Web,
    #[serde(default)]
    pub metrics: Option<Metrics>,
    #[serde(default)]
    pub log: Log,
}

fn default_digest_time() -> String {
    "07:30".into()
}
fn default_max_acks_per_hour() -> u32 {
    5
}
fn default_utc_offset() -> i8 {
    7
}
fn default_mailbox() -> String {
    "INBOX".into()
}
fn default_processed() -> String {
    "Processed".into()
}
fn default_poll() -> u64 {
    60
}
fn default_batch() -> u32 {
    50
}
fn default_timeout() -> u64 {
    30
}
fn default_job_poll() -> u64 {
    5
}

/// Defaults for every section that has them (`office`, `imap`, `smtp` have required keys).
fn defaults() -> serde_json::Value {
    serde_json::json!({
        "database": {"url": "sqlite://data/loket.db", "max_connections": 5},
        "storage": {"dir": "data/blobs"},
        "spool": {"dir": "data/spool", "settle_seconds": 5, "max_file_bytes": 100 * 1024 * 1024},
        "rules": {"dir": "rules"},
        "ocr": {"languages": "ind+eng", "workers": 2, "page_timeout_seconds": 60},
        "notify": {"templates_dir": "templates", "department_notices": "digest", "digest_time": "07:30",
                   "max_acks_per_sender_per_hour": 5},
        "limits": {"max_message_bytes": 25 * 1024 * 1024, "max_attachments": 50, "max_attempts": 3},
        "worker": {"concurrency": 2, "lease_seconds": 60, "poll_seconds": 5},
        "web": {"listen": "127.0.0.1:8080", "trusted_proxies": [], "status_requests_per_minute": 30,
                "max_upload_bytes": 50 * 1024 * 1024, "session_idle_hours": 8, "secure_cookies": true},
    })
}

/// A configuration that could not be loaded; the CLI exits with status 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} not found")]
    Missing(PathBuf),
    #[error("config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Load from `path` (must exist) plus the environment, then validate everything.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        if !path.exists() {
            return Err(ConfigError::Missing(path.to_path_buf()));
        }
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let figment = with_secret_env(
            Figment::from(Serialized::defaults(defaults()))
                .merge(Toml::file(path))
                .merge(env_overrides().filter(|k| !is_secret_key(k.as_str()))),
        );
        let mut config: Config = figment
            .extract()
            .map_err(|e| invalid(describe_figment(e)))?;
        config.resolve_relative(path.parent().unwrap_or(Path::new(".")));
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(invalid(problems.join("; ")));
        }
        Ok(config)
    }

    /// Every problem with the values, each naming its key.
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !valid_office(&self.office.code) {
            out.push(format!(
                "office.code {:?} must be 2-8 letters or digits",
                self.office.code
            ));
        }
        out.extend(self.storage.problems());
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres:")
            || url.starts_with("postgresql:"))
        {
            out.push("database.url must start with sqlite:// or postgres://".into());
        }
        out.extend(crate::config::mailboxes::problems(self));
        for (table, host, security, allow) in self.plaintext_tables() {
            if let Err(e) = check_plaintext(host, security, allow) {
                out.push(format!("{table}: {e}"));
            }
        }
        if let Some(m) = &self.metrics {
            if m.listen.parse::<std::net::SocketAddr>().is_err() {
                out.push(format!(
                    "metrics.listen {:?} must be an address like 127.0.0.1:9184",
                    m.listen
                ));
            } else if m.listen == self.web.listen {
                out.push(
                    "metrics.listen must not be web.listen: metrics are never on the public listener"
                        .into(),
                );
            }
        }
        if let Some(smtp) = &self.smtp {
            if smtp.from.parse::<lettre::message::Mailbox>().is_err() {
                out.push(format!(
                    "smtp.from {:?} is not an address like 'Name <a@b.go.id>'",
                    smtp.from
                ));
            }
        }
        if self.notify.digest_minutes().is_none() {
            out.push(format!(
                "notify.digest_time {:?} must be HH:MM (office time), e.g. \"07:30\"",
                self.notify.digest_time
            ));
        }
        if self.notify.max_acks_per_sender_per_hour == 0 {
            out.push("notify.max_acks_per_sender_per_hour must be at least 1".into());
        }
        if self.spool.max_file_bytes == 0 {
            out.push("spool.max_file_bytes must be at least 1".into());
        }
        if self.worker.concurrency == 0 || self.ocr.workers == 0 {
            out.push("worker.concurrency and ocr.workers must be at least 1".into());
        }
        if self.worker.poll_seconds == 0 {
            out.push("worker.poll_seconds must be at least 1".into());
        }
        if self.worker.lease_seconds < 3 {
            out.push(
                "worker.lease_seconds must be at least 3 (heartbeats renew every third)".into(),
            );
        }
        if self.web.listen.parse::<std::net::SocketAddr>().is_err() {
            out.push(format!(
                "web.listen {:?} must be an address like 127.0.0.1:8080",
                self.web.listen
            ));
        }
        if let Some(base) = &self.web.base_url {
            if !(base.starts_with("https://") || base.starts_with("http://")) {
                out.push(format!(
                    "web.base_url {base:?} must start with https:// or http://"
                ));
            }
        }
        for p in &self.web.trusted_proxies {
            if p.parse::<crate::desk::client::TrustedProxy>().is_err() {
                out.push(format!(
                    "web.trusted_proxies: {p:?} is not an address or CIDR range"
                ));
            }
        }
        if self.web.status_requests_per_minute == 0 || self.web.session_idle_hours == 0 {
            out.push(
                "web.status_requests_per_minute and web.session_idle_hours must be at least 1"
                    .into(),
            );
        }
        out
    }

    /// The tables that name a mail server: (key, host, security, allow_plaintext).
    fn plaintext_tables(&self) -> Vec<(String, &str, Security, bool)> {
        let imap = self.imap.iter().map(|i| {
            (
                "imap".to_string(),
                i.host.as_str(),
                i.security,
                i.allow_plaintext,
            )
        });
        let mailboxes = self.mailboxes.iter().enumerate().map(|(n, m)| {
            (
                format!("mailbox.{n}"),
                m.host.as_str(),
                m.security,
                m.allow_plaintext,
            )
        });
        let smtp = self.smtp.iter().map(|s| {
            (
                "smtp".to_string(),
                s.host.as_str(),
                s.security,
                s.allow_plaintext,
            )
        });
        imap.chain(mailboxes).chain(smtp).collect()
    }

    /// The public status page of a case: `office.status_url` (with `{code}`) if set, else
    /// `web.base_url` + `/status/CODE`, else none.
    pub fn status_url_for(&self, code: &str) -> Option<String> {
        self.office.status_url_for(code).or_else(|| {
            self.web
                .base_url
                .as_ref()
                .map(|b| format!("{}/status/{code}", b.trim_end_matches('/')))
        })
    }

    /// The domain of loket's own Message-IDs: the sender address's (`smtp.from`), so replies
    /// to them come back to the office; `loket.invalid` without SMTP.
    pub fn message_id_domain(&self) -> String {
        self.smtp
            .as_ref()
            .and_then(|s| s.from.parse::<lettre::message::Mailbox>().ok())
            .map(|m| m.email.domain().to_string())
            .unwrap_or_else(|| "loket.invalid".into())
    }

    /// A desk page's public address (`web.base_url` + path), if the office has set one.
    pub fn desk_url(&self, path: &str) -> Option<String> {
        self.web
            .base_url
            .as_ref()
            .map(|b| format!("{}{path}", b.trim_end_matches('/')))
    }

    /// Relative paths are relative to the working directory, as an operator expects from
    /// `data/...` defaults; nothing to do yet, but keep the seam in one place.
    fn resolve_relative(&mut self, _config_dir: &Path) {}

    /// All addresses of the office itself (lower-case): never answered.
    pub fn office_addresses(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .office
            .own_addresses
            .iter()
            .map(|a| a.to_lowercase())
            .collect();
        if let Some(smtp) = &self.smtp {
            if let Ok(mb) = smtp.from.parse::<lettre::message::Mailbox>() {
                out.push(mb.email.to_string().to_lowercase());
            }
        }
        for mb in self.all_mailboxes() {
            out.extend(mb.own_addresses());
        }
        out
    }

    pub fn is_postgres(&self) -> bool {
        self.database.url.starts_with("postgres")
    }

    /// How the store is opened, from `[database]` and `[worker]`.
    pub fn store_options(&self) -> crate::filing::StoreOptions {
        crate::filing::StoreOptions {
            max_connections: self.database.max_connections,
            lease_seconds: self.worker.lease_seconds,
        }
    }
}

/// Read a secret given inline or in a file (trailing newline removed).
pub fn read_secret(
    inline: &Option<SecretString>,
    file: &Option<PathBuf>,
    key: &str,
) -> Result<SecretString, String> {
    if let Some(s) = inline {
        return Ok(s.clone());
    }
    match file {
        Some(path) => std::fs::read_to_string(path)
            .map(|s| SecretString::from(s.trim_end_matches(['\n', '\r']).to_string()))
            .map_err(|e| format!("{key}_file {}: {e}", path.display())),
        None => Err(format!("{key} is not set")),
    }
}

/// `LOKET_<SECTION>__<KEY>` variables as figment reads them (values parsed: `993` is a number).
fn env_overrides() -> Env {
    Env::prefixed("LOKET_")
        .filter(|k| k.as_str().contains("__"))
        .split("__")
}

/// Keys whose values are secrets (or may hold one, like a database URL with its password):
/// given in the environment they are always strings, and errors never echo their values.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let last = key.rsplit('.').next().unwrap_or(&key);
    last == "password" || last.contains("secret") || last.contains("token") || key == "database.url"
}

/// The secret keys among the env overrides, as strings: figment would read an all-digit
/// `LOKET_IMAP__PASSWORD=123456` as a number, fail to make a string of it and print it.
fn with_secret_env(mut figment: Figment) -> Figment {
    for (key, value) in env_overrides().iter() {
        if is_secret_key(key.as_str()) {
            figment = figment.merge(Serialized::default(key.as_str(), value));
        }
    }
    figment
}

/// Why `security = "none"` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "security = \"none\" would send the password in clear to {host}, which is not loopback: \
     use \"tls\" or \"starttls\", or set allow_plaintext = true if this network is trusted"
)]
pub struct PlaintextRefused {
    pub host: String,
}

/// A mail server without TLS is allowed on loopback only, unless the operator opted in with
/// `allow_plaintext = true`: credentials must never cross a network in clear by accident.
/// Callers name the table in their message (`imap: ...`, `mailbox[2]: ...`).
pub fn check_plaintext(
    host: &str,
    security: Security,
    allow_plaintext: bool,
) -> Result<(), PlaintextRefused> {
    if security != Security::None || allow_plaintext || is_loopback(host) {
        return Ok(());
    }
    Err(PlaintextRefused {
        host: host.to_string(),
    })
}

/// `localhost` (RFC 6761: also `*.localhost`), 127.0.0.0/8 and ::1. Names are not resolved:
/// a name that happens to point at loopback today may not tomorrow.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let lower = host.to_ascii_lowercase();
    lower == "localhost"
        || lower.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// figment's messages, one per problem, with the key path; values of secret keys are not echoed.
fn describe_figment(err: figment::Error) -> String {
    err.into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let msg = match &e.kind {
                figment::error::Kind::UnknownField(field, _) => format!("unknown key {field:?}"),
                figment::error::Kind::MissingField(field) => format!("missing key {field:?}"),
                figment::error::Kind::InvalidType(_, expected) if is_secret_key(&key) => {
                    format!("invalid value (not shown: a secret), expected {expected}")
                }
                _ if is_secret_key(&key) => "invalid value (not shown: a secret)".to_string(),
                other => other.to_string(),
            };
            if key.is_empty() {
                msg
            } else {
                format!("{key}: {msg}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Show a secret only where it is needed (login), never in logs.
pub fn expose(secret: &SecretString) -> &str {
    secret.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example is a valid config: every key it shows exists.
    #[test]
    fn the_example_config_loads_with_its_web_section() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/loket.toml.example");
        let cfg = Config::load(&path).expect("deploy/loket.toml.example loads");
        assert_eq!(cfg.web.listen, "127.0.0.1:8080");
        assert_eq!(cfg.web.status_requests_per_minute, 30);
        assert_eq!(cfg.web.max_upload_bytes, 52_428_800);
        assert!(cfg.web.secure_cookies);
        assert_eq!(
            cfg.metrics.as_ref().map(|m| m.listen.as_str()),
            Some("127.0.0.1:9184")
        );
        assert_eq!(cfg.log.format, LogFormat::Text);
        assert_eq!(
            cfg.status_url_for("PSR-1"),
            cfg.office
                .status_url_for("PSR-1")
                .or_else(|| Some("https://perizinan.pasuruankab.go.id/status/PSR-1".into()))
        );
    }

    fn storage_config(dir: &Path, storage: &str) -> Result<Config, ConfigError> {
        let path = dir.join("loket.toml");
        std::fs::write(
            &path,
            format!("[office]\ncode = \"PSR\"\nname = \"X\"\n[storage]\n{storage}"),
        )
        .unwrap();
        Config::load(&path)
    }

    #[test]
    fn an_object_store_takes_its_secret_from_a_file_and_never_shows_it() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("s3-secret");
        std::fs::write(&secret, "rahasia-s3-0123456789\n").unwrap();
        let cfg = storage_config(
            dir.path(),
            &format!(
                "url = \"s3://loket/psr/\"\nendpoint = \"http://127.0.0.1:3900\"\n\
                 region = \"garage\"\naccess_key_id = \"GK31c2\"\n\
                 secret_access_key_file = \"{}\"\n",
                secret.display()
            ),
        )
        .unwrap();
        assert_eq!(
            S3Url::parse(cfg.storage.url.as_deref().unwrap()).unwrap(),
            S3Url {
                bucket: "loket".into(),
                prefix: "psr".into()
            }
        );
        let store = crate::filing::BlobStore::open(&cfg.storage).unwrap();
        assert_eq!(store.describe(), "s3://loket/psr");
        assert!(store.dir().is_none());

        // Inline, the secret is kept out of Debug and out of every error.
        let cfg = storage_config(
            dir.path(),
            "url = \"s3://loket/psr\"\naccess_key_id = \"GK31c2\"\n\
             secret_access_key = \"rahasia-s3-0123456789\"\n\
             endpoint = \"http://s3.example.go.id\"\n",
        );
        let err = cfg.unwrap_err().to_string();
        assert!(err.contains("storage.endpoint"), "{err}");
        assert!(!err.contains("rahasia"), "{err}");
        let cfg = storage_config(
            dir.path(),
            "url = \"s3://loket/psr\"\naccess_key_id = \"GK31c2\"\n\
             secret_access_key = \"rahasia-s3-0123456789\"\n",
        )
        .unwrap();
        let shown = format!("{cfg:?}");
        assert!(
            shown.contains("s3://loket/psr") && !shown.contains("rahasia"),
            "{shown}"
        );
        assert!(!toml::to_string(&cfg).unwrap().contains("rahasia"));
    }

    #[test]
    fn an_object_store_needs_a_bucket_a_key_and_https_off_this_machine() {
        let dir = tempfile::tempdir().unwrap();
        let err = storage_config(dir.path(), "url = \"https://loket/psr\"\n")
            .unwrap_err()
            .to_string();
        for key in [
            "storage.url",
            "storage.access_key_id",
            "storage.secret_access_key",
        ] {
            assert!(err.contains(key), "{key} in {err}");
        }
        assert!(storage_config(dir.path(), "url = \"s3:///psr\"\n")
            .unwrap_err()
            .to_string()
            .contains("names no bucket"));
        let ok = "url = \"s3://b\"\naccess_key_id = \"k\"\nsecret_access_key = \"s\"\n";
        for (endpoint, fine) in [
            ("http://127.0.0.1:3900", true),
            ("http://[::1]:3900", true),
            ("http://localhost:3900", true),
            ("https://s3.example.go.id", true),
            ("http://10.0.0.5:3900", false),
            ("ftp://127.0.0.1", false),
        ] {
            let cfg = storage_config(dir.path(), &format!("{ok}endpoint = \"{endpoint}\"\n"));
            assert_eq!(cfg.is_ok(), fine, "{endpoint}: {:?}", cfg.err());
        }
        // A missing secret file is a clear error naming the key and the file.
        let cfg = storage_config(
            dir.path(),
            "url = \"s3://b\"\naccess_key_id = \"k\"\nsecret_access_key_file = \"/nope/s3\"\n",
        )
        .unwrap();
        let err = crate::filing::BlobStore::open(&cfg.storage)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("storage.secret_access_key_file /nope/s3"),
            "{err}"
        );
        // Without url, the folder as before.
        let cfg = storage_config(dir.path(), "dir = \"blobs\"\n").unwrap();
        let store = crate::filing::BlobStore::open(&cfg.storage).unwrap();
        assert_eq!(store.dir(), Some(Path::new("blobs")));
    }

    #[test]
    fn status_links_come_from_the_base_url_unless_the_office_names_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loket.toml");
        std::fs::write(
            &path,
            "[office]\ncode = \"PSR\"\nname = \"X\"\n[web]\nbase_url = \"https://desk.example/\"\n\
             trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n",
        )
        .unwrap();
        let cfg = Config::load(&path).unwrap();
        assert_eq!(
            cfg.status_url_for("PSR-AB").as_deref(),
            Some("https://desk.example/status/PSR-AB")
        );
        assert_eq!(
            cfg.desk_url("/cases/PSR-AB").as_deref(),
            Some("https://desk.example/cases/PSR-AB")
        );
        std::fs::write(
            &path,
            "[office]\ncode = \"PSR\"\nname = \"X\"\n[web]\ntrusted_proxies = [\"proxy\"]\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("web.trusted_proxies"), "{err}");
    }

    #[test]
    fn plaintext_only_to_loopback_unless_the_operator_allows_it() {
        for host in [
            "127.0.0.1",
            "127.0.0.53",
            "::1",
            "[::1]",
            "localhost",
            "mail.localhost",
        ] {
            assert_eq!(
                check_plaintext(host, Security::None, false),
                Ok(()),
                "{host}"
            );
        }
        for host in [
            "mail.example.go.id",
            "10.0.0.5",
            "localhost.example.com",
            "::2",
        ] {
            let err = check_plaintext(host, Security::None, false).unwrap_err();
            assert!(err.to_string().contains("allow_plaintext = true"), "{err}");
            assert!(err.to_string().contains(host), "{err}");
            assert_eq!(check_plaintext(host, Security::None, true), Ok(()));
            assert_eq!(check_plaintext(host, Security::Starttls, false), Ok(()));
            assert_eq!(check_plaintext(host, Security::Tls, false), Ok(()));
        }
    }

    #[test]
    fn secret_keys_are_known_by_name() {
        for key in [
            "imap.password",
            "SMTP.PASSWORD",
            "storage.secret_access_key",
            "storage.secret_access_key_file",
            "database.url",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "imap.password_file",
            "imap.port",
            "imap.username",
            "web.listen",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn five_automatic_messages_an_hour_unless_the_office_says_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loket.toml");
        std::fs::write(&path, "[office]\ncode = \"PSR\"\nname = \"X\"\n").unwrap();
        assert_eq!(
            Config::load(&path)
                .unwrap()
                .notify
                .max_acks_per_sender_per_hour,
            5
        );
        std::fs::write(
            &path,
            "[office]\ncode = \"PSR\"\nname = \"X\"\n[notify]\ntemplates_dir = \"t\"\n\
             max_acks_per_sender_per_hour = 2\n",
        )
        .unwrap();
        assert_eq!(
            Config::load(&path)
                .unwrap()
                .notify
                .max_acks_per_sender_per_hour,
            2
        );
        std::fs::write(
            &path,
            "[office]\ncode = \"PSR\"\nname = \"X\"\n[notify]\ntemplates_dir = \"t\"\n\
             max_acks_per_sender_per_hour = 0\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("notify.max_acks_per_sender_per_hour"), "{err}");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/loket.toml.example");
        assert_eq!(
            Config::load(&example)
                .unwrap()
                .notify
                .max_acks_per_sender_per_hour,
            5
        );
    }
}
