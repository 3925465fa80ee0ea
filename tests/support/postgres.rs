//! PostgreSQL: a private cluster (initdb + postgres in the foreground) run as user `postgres`,
//! with durability turned off for speed.

use std::ffi::CString;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{process, random_hex, server_dir, HOST};

#[derive(Debug)]
pub struct Postgres {
    pub host: String,
    pub port: u16,
    /// Superuser name and password (scram-sha-256 over TCP).
    pub user: String,
    pub password: String,
    pub dir: PathBuf,
    pub log_path: PathBuf,
    bin: PathBuf,
    next_db: AtomicUsize,
}

/// The PostgreSQL cluster shared by all tests of this binary; `None` when PostgreSQL is not
/// installed and `LOKET_REQUIRE_PG` is unset.
pub fn postgres() -> Option<&'static Postgres> {
    static PG: OnceLock<Result<Option<Postgres>, String>> = OnceLock::new();
    match PG.get_or_init(Postgres::start) {
        Ok(pg) => pg.as_ref(),
        Err(e) => panic!("{e}"),
    }
}

impl Postgres {
    fn start() -> Result<Option<Postgres>, String> {
        let (bin, owner) = match find_installation() {
            Ok(found) => found,
            Err(why) if std::env::var_os("LOKET_REQUIRE_PG").is_none() => {
                eprintln!("support: skipping PostgreSQL tests: {why} (set LOKET_REQUIRE_PG=1 to fail instead)");
                return Ok(None);
            }
            Err(why) => return Err(format!("LOKET_REQUIRE_PG is set but {why}")),
        };
        let dir = server_dir("postgres");
        let pg = Postgres {
            host: HOST.to_string(),
            port: super::free_port(),
            user: "postgres".to_string(),
            password: random_hex(12),
            log_path: dir.join("postgres.log"),
            dir,
            bin,
            next_db: AtomicUsize::new(0),
        };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&pg.dir, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", pg.dir.display()))?;
        }
        pg.initdb(owner)?;
        pg.spawn(owner)?;
        pg.wait_ready()?;
        Ok(Some(pg))
    }

    fn command(&self, program: &str, owner: Option<(u32, u32)>) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.current_dir(&self.dir)
            .stdin(Stdio::null())
            .env("LC_ALL", "C.UTF-8");
        if let Some((uid, gid)) = owner {
            // initdb and postgres refuse to run as root. Set directly (not via runuser, which
            // forks and would swallow the death signal).
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn initdb(&self, owner: Option<(u32, u32)>) -> Result<(), String> {
        let pwfile = self.dir.join("pwfile");
        fs::write(&pwfile, &self.password)
            .map_err(|e| format!("write {}: {e}", pwfile.display()))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
        }
        let out = self
            .command("initdb", owner)
            .arg("-D")
            .arg(self.dir.join("data"))
            .args([
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .map_err(|e| format!("run initdb: {e}"))?;
        let _ = fs::remove_file(&pwfile);
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    fn spawn(&self, owner: Option<(u32, u32)>) -> Result<(), String> {
        let log = fs::File::create(&self.log_path).map_err(|e| format!("create log: {e}"))?;
        let mut cmd = self.command("postgres", owner);
        cmd.arg("-D")
            .arg(self.dir.join("data"))
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=300",
            ])
            .args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        // SIGINT is PostgreSQL's "fast shutdown".
        let pid =
            process::spawn_server(cmd, libc::SIGINT).map_err(|e| format!("start postgres: {e}"))?;
        process::wait_listening("postgres", self.port, pid, &self.log_path)
    }

    /// The port opens before recovery finishes ("the database system is starting up").
    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.psql("postgres", "SELECT 1") {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!(
                        "postgres not ready after 20 s: {e}\n{}",
                        process::log_tail(&self.log_path)
                    ))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &self.host,
                "-U",
                &self.user,
            ])
            .args(["-p", &self.port.to_string(), "-d", db, "-c", sql])
            .env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("run psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Connection URL of database `db` as the superuser.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{}:{}@{}:{}/{db}",
            self.user, self.password, self.host, self.port
        )
    }

    /// A program of this PostgreSQL installation (`pg_dump`, `pg_restore`), same version as
    /// the server.
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// URL of the `postgres` maintenance database.
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    /// Runs the SQL file at `path` (a plain `pg_dump`, say) in the database at `url` with psql,
    /// stopping at the first error.
    pub fn restore(&self, url: &str, path: &Path) {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
            .arg(path)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run psql: {e}"));
        assert!(
            out.status.success(),
            "psql -f {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Creates a new, empty database with a unique name and returns its URL.
    pub fn new_database(&self) -> String {
        let name = format!(
            "loket_test_{}",
            self.next_db.fetch_add(1, Ordering::Relaxed)
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        self.url(&name)
    }
}

/// The bin dir of the newest PostgreSQL, and the (uid, gid) to run it as when we are root.
fn find_installation() -> Result<(PathBuf, Option<(u32, u32)>), String> {
    let bin = match std::env::var_os("LOKET_PG_BIN") {
        Some(dir) => PathBuf::from(dir),
        None => newest_debian_bin().ok_or(
            "no PostgreSQL in /usr/lib/postgresql/*/bin (deploy/install-deps.sh installs it)",
        )?,
    };
    for program in ["initdb", "postgres", "psql"] {
        if !bin.join(program).exists() {
            return Err(format!("{} not found", bin.join(program).display()));
        }
    }
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return Ok((bin, None));
    }
    let owner = lookup_user("postgres").ok_or("running as root and there is no user `postgres`")?;
    Ok((bin, Some(owner)))
}

fn newest_debian_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            Path::new(&bin)
                .join("postgres")
                .exists()
                .then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let name = CString::new(name).ok()?;
    // SAFETY: getpwnam returns a pointer into static storage or null; we copy the two ids out
    // immediately. Tests call this once, under a OnceLock.
    unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        (!pw.is_null()).then(|| ((*pw).pw_uid, (*pw).pw_gid))
    }
}
