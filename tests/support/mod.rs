//! Test harness: real Dovecot, SMTP sink, PostgreSQL, Garage and headless Chromium on loopback, one of
//! each per test binary, started lazily on random free ports under one temp dir, stopped (and
//! the temp dir removed) when the test process exits. Use it from an integration test with `mod support;`.
//!
//! ```ignore
//! let imap = support::dovecot();                       // &'static Dovecot
//! let (user, pass) = imap.new_user();                  // a fresh, empty mailbox per test
//! imap.append(&user, &pass, "INBOX", raw).await;       // deliver a message
//! // ... run loket against imap.host / imap.port (plain) or imap.tls_port + imap.ca_cert_path
//! let processed = imap.list(&user, &pass, "Processed").await;   // raw messages, UID order
//!
//! let smtp = support::smtp();                          // &'static SmtpSink, shared
//! let acks = smtp.wait_for("budi@example.com", 1, Duration::from_secs(10)).await;
//!
//! if let Some(pg) = support::postgres() {              // None only if PG is not installed
//!     let url = pg.new_database();                     // postgres://postgres:pw@127.0.0.1:port/db
//! }
//! let port = support::dead_smtp_port();                // nothing listens here: refused
//!
//! use support::browser::Viewport;
//! if let Some(phone) = support::browser(Viewport::Phone).await {  // None if not installed
//!     phone.goto(&format!("{base}/masuk")).await;
//!     phone.fill("#nama", "siti").await;
//!     phone.click("button[type=submit]").await;
//!     assert!(!phone.has_horizontal_scroll().await);
//!     phone.close().await;
//! }
//! ```
//!
//! # API
//! - [`dovecot()`] -> `&'static Dovecot`: fields `host`, `port` (IMAP, plaintext login allowed),
//!   `tls_port` (IMAPS), `ca_cert_path` (self-signed PEM, CA:FALSE, SAN `localhost` and
//!   `127.0.0.1`), `dir`, `log_path`; `new_user() -> (String, String)`; async helpers `login`,
//!   `login_tls`, `append`, `append_many`, `list`, `create_mailbox`, `mailboxes`. IDLE and MOVE
//!   are on; no folder exists but INBOX until someone creates it. Faults made by Dovecot itself:
//!   `stop()`, `start()`, `restart()` (same ports, same mail; only in a test binary of its own,
//!   as the instance is shared), `set_uid_validity(user, mailbox, n)` (doveadm) and
//!   `rebuild_inbox_uids(user)` (new UIDVALIDITY, UIDs from 1).
//! - [`ScriptedImap`]: a scripted IMAP server for faults Dovecot never shows (FETCH without
//!   RFC822.SIZE or without the message; no MOVE, no UIDPLUS): `ScriptedImap::start(caps)` with
//!   [`scripted_imap::DOVECOT_CAPS`] or fewer, `deliver(raw) -> uid`, `omit_size(uid)`,
//!   `omit_body(uid, Omit::Once | Omit::Always)`, `clear_faults()`, `before_first(command, change)`,
//!   `commands()`, `messages(folder)`.
//! - [`smtp()`] -> `&'static SmtpSink` (shared; tests tell their mail apart by recipient):
//!   `host`, `port`, `maildir`; `messages()`, `messages_to(addr)`, async
//!   `wait_for(addr, n, timeout)`. [`new_smtp_sink()`] gives a private `SmtpSink` that can also
//!   `stop()` and `start()` again on the same port (for "SMTP was down, then came back" tests);
//!   it stops when dropped. [`smtp_tls()`] (TLS from the first byte, as on port 465) and
//!   [`smtp_starttls()`] (STARTTLS required before MAIL, as on 587) are shared sinks of their
//!   own, started only by the tests that call them, with a certificate for `localhost` and
//!   `127.0.0.1` issued by the test office CA; their `ca_cert_path` is that CA (for
//!   `smtp.ca_file`).
//! - [`postgres()`] -> `Option<&'static Postgres>`: `host`, `port`, `user`, `password`;
//!   `new_database() -> String` (URL of a new empty database), `admin_url()`,
//!   `restore(url, path)` (run a SQL file such as a plain `pg_dump` with psql). `None` (with a
//!   note on stderr) only when PostgreSQL is not installed and `LOKET_REQUIRE_PG` is unset; with
//!   `LOKET_REQUIRE_PG=1` (CI) a missing PostgreSQL is a panic.
//! - [`garage()`] -> `Option<&'static Garage>` (an S3-compatible object store, one node):
//!   `endpoint` (`http://127.0.0.1:PORT`), `bucket`, `region` (`garage`), `key_id`,
//!   `secret_key`; `new_prefix(name)` (a prefix no other test uses), `url(prefix)`
//!   (`s3://BUCKET/PREFIX`), `object_store()` (an `object_store` S3 client on the bucket, to
//!   look behind loket's back), `cli(args)` (the garage CLI). [`new_garage()`] gives a private
//!   one that can also `stop()` and `start()` again (same ports, same data). `None` (with a
//!   note on stderr) when Garage is not built here (`deploy/install-garage.sh`) and
//!   `LOKET_REQUIRE_GARAGE` is unset.
//! - [`dead_smtp_port()`] -> `u16`: a loopback port that refuses connections (bound, never
//!   listening, held for the whole run so nobody else takes it).
//! - [`browser(viewport)`] -> `Option<Browser>` (async): a new headless Chromium session with a
//!   fresh profile, [`Viewport::Phone`] (360 x 740 CSS px, pixel ratio 2, mobile emulation) or
//!   [`Viewport::Desktop`] (1280 x 900); several may be open at once, all on one chromedriver.
//!   Async helpers: `goto(url)`, `fill(css, text)`, `click(css)`, `text_of(css) -> String`
//!   (these three wait up to 10 s for the element), `inner_width() -> u64`,
//!   `has_horizontal_scroll() -> bool`, `js_global_set(name) -> bool` (did `window[name]` get
//!   set: an XSS payload ran), `screenshot(path)` (full-page PNG in device pixels), `close()`;
//!   `client()` for the rest of fantoccini. Pages need a `width=device-width` viewport meta tag,
//!   else a phone lays them out 980 px wide. `None` (with a note on stderr) only when Chromium
//!   is not installed and `LOKET_REQUIRE_BROWSER` is unset.
//! - [`rustls_client_config(path)`] -> `Arc<rustls::ClientConfig>` trusting one PEM cert.
//! - [`office_ca()`] -> `&'static Path`: the test office CA (`ca.pem`, CA:TRUE) of this binary.
//!
//! Server start-up failures panic with the server's log. Stored messages from the SMTP sink
//! start with the headers aiosmtpd adds (`X-Peer`, `X-MailFrom`, `X-RcptTo`) and have LF line
//! endings.
//!
//! Environment: `LOKET_REQUIRE_PG=1` makes PostgreSQL mandatory, `LOKET_REQUIRE_BROWSER=1`
//! Chromium, `LOKET_REQUIRE_GARAGE=1` Garage (`LOKET_GARAGE_BIN` names its binary; default:
//! `~/.cache/loket-tools/garage/bin/garage`, then `garage` on PATH); `LOKET_PG_BIN` points at the PostgreSQL bin dir (default: newest
//! `/usr/lib/postgresql/*/bin`); `LOKET_AIOSMTPD_PYTHON` names a python with aiosmtpd
//! (default: `deploy/.venv/bin/python`, then `python3`); `LOKET_TEST_KEEP=1` keeps the temp dir
//! (its path is printed at exit). Needs root for Dovecot and PostgreSQL (as CI and the dev
//! machines run); run `deploy/install-deps.sh` once.
// Each test binary uses only part of the harness.
#![allow(dead_code, unused_imports)]

