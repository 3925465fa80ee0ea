//! SMTP sink: aiosmtpd's `Mailbox` handler, which stores every message it accepts in a Maildir.
//! Plain by default; [`smtp_tls`] and [`smtp_starttls`] are sinks with a certificate issued by
//! the test office CA ([`super::office_ca`]), as at an office's port 465 and 587.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{process, server_dir, started, tls, HOST};

/// How a sink speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkTls {
    /// Plain SMTP (the shared sink of every other test).
    None,
    /// TLS from the first byte (SMTPS, port 465).
    Implicit,
    /// Plain until STARTTLS, which it requires before MAIL (port 587).
    Starttls,
}

/// An aiosmtpd instance on loopback. Messages are read back from its Maildir.
#[derive(Debug)]
pub struct SmtpSink {
    pub host: String,
    pub port: u16,
    /// The Maildir every accepted message lands in (`new/`).
    pub maildir: PathBuf,
    pub log_path: PathBuf,
    pub tls: SinkTls,
    /// The certificate that `smtp.ca_file` must name to trust this sink (the office CA), for
    /// [`SinkTls::Implicit`] and [`SinkTls::Starttls`].
    pub ca_cert_path: Option<PathBuf>,
    /// The sink's own certificate and key (`cert.pem`, `key.pem`), when it speaks TLS.
    cert_dir: Option<PathBuf>,
    shared: bool,
    pid: Mutex<Option<u32>>,
}

/// The SMTP sink shared by all tests of this binary.
pub fn smtp() -> &'static SmtpSink {
    static SINK: OnceLock<Result<SmtpSink, String>> = OnceLock::new();
    started(&SINK, || SmtpSink::start_new("smtp", true, SinkTls::None))
}

/// A shared sink with implicit TLS (certificate from the office CA), started on first use.
pub fn smtp_tls() -> &'static SmtpSink {
    static SINK: OnceLock<Result<SmtpSink, String>> = OnceLock::new();
    started(&SINK, || {
        SmtpSink::start_new("smtp-tls", true, SinkTls::Implicit)
    })
}

/// A shared sink that requires STARTTLS (certificate from the office CA), started on first use.
pub fn smtp_starttls() -> &'static SmtpSink {
    static SINK: OnceLock<Result<SmtpSink, String>> = OnceLock::new();
    started(&SINK, || {
        SmtpSink::start_new("smtp-starttls", true, SinkTls::Starttls)
    })
}

/// A private SMTP sink for tests that stop and restart it. Stopped when dropped.
pub fn new_smtp_sink() -> SmtpSink {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    SmtpSink::start_new(&format!("smtp-private-{n}"), false, SinkTls::None)
        .unwrap_or_else(|e| panic!("{e}"))
}

