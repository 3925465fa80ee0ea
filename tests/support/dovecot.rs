//! Dovecot IMAP server: plain IMAP and IMAPS, passwd-file users with Maildirs.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use async_imap::Session;
use futures::TryStreamExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::{process, random_hex, server_dir, started, tls, HOST};

/// Users written into the passwd-file at start. Dovecot re-reads a changed passwd-file at most
/// once per second, so users created on the fly could fail to log in for a moment; pre-made
/// ones cannot.
const PREMADE_USERS: usize = 256;

/// Per-command timeout of the IMAP helpers.
const IMAP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct Dovecot {
    pub host: String,
    /// Plain IMAP (no TLS; plaintext LOGIN allowed).
    pub port: u16,
    /// IMAPS (implicit TLS) with the certificate at `ca_cert_path`.
    pub tls_port: u16,
    /// The self-signed server certificate (PEM): trust it as a CA.
    pub ca_cert_path: PathBuf,
    pub dir: PathBuf,
    pub log_path: PathBuf,
    users: Vec<(String, String)>,
    next_user: AtomicUsize,
    extra_users: Mutex<Vec<(String, String)>>,
    pid: Mutex<Option<u32>>,
}

/// The Dovecot instance shared by all tests of this binary.
pub fn dovecot() -> &'static Dovecot {
    static DOVECOT: OnceLock<Result<Dovecot, String>> = OnceLock::new();
    started(&DOVECOT, Dovecot::launch)
}

impl Dovecot {
    fn launch() -> Result<Dovecot, String> {
        let dir = server_dir("dovecot");
        let tls_dir = server_dir("dovecot/tls");
        tls::make_self_signed(&tls_dir)?;
        let mail = dir.join("mail");
        fs::create_dir_all(&mail).map_err(|e| format!("create {}: {e}", mail.display()))?;
        // Mail processes run as nobody (65534).
        std::os::unix::fs::chown(&mail, Some(65534), Some(65534))
            .map_err(|e| format!("chown {} (Dovecot tests need root): {e}", mail.display()))?;
        let users: Vec<(String, String)> = (1..=PREMADE_USERS)
            .map(|i| (format!("user{i:03}"), random_hex(8)))
            .collect();
        let dovecot = Dovecot {
            host: HOST.to_string(),
            port: super::free_port(),
            tls_port: super::free_port(),
            ca_cert_path: tls_dir.join("cert.pem"),
            log_path: dir.join("dovecot.log"),
            dir,
            users,
            next_user: AtomicUsize::new(0),
            extra_users: Mutex::new(Vec::new()),
            pid: Mutex::new(None),
        };
        dovecot.write_passwd(&[])?;
        let conf = dovecot.conf_path();
        fs::write(&conf, dovecot.config()).map_err(|e| format!("write {}: {e}", conf.display()))?;
        dovecot.spawn()?;
        Ok(dovecot)
    }

    fn conf_path(&self) -> PathBuf {
        self.dir.join("dovecot.conf")
    }

