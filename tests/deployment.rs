//! The systemd units in `deploy/` as an operator installs them: they load without warnings,
//! their sandbox scores well in `systemd-analyze security`, what the sandbox forbids does not
//! stop loket's own work (OCR with write-xor-execute memory), and each unit's own `ExecStart=`
//! line starts loket (PID 1 here is not systemd, so the command is run as the unit would run
//! it, not the unit itself), `ExecReload=`'s SIGHUP reloads the rules and SIGTERM stops it.
//!
//! `systemd-analyze` comes with Debian's `systemd` package; without it the unit checks say so
//! and pass (they need no running systemd: `verify` and `security --offline=yes` read files).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The highest overall exposure `systemd-analyze security` may give a unit (0 = fully
/// sandboxed, 10 = not at all; systemd calls below 2 "OK"). The units score 1.1 with
/// systemd 252; the score is rounded, so [`ACCEPTED_GAPS`] is checked too.
const MAX_EXPOSURE: f64 = 1.2;

/// The only checks of `systemd-analyze security` the units may fail, and why: a mail worker
/// and a desk must reach IMAP, SMTP, PostgreSQL and their clients on any address over TCP and
/// PostgreSQL's local socket; they run in the host's root directory (tesseract, poppler and
/// their data come from the system's packages); PrivateDevices leaves the real-time clock
/// readable; the umask is 0027, so a backup operator in group `loket` can read the state.
/// Removing any other hardening line makes a check fail that is not listed here.
const ACCEPTED_GAPS: &[&str] = &[
    "RootDirectoryOrRootImage",
    "RestrictAddressFamilies_AF_UNIX",
    "RestrictAddressFamilies_AF_INET_INET6",
    "PrivateNetwork",
    "DeviceAllow",
    "IPAddressDeny",
    "UMask",
];

/// Unit file name in `deploy/` and the unit name to check (templates by an instance).
const UNITS: &[(&str, &str)] = &[
    ("loket.service", "loket.service"),
    ("loket-serve.service", "loket-serve.service"),
    ("loket@.service", "loket@pasuruan.service"),
    ("loket-serve@.service", "loket-serve@pasuruan.service"),
];

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn systemd_analyze() -> Option<&'static str> {
    let found = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED: systemd-analyze not found (apt-get install systemd)");
    }
    found.then_some("systemd-analyze")
}

/// The units with `/usr/local/bin/loket` replaced by the binary under test, in a temp dir
/// (`verify` checks that ExecStart is executable).
fn installed_units() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (file, _) in UNITS {
        let text = std::fs::read_to_string(deploy().join(file)).unwrap();
        let text = text.replace("/usr/local/bin/loket", env!("CARGO_BIN_EXE_loket"));
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    dir
}

#[test]
fn every_unit_passes_systemd_analyze_verify_without_a_warning() {
    let Some(analyze) = systemd_analyze() else {
        return;
    };
    let dir = installed_units();
    for (_, unit) in UNITS {
        let out = Command::new(analyze)
            .arg("verify")
            .arg(dir.path().join(unit))
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{unit}: {said}");
        // Unknown or misspelt directives are only warnings (and ignored): none may appear.
        assert!(said.trim().is_empty(), "{unit}: {said}");
    }
}

#[test]
fn every_unit_is_sandboxed_to_an_exposure_of_at_most_1_2_with_only_the_accepted_gaps() {
    let Some(analyze) = systemd_analyze() else {
        return;
    };
    let dir = installed_units();
    for (_, unit) in UNITS {
        let text = security(analyze, &dir.path().join(unit), "--json=off");
        let score: f64 = text
            .lines()
            .find_map(|l| {
                l.split_once("Overall exposure level for ")?
                    .1
                    .split_once(": ")
            })
            .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{unit}: no overall exposure in\n{text}"));
        eprintln!("{unit}: exposure {score}");
        assert!(score <= MAX_EXPOSURE, "{unit} exposure {score}:\n{text}");

        let checks: Vec<serde_json::Value> =
            serde_json::from_str(&security(analyze, &dir.path().join(unit), "--json=short"))
                .unwrap();
        let failed: Vec<&str> = checks
            .iter()
            .filter(|c| c["set"] == false && !c["exposure"].is_null())
            .filter_map(|c| c["json_field"].as_str())
            .filter(|f| !ACCEPTED_GAPS.contains(f))
            .collect();
        assert!(
            failed.is_empty(),
            "{unit} is not hardened against: {failed:?}"
        );
    }
}