impl SmtpSink {
    fn start_new(name: &str, shared: bool, tls: SinkTls) -> Result<SmtpSink, String> {
        let dir = server_dir(name);
        let maildir = dir.join("maildir");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.join(sub)).map_err(|e| format!("{e}"))?;
        }
        let cert_dir = match tls {
            SinkTls::None => None,
            SinkTls::Implicit | SinkTls::Starttls => {
                let cert_dir = dir.join("tls");
                std::fs::create_dir_all(&cert_dir).map_err(|e| format!("{e}"))?;
                tls::make_signed_by_office_ca(&cert_dir)?;
                Some(cert_dir)
            }
        };
        let sink = SmtpSink {
            host: HOST.to_string(),
            port: super::free_port(),
            maildir,
            log_path: dir.join("smtp.log"),
            tls,
            ca_cert_path: cert_dir.as_ref().map(|_| tls::office_ca().to_path_buf()),
            cert_dir,
            shared,
            pid: Mutex::new(None),
        };
        sink.spawn()?;
        Ok(sink)
    }

    fn spawn(&self) -> Result<(), String> {
        let python = python_with_aiosmtpd()?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| format!("open {}: {e}", self.log_path.display()))?;
        let mut cmd = Command::new(&python);
        cmd.args(["-u", "-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("{}:{}", self.host, self.port))
            .args(self.tls_args())
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        let pid = process::spawn_server(cmd, libc::SIGTERM)
            .map_err(|e| format!("start aiosmtpd with {}: {e}", python.display()))?;
        process::wait_listening("aiosmtpd", self.port, pid, &self.log_path)?;
        *self.pid.lock().unwrap_or_else(|e| e.into_inner()) = Some(pid);
        Ok(())
    }

    /// aiosmtpd's options for [`SinkTls`]: `--smtpscert` for TLS from the first byte,
    /// `--tlscert` for STARTTLS (which aiosmtpd then requires before MAIL).
    fn tls_args(&self) -> Vec<PathBuf> {
        let (cert, key) = match self.tls {
            SinkTls::None => return Vec::new(),
            SinkTls::Implicit => ("--smtpscert", "--smtpskey"),
            SinkTls::Starttls => ("--tlscert", "--tlskey"),
        };
        let dir = self.cert_dir.clone().unwrap_or_default();
        vec![
            cert.into(),
            dir.join("cert.pem"),
            key.into(),
            dir.join("key.pem"),
        ]
    }

    /// Stops a private sink: connections to its port are refused until [`start`](Self::start).
    pub fn stop(&self) {
        assert!(
            !self.shared,
            "stop() the shared sink would break other tests: use new_smtp_sink()"
        );
        if let Some(pid) = self.pid.lock().unwrap_or_else(|e| e.into_inner()).take() {
            process::stop_server(pid);
        }
    }

    /// Starts a stopped private sink again on the same port, keeping its Maildir.
    pub fn start(&self) {
        assert!(!self.shared, "the shared sink is always running");
        if self.pid.lock().unwrap_or_else(|e| e.into_inner()).is_none() {
            self.spawn().unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Every message received so far, oldest first, raw (see the module doc for the format).
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let modified = entry.metadata().and_then(|m| m.modified()).ok();
                files.push((modified, entry.file_name(), entry.path()));
            }
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, _, path)| std::fs::read(path).ok())
            .collect()
    }

    /// Messages whose envelope recipients (aiosmtpd's `X-RcptTo`) include `addr`
    /// (case-insensitive).
    pub fn messages_to(&self, addr: &str) -> Vec<Vec<u8>> {
        let addr = addr.to_ascii_lowercase();
        self.messages()
            .into_iter()
            .filter(|m| rcpt_to(m).contains(&addr))
            .collect()
    }

    /// Waits until at least `n` messages to `addr` arrived and returns them all; panics after
    /// `timeout` with what did arrive. With `n == 0` it waits the whole `timeout` and returns
    /// whatever came (so a test can assert that nothing did).
    pub async fn wait_for(&self, addr: &str, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        if n == 0 {
            tokio::time::sleep(timeout).await;
            return self.messages_to(addr);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.messages_to(addr);
            if found.len() >= n {
                return found;
            }
            if Instant::now() > deadline {
                panic!(
                    "SMTP sink on port {}: {} message(s) to {addr} after {timeout:?}, wanted {n}; \
                     all recipients seen: {:?}",
                    self.port,
                    found.len(),
                    self.messages()
                        .iter()
                        .map(|m| rcpt_to(m))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            process::stop_server(pid);
        }
    }
}

/// The lower-cased envelope recipients aiosmtpd recorded in the `X-RcptTo` header.
fn rcpt_to(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(message);
    let header_end = text.find("\n\n").or_else(|| text.find("\r\n\r\n"));
    let unfolded = text[..header_end.unwrap_or(text.len())]
        .replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", " ");
    unfolded
        .lines()
        .take_while(|l| !l.trim_end_matches('\r').is_empty())
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("X-RcptTo").then_some(value)
        })
        .flat_map(|v| {
            v.split(',')
                .map(|a| a.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn python_with_aiosmtpd() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/.venv/bin/python");
    let candidates: Vec<PathBuf> = match std::env::var_os("LOKET_AIOSMTPD_PYTHON") {
        Some(p) => vec![p.into()],
        None => vec![venv, "python3".into()],
    };
    for python in &candidates {
        let ok = Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(python.clone());
        }
    }
    Err(format!(
        "no python with aiosmtpd among {candidates:?}: run deploy/install-deps.sh \
         (or set LOKET_AIOSMTPD_PYTHON)"
    ))
}
