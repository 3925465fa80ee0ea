//! A long-running `loket` child (`run`, `serve`) that never outlives its test.
//!
//! A daemon left running after a failed assertion keeps the test binary's stdout open, and
//! the suite then waits on it until CI's time runs out instead of reporting the failure. So:
//! stderr goes to a log file (quoted in failures), stop and drop wait a bounded time and then
//! kill, and the kernel signals the daemon if the test thread dies first.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TestApp;

/// How long a daemon may take to finish its steps after SIGTERM.
const STOP_WAIT: Duration = Duration::from_secs(60);

pub struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// `loket <args…>` with this app's config, logging at `info` to `<dir>/<args[0]>.log`.
    pub fn start(app: &TestApp, args: &[&str]) -> Daemon {
        Self::start_with(app, args, |_| {})
    }

    /// [`Daemon::start`] with the command adjusted first (environment, more arguments).
    pub fn start_with(app: &TestApp, args: &[&str], edit: impl FnOnce(&mut Command)) -> Daemon {
        let name = args.first().copied().unwrap_or("loket");
        let mut log = app.dir.path().join(format!("{name}.log"));
        let mut n = 1;
        while log.exists() {
            n += 1;
            log = app.dir.path().join(format!("{name}-{n}.log"));
        }
        let file = std::fs::File::create(&log).expect("create the daemon's log");
        let mut cmd = app.command();
        cmd.args(args)
            .env("LOKET_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        edit(&mut cmd);
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start loket");
        Daemon { child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until `url` answers 200 (20 s at most; the log is quoted otherwise).
    pub async fn wait_for(&self, url: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::get(url).await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{url} did not answer; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Send `signal` (SIGHUP to reload, SIGSTOP to pause, …).
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// SIGTERM, then its exit code (None: killed by a signal). Panics, with the log, when it
    /// has not stopped within a minute.
    pub fn stop(mut self) -> Option<i32> {
        self.signal(libc::SIGCONT);
        self.signal(libc::SIGTERM);
        match self.wait_up_to(STOP_WAIT) {
            Some(code) => code,
            None => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "loket did not stop within {STOP_WAIT:?} of SIGTERM; log:\n{}",
                    self.log()
                );
            }
        }
    }

    /// Killed at once (SIGKILL), as a crash or a power cut would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The exit code once the daemon has exited within `limit` (outer None: still running).
    pub fn wait_up_to(&mut self, limit: Duration) -> Option<Option<i32>> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code());
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        self.signal(libc::SIGCONT);
        self.signal(libc::SIGTERM);
        if self.wait_up_to(Duration::from_secs(10)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