fn security(analyze: &str, unit: &Path, json: &str) -> String {
    let out = Command::new(analyze)
        .args(["security", "--offline=yes", "--no-pager", json])
        .arg(unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}: {text}{}",
        unit.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn the_units_say_truthfully_what_sighup_does() {
    for (file, _) in UNITS {
        let text = std::fs::read_to_string(deploy().join(file)).unwrap();
        assert!(
            !text.to_lowercase().contains("reloads the config"),
            "{file}"
        );
        if file.contains("serve") {
            // `serve` does not handle SIGHUP: a reload would stop it.
            assert!(!text.contains("ExecReload="), "{file}");
        } else {
            assert!(
                text.contains("ExecReload=/bin/kill -HUP $MAINPID"),
                "{file}"
            );
            assert!(text.contains("RULES only"), "{file}");
        }
    }
}

/// `prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)` (Linux 6.3+) is the kernel's own form of
/// MemoryDenyWriteExecute=: no mapping may become writable and executable, inherited by every
/// child. With PR_SET_NO_NEW_PRIVS as NoNewPrivileges= sets it.
fn sandboxed(program: &str) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    // SAFETY: only async-signal-safe prctl calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(65 /* PR_SET_MDWE */, 1, 0, 0, 0) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

#[test]
fn ocr_workers_read_a_scan_with_write_xor_execute_memory_as_the_unit_enforces() {
    // The kernel must refuse W+X memory in the sandbox, else this test proves nothing.
    match sandboxed("python3")
        .args([
            "-c",
            "import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ|mmap.PROT_WRITE|mmap.PROT_EXEC)",
        ])
        .output()
    {
        Ok(out) => assert!(!out.status.success(), "W+X memory was allowed"),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            eprintln!("SKIPPED: this kernel has no PR_SET_MDWE (Linux 6.3+)");
            return;
        }
        Err(e) => panic!("python3 in the sandbox: {e}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = dir.path().join("loket.toml");
    std::fs::write(
        &config,
        format!(
            "[office]\ncode = \"PSR\"\nname = \"DPMPTSP Kabupaten Pasuruan\"\n\
             [database]\nurl = \"sqlite://{d}/loket.db\"\n[storage]\ndir = \"{d}/blobs\"\n\
             [spool]\ndir = \"{d}/spool\"\n[rules]\ndir = \"{rules}\"\n\
             [notify]\ntemplates_dir = \"{templates}\"\n",
            d = dir.path().display(),
            rules = repo.join("rules").display(),
            templates = repo.join("templates").display(),
        ),
    )
    .unwrap();
    let out = sandboxed(env!("CARGO_BIN_EXE_loket"))
        .arg("--config")
        .arg(&config)
        .args(["rules", "explain"])
        .arg(repo.join("fixtures/scans/form_ccitt.pdf"))
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Text only OCR can have found: the scan has no text layer.
    assert!(stdout.contains("SURAT KETERANGAN DOMISILI"), "{stdout}");
}

/// The `ExecStart=` command line of `file` for instance `instance` (`%i`), split into words,
/// and its `Environment=` settings.
fn exec_start(file: &str, instance: &str) -> (Vec<String>, Vec<(String, String)>) {
    let text = std::fs::read_to_string(deploy().join(file)).unwrap();
    let mut argv = Vec::new();
    let mut env = Vec::new();
    for line in text.lines().map(|l| l.replace("%i", instance)) {
        if let Some(cmd) = line.strip_prefix("ExecStart=") {
            argv = cmd.split_whitespace().map(String::from).collect();
        } else if let Some(kv) = line.strip_prefix("Environment=") {
            let (k, v) = kv.split_once('=').unwrap();
            env.push((k.to_string(), v.to_string()));
        }
    }
    assert!(!argv.is_empty(), "{file} has an ExecStart=");
    (argv, env)
}

/// One HTTP/1.0 GET on loopback: the status line, or None while nothing answers.
fn http_status(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    answer.lines().next().map(String::from)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Does this kernel have PR_SET_MDWE (what `sandboxed` sets)?
fn has_mdwe() -> bool {
    sandboxed("true").status().is_ok()
}

/// Each unit's own `ExecStart=` line (only the binary and the config path are this test's)
/// starts loket with the unit's environment, under NoNewPrivileges and write-xor-execute
/// memory as the unit sets them, in a working directory like the unit's: `run` answers
/// `/healthz`, `serve` its login page; SIGTERM (systemd's stop) ends it with status 0.
#[test]
fn every_units_exec_start_starts_loket_sighup_reloads_rules_and_sigterm_stops_it() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mdwe = has_mdwe();
    for (file, unit) in UNITS {
        let instance = unit
            .split_once('@')
            .map(|(_, rest)| rest.trim_end_matches(".service"))
            .unwrap_or("");
        let (argv, env) = exec_start(file, instance);
        let config_name = if instance.is_empty() {
            "loket"
        } else {
            instance
        };
        assert_eq!(argv[0], "/usr/local/bin/loket", "{file}");
        assert_eq!(
            argv[1..3],
            [
                "--config".to_string(),
                format!("/etc/loket/{config_name}.toml")
            ],
            "{file}"
        );
        let state = tempfile::tempdir().unwrap();
        let (web, metrics) = (free_port(), free_port());
        let config = state.path().join("loket.toml");
        std::fs::write(
            &config,
            format!(
                "[office]\ncode = \"PSR\"\nname = \"DPMPTSP Kabupaten Pasuruan\"\n\
                 [database]\nurl = \"sqlite://{d}/loket.db\"\n[storage]\ndir = \"{d}/blobs\"\n\
                 [spool]\ndir = \"{d}/spool\"\n[rules]\ndir = \"{rules}\"\n\
                 [notify]\ntemplates_dir = \"{templates}\"\n\
                 [web]\nlisten = \"127.0.0.1:{web}\"\n[metrics]\nlisten = \"127.0.0.1:{metrics}\"\n",
                d = state.path().display(),
                rules = repo.join("rules").display(),
                templates = repo.join("templates").display(),
            ),
        )
        .unwrap();
        let program = env!("CARGO_BIN_EXE_loket");
        let mut cmd = if mdwe {
            sandboxed(program)
        } else {
            Command::new(program)
        };
        cmd.arg("--config")
            .arg(&config)
            .args(&argv[3..])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("LOKET_LOG", "info")
            .current_dir(state.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(state.path().join("stderr.log")).unwrap());
        let mut child = cmd.spawn().unwrap();
        let (port, path) = match argv[3].as_str() {
            "serve" => (web, "/login"),
            _ => (metrics, "/healthz"),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let log = || std::fs::read_to_string(state.path().join("stderr.log")).unwrap_or_default();
        loop {
            if let Some(status) = http_status(port, path) {
                assert!(status.contains(" 200 "), "{file}: {status}: {}", log());
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "{file}: {argv:?} exited: {}",
                log()
            );
            assert!(std::time::Instant::now() < deadline, "{file}: {}", log());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let signal = |sig| {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as libc::pid_t, sig) };
        };
        if argv[3] == "run" {
            // ExecReload=/bin/kill -HUP $MAINPID
            signal(libc::SIGHUP);
            while !log().contains("rules reloaded") {
                assert!(std::time::Instant::now() < deadline, "{file}: {}", log());
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            assert!(http_status(port, path).is_some_and(|s| s.contains(" 200 ")));
        }
        signal(libc::SIGTERM);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{file}: {}", log());
    }
}