pub mod browser;
mod dovecot;
mod garage;
mod postgres;
mod process;
pub mod scripted_imap;
mod smtp;
mod tls;

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use browser::{browser, Browser, Viewport};
pub use dovecot::{dovecot, Dovecot};
pub use garage::{garage, new_garage, Garage};
pub use postgres::{postgres, Postgres};
pub use scripted_imap::{Omit, ScriptedImap};
pub use smtp::{new_smtp_sink, smtp, smtp_starttls, smtp_tls, SinkTls, SmtpSink};
pub use tls::{office_ca, rustls_client_config};

/// The loopback address every server listens on.
pub const HOST: &str = "127.0.0.1";

/// This test process's temp dir (mode 755: Dovecot's auth and PostgreSQL run as other users).
pub fn root_dir() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("loket-test-")
            .tempdir_in("/tmp")
            .expect("create the test temp dir")
            .keep();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the test temp dir");
        process::remove_at_exit(&dir);
        dir
    })
}

/// A fresh subdirectory of [`root_dir`] named `name`, mode 755.
fn server_dir(name: &str) -> PathBuf {
    let dir = root_dir().join(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", dir.display()));
    dir
}

/// A port that was free a moment ago (the kernel hands out ephemeral ports round-robin, so a
/// clash with the next bind is very unlikely).
pub fn free_port() -> u16 {
    TcpListener::bind((HOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A loopback port on which connections are refused: the socket is bound for the whole run but
/// never listens.
pub fn dead_smtp_port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        // SAFETY: plain socket calls on a fresh fd that is deliberately never closed.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let rc = libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len);
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            let mut bound: libc::sockaddr_in = std::mem::zeroed();
            let mut blen = len;
            let rc = libc::getsockname(fd, &mut bound as *mut _ as *mut libc::sockaddr, &mut blen);
            assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
            u16::from_be(bound.sin_port)
        }
    })
}

/// Hex of `n` random bytes, for passwords.
fn random_hex(n: usize) -> String {
    (0..n)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Start-up results are cached, so a server that failed to start fails every test that uses it
/// with the same message instead of being retried by each.
fn started<T>(
    cell: &'static OnceLock<Result<T, String>>,
    start: fn() -> Result<T, String>,
) -> &'static T {
    match cell.get_or_init(start) {
        Ok(server) => server,
        Err(e) => panic!("{e}"),
    }
}
