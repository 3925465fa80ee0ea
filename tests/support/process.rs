//! Child processes that live exactly as long as the test process.
//!
//! libtest runs tests on short-lived threads and never drops statics, so servers are spawned
//! from one dedicated thread that never exits, with `PR_SET_PDEATHSIG` so the kernel signals
//! them when the test process dies however it dies (the signal fires when the *spawning
//! thread* exits, hence the dedicated thread). On a normal exit an `atexit` hook stops them
//! politely, waits for them and removes the temp dirs.

use std::io::{self, Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::{mpsc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

struct Registry {
    children: Vec<(Child, libc::c_int)>,
    /// Servers whose own children outlive them (chromedriver's browsers): their descendants are
    /// killed before the server is stopped.
    trees: Vec<u32>,
    dirs: Vec<PathBuf>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REG: OnceLock<Mutex<Registry>> = OnceLock::new();
    REG.get_or_init(|| {
        // SAFETY: registering a plain extern "C" fn that never unwinds.
        unsafe { libc::atexit(cleanup_at_exit) };
        Mutex::new(Registry {
            children: Vec::new(),
            trees: Vec::new(),
            dirs: Vec::new(),
        })
    })
    .lock()
    .unwrap_or_else(|e| e.into_inner())
}

fn spawner() -> MutexGuard<'static, mpsc::Sender<Job>> {
    static TX: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("support-spawner".into())
            .spawn(move || rx.into_iter().for_each(|job| job()))
            .expect("spawn the support-spawner thread");
        Mutex::new(tx)
    })
    .lock()
    .unwrap_or_else(|e| e.into_inner())
}

/// Spawns `cmd` as a server that gets `death_signal` when the test process dies (SIGTERM for
/// most, SIGINT for PostgreSQL's fast shutdown). Returns its pid.
pub fn spawn_server(mut cmd: Command, death_signal: libc::c_int) -> io::Result<u32> {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, death_signal as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1); // the test process died before prctl took effect
            }
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    drop(registry()); // make sure the atexit hook is in place before anything runs
    spawner()
        .send(Box::new(move || {
            let _ = tx.send(cmd.spawn());
        }))
        .expect("support-spawner thread is gone");
    let child = rx.recv().expect("support-spawner thread is gone")?;
    let pid = child.id();
    registry().children.push((child, death_signal));
    Ok(pid)
}

/// The exit status of a server that has already exited, if it has.
pub fn exited(pid: u32) -> Option<ExitStatus> {
    let mut reg = registry();
    let (child, _) = reg.children.iter_mut().find(|(c, _)| c.id() == pid)?;
    child.try_wait().ok().flatten()
}

/// Marks server `pid` as one whose children do not die with it (chromedriver leaves its
/// browsers running): stopping it, or the end of the test process, first SIGKILLs every process
/// descended from it. A test process that is SIGKILLed itself still leaves them behind.
pub fn kill_descendants_on_stop(pid: u32) {
    registry().trees.push(pid);
}

/// Stops one server with its death signal and reaps it (SIGKILL after 5 s).
pub fn stop_server(pid: u32) {
    let (entry, tree) = {
        let mut reg = registry();
        let i = reg.children.iter().position(|(c, _)| c.id() == pid);
        (
            i.map(|i| reg.children.swap_remove(i)),
            reg.trees.contains(&pid),
        )
    };
    if tree {
        kill_descendants(pid);
    }
    if let Some((mut child, sig)) = entry {
        // SAFETY: signalling our own child, which we have not reaped yet.
        unsafe { libc::kill(child.id() as libc::pid_t, sig) };
        reap(&mut child);
    }
}

fn reap(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Registers a directory to delete when the test process exits (unless `LOKET_TEST_KEEP` is
/// set, for debugging).
pub fn remove_at_exit(dir: &Path) {
    registry().dirs.push(dir.to_path_buf());
}

extern "C" fn cleanup_at_exit() {
    let (mut children, trees, dirs) = {
        let mut reg = registry();
        (
            std::mem::take(&mut reg.children),
            std::mem::take(&mut reg.trees),
            std::mem::take(&mut reg.dirs),
        )
    };
    for pid in trees {
        kill_descendants(pid);
    }
    for (child, sig) in &children {
        // SAFETY: signalling our own unreaped children.
        unsafe { libc::kill(child.id() as libc::pid_t, *sig) };
    }
    for (child, _) in &mut children {
        reap(child);
    }
    if std::env::var_os("LOKET_TEST_KEEP").is_some() {
        for d in &dirs {
            eprintln!("support: keeping {}", d.display());
        }
        return;
    }
    for d in &dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// SIGKILLs every live descendant of `root` (not `root` itself). Found by scanning
/// `/proc/*/stat` for parent pids, as `/proc/PID/task/TID/children` needs a kernel option these
/// machines lack.
fn kill_descendants(root: u32) {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
            Some((pid, ppid.parse().ok()?))
        })
        .collect();
    let mut tree = vec![root];
    let mut i = 0;
    while let Some(&parent) = tree.get(i) {
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    for &pid in &tree[1..] {
        // SAFETY: kill has no memory preconditions; these pids were alive a moment ago and are
        // descendants of a server we started.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    }
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`, failing early if the
/// server exits. The error carries the tail of the server's log.
pub fn wait_listening(name: &str, port: u16, pid: u32, log: &Path) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Some(status) = exited(pid) {
            return Err(format!(
                "{name} exited ({status}) before listening on {addr}; log {}:\n{}",
                log.display(),
                log_tail(log)
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{name} did not listen on {addr} within 20 s; log {}:\n{}",
                log.display(),
                log_tail(log)
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The last few KiB of a log file, for panic messages.
pub fn log_tail(path: &Path) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return format!("(cannot open {})", path.display());
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(4096)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}