    /// Starts the master process in the foreground and waits until both ports listen.
    fn spawn(&self) -> Result<(), String> {
        let dovecot = self;
        let conf = self.conf_path();
        let mut cmd = Command::new(find_dovecot());
        // Configuration errors go to stderr before Dovecot opens its own log: same file.
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&dovecot.log_path)
            .map_err(|e| format!("open {}: {e}", dovecot.log_path.display()))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        cmd.arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        let pid = process::spawn_server(cmd, libc::SIGTERM)
            .map_err(|e| format!("start dovecot (deploy/install-deps.sh installs it): {e}"))?;
        process::wait_listening("dovecot", dovecot.port, pid, &dovecot.log_path)?;
        process::wait_listening("dovecot (imaps)", dovecot.tls_port, pid, &dovecot.log_path)?;
        *self.pid.lock().unwrap_or_else(|e| e.into_inner()) = Some(pid);
        Ok(())
    }

    /// Stops Dovecot: every client connection is cut and the ports refuse connections until
    /// [`start`](Self::start). Mail stays. Only for a test binary of its own: the instance is
    /// shared by every test in the binary.
    pub fn stop(&self) {
        let Some(pid) = self.pid.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        // Session processes outlive a stopped master for about nine seconds, still serving
        // their clients: stop them first (clients are cut at once, as when the machine
        // restarts), then the master, then any session started meanwhile.
        let mut sessions = descendants(pid);
        for &child in &sessions {
            signal_if_dovecot(child, libc::SIGTERM);
        }
        let late = descendants(pid);
        process::stop_server(pid);
        for &child in &late {
            signal_if_dovecot(child, libc::SIGTERM);
        }
        sessions.extend(late);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sessions.iter().any(|&c| is_dovecot(c)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        for &child in &sessions {
            signal_if_dovecot(child, libc::SIGKILL);
        }
    }

    /// Starts a stopped Dovecot again on the same ports with the same mail.
    pub fn start(&self) {
        if self.pid.lock().unwrap_or_else(|e| e.into_inner()).is_none() {
            self.spawn().unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// [`stop`](Self::stop), then [`start`](Self::start): a server restart as a mail admin does.
    pub fn restart(&self) {
        self.stop();
        self.start();
    }

    /// Gives `user`'s `mailbox` a new UIDVALIDITY through Dovecot itself
    /// (`doveadm mailbox update --uid-validity`); the UIDs stay as they are.
    pub fn set_uid_validity(&self, user: &str, mailbox: &str, uid_validity: u32) {
        let out = Command::new("doveadm")
            .arg("-c")
            .arg(self.conf_path())
            .args(["mailbox", "update", "-u", user, "--uid-validity"])
            .arg(uid_validity.to_string())
            .arg(mailbox)
            .output()
            .unwrap_or_else(|e| panic!("run doveadm: {e}"));
        assert!(
            out.status.success(),
            "doveadm mailbox update: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Makes Dovecot rebuild `user`'s INBOX index from the Maildir, as after a restore from
    /// backup: it deletes `dovecot-uidlist` and the index files, so at the next access Dovecot
    /// picks a new UIDVALIDITY and numbers the messages again from 1. No client may have the
    /// mailbox open.
    pub fn rebuild_inbox_uids(&self, user: &str) {
        let maildir = self.dir.join("mail").join(user).join("Maildir");
        let entries =
            fs::read_dir(&maildir).unwrap_or_else(|e| panic!("read {}: {e}", maildir.display()));
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "dovecot-uidlist" || name.starts_with("dovecot.index") {
                fs::remove_file(entry.path())
                    .unwrap_or_else(|e| panic!("remove {}: {e}", entry.path().display()));
            }
        }
    }

    fn config(&self) -> String {
        let d = self.dir.display();
        format!(
            r#"# Generated by tests/support/dovecot.rs
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = {host}
ssl = yes
ssl_cert = <{d}/tls/cert.pem
ssl_key = <{d}/tls/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_fsync = never
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/mail/%u
}}
mail_location = maildir:{d}/mail/%u/Maildir
namespace inbox {{
  inbox = yes
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
    ssl = yes
  }}
}}
"#,
            host = self.host,
            port = self.port,
            tls_port = self.tls_port,
        )
    }

    /// Rewrites the passwd-file atomically (write + rename) with all users.
    fn write_passwd(&self, extra: &[(String, String)]) -> Result<(), String> {
        let lines: String = self
            .users
            .iter()
            .chain(extra)
            .map(|(u, p)| format!("{u}:{{PLAIN}}{p}::::::\n"))
            .collect();
        let tmp = self.dir.join("passwd.tmp");
        fs::write(&tmp, lines).map_err(|e| format!("write {}: {e}", tmp.display()))?;
        fs::rename(&tmp, self.dir.join("passwd")).map_err(|e| format!("rename passwd: {e}"))
    }

    /// A user with an empty mailbox (no folder but INBOX), never handed out before in this run.
    /// Returns `(username, password)`.
    pub fn new_user(&self) -> (String, String) {
        let i = self.next_user.fetch_add(1, Ordering::Relaxed);
        if let Some(user) = self.users.get(i) {
            return user.clone();
        }
        // Past the pre-made ones: add a user, then wait out Dovecot's 1 s re-read interval.
        let mut extra = self.extra_users.lock().unwrap_or_else(|e| e.into_inner());
        let user = (format!("user{:03}", i + 1), random_hex(8));
        extra.push(user.clone());
        self.write_passwd(&extra).unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(Duration::from_millis(1100));
        user
    }

    /// Logs in over plain IMAP (greeting read, as async-imap requires).
    pub async fn login(&self, user: &str, pass: &str) -> Session<TcpStream> {
        let what = format!("IMAP login {user} at {}:{}", self.host, self.port);
        timed(&what, async {
            let tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
            login_over(tcp, user, pass).await
        })
        .await
    }

    /// Logs in over IMAPS, trusting only `ca_cert_path`, with server name 127.0.0.1.
    pub async fn login_tls(&self, user: &str, pass: &str) -> Session<TlsStream<TcpStream>> {
        let what = format!("IMAPS login {user} at {}:{}", self.host, self.tls_port);
        timed(&what, async {
            let tcp = TcpStream::connect((self.host.as_str(), self.tls_port)).await?;
            let connector =
                tokio_rustls::TlsConnector::from(tls::rustls_client_config(&self.ca_cert_path));
            let name = rustls::pki_types::ServerName::try_from(self.host.clone())?;
            let tls = connector.connect(name, tcp).await?;
            login_over(tls, user, pass).await
        })
        .await
    }

    /// APPENDs `raw` (an RFC 5322 message, CRLF line endings) to `mailbox`.
    pub async fn append(&self, user: &str, pass: &str, mailbox: &str, raw: &[u8]) {
        let mut s = self.login(user, pass).await;
        timed(&format!("APPEND to {user}/{mailbox}"), async {
            s.append(mailbox, None, None, raw).await?;
            s.logout().await?;
            Ok(())
        })
        .await
    }

    /// APPENDs every message of `raws` to `mailbox` in one session (fast bulk delivery).
    pub async fn append_many(&self, user: &str, pass: &str, mailbox: &str, raws: &[Vec<u8>]) {
        let mut s = self.login(user, pass).await;
        timed(
            &format!("APPEND {} to {user}/{mailbox}", raws.len()),
            async {
                for raw in raws {
                    s.append(mailbox, None, None, raw).await?;
                }
                s.logout().await?;
                Ok(())
            },
        )
        .await
    }

    /// Creates `mailbox` for `user`.
    pub async fn create_mailbox(&self, user: &str, pass: &str, mailbox: &str) {
        let mut s = self.login(user, pass).await;
        timed(&format!("CREATE {user}/{mailbox}"), async {
            s.create(mailbox).await?;
            s.logout().await?;
            Ok(())
        })
        .await
    }

    /// The names of all of `user`'s mailboxes, sorted.
    pub async fn mailboxes(&self, user: &str, pass: &str) -> Vec<String> {
        let mut s = self.login(user, pass).await;
        timed(&format!("LIST for {user}"), async {
            let names: Vec<_> = s.list(None, Some("*")).await?.try_collect().await?;
            let mut names: Vec<String> = names.iter().map(|n| n.name().to_string()).collect();
            names.sort();
            s.logout().await?;
            Ok(names)
        })
        .await
    }

    /// The raw messages in `mailbox`, in UID order, read without setting `\Seen` (EXAMINE +
    /// BODY.PEEK[]). Panics if the mailbox does not exist.
    pub async fn list(&self, user: &str, pass: &str, mailbox: &str) -> Vec<Vec<u8>> {
        let mut s = self.login(user, pass).await;
        timed(&format!("FETCH {user}/{mailbox}"), async {
            let mb = s.examine(mailbox).await?;
            let mut messages = Vec::new();
            if mb.exists > 0 {
                let fetches: Vec<_> = s
                    .uid_fetch("1:*", "BODY.PEEK[]")
                    .await?
                    .try_collect()
                    .await?;
                let mut with_uid: Vec<(u32, Vec<u8>)> = fetches
                    .iter()
                    .map(|f| (f.uid.unwrap_or(0), f.body().unwrap_or_default().to_vec()))
                    .collect();
                with_uid.sort_by_key(|(uid, _)| *uid);
                messages = with_uid.into_iter().map(|(_, body)| body).collect();
            }
            s.logout().await?;
            Ok(messages)
        })
        .await
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn login_over<T>(stream: T, user: &str, pass: &str) -> Result<Session<T>, BoxError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut client = async_imap::Client::new(stream);
    client
        .read_response()
        .await?
        .ok_or("connection closed before the greeting")?;
    client.login(user, pass).await.map_err(|(e, _)| e.into())
}

async fn timed<T>(what: &str, f: impl std::future::Future<Output = Result<T, BoxError>>) -> T {
    match tokio::time::timeout(IMAP_TIMEOUT, f).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(_) => panic!("{what}: timed out after {IMAP_TIMEOUT:?}"),
    }
}

/// Every process below `pid` (from `/proc`).
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        if let Some(Ok(ppid)) = after.split_whitespace().nth(1).map(str::parse::<u32>) {
            parents.push((child, ppid));
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

/// Whether `pid` is (still) a Dovecot process, so a recycled pid is never signalled.
fn is_dovecot(pid: u32) -> bool {
    fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"dovecot/"))
}

fn signal_if_dovecot(pid: u32, signal: libc::c_int) {
    if is_dovecot(pid) {
        // SAFETY: signalling a process this harness's Dovecot started, checked just above.
        unsafe { libc::kill(pid as libc::pid_t, signal) };
    }
}

fn find_dovecot() -> PathBuf {
    let sbin = PathBuf::from("/usr/sbin/dovecot");
    if sbin.exists() {
        sbin
    } else {
        "dovecot".into()
    }
}
