//! Garage, an S3-compatible distributed object store: one node on loopback with SQLite
//! metadata, one bucket and one access key, set up with Garage's own CLI as its quick start
//! does. Built once per machine by `deploy/install-garage.sh`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use object_store::aws::{AmazonS3, AmazonS3Builder};

use super::{free_port, process, random_hex, server_dir, HOST};

/// The bucket every test instance writes to (tests keep apart by prefix).
pub const BUCKET: &str = "loket-test";
/// Garage's `s3_region` here.
pub const REGION: &str = "garage";

#[derive(Debug)]
pub struct Garage {
    /// `http://127.0.0.1:PORT`, the S3 API.
    pub endpoint: String,
    pub s3_port: u16,
    pub rpc_port: u16,
    pub bucket: String,
    pub region: String,
    pub key_id: String,
    pub secret_key: String,
    pub dir: PathBuf,
    pub log_path: PathBuf,
    bin: PathBuf,
    pid: Mutex<Option<u32>>,
    next_prefix: AtomicUsize,
}

/// The Garage shared by all tests of this binary; `None` when Garage is not built here and
/// `LOKET_REQUIRE_GARAGE` is unset.
pub fn garage() -> Option<&'static Garage> {
    static GARAGE: OnceLock<Result<Option<Garage>, String>> = OnceLock::new();
    match GARAGE.get_or_init(|| Garage::start_new("garage")) {
        Ok(g) => g.as_ref(),
        Err(e) => panic!("{e}"),
    }
}

/// A Garage of the caller's own, which it may [`Garage::stop`] and [`Garage::start`] (for
/// "the object store was down" tests) without disturbing other tests; stopped at exit.
pub fn new_garage() -> Option<Garage> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!("garage-private-{}", N.fetch_add(1, Ordering::Relaxed));
    Garage::start_new(&name).unwrap_or_else(|e| panic!("{e}"))
}

impl Garage {
    fn start_new(name: &str) -> Result<Option<Garage>, String> {
        let bin = match find_binary() {
            Ok(bin) => bin,
            Err(why) if std::env::var_os("LOKET_REQUIRE_GARAGE").is_none() => {
                eprintln!(
                    "support: skipping object-store tests: {why} (run deploy/install-garage.sh; \
                     set LOKET_REQUIRE_GARAGE=1 to fail instead)"
                );
                return Ok(None);
            }
            Err(why) => return Err(format!("LOKET_REQUIRE_GARAGE is set but {why}")),
        };
        let dir = server_dir(name);
        let s3_port = free_port();
        let garage = Garage {
            endpoint: format!("http://{HOST}:{s3_port}"),
            s3_port,
            rpc_port: free_port(),
            bucket: BUCKET.to_string(),
            region: REGION.to_string(),
            key_id: String::new(),
            secret_key: String::new(),
            log_path: dir.join("garage.log"),
            dir,
            bin,
            pid: Mutex::new(None),
            next_prefix: AtomicUsize::new(0),
        };
        garage.write_config()?;
        garage.spawn()?;
        garage.set_up().map(Some)
    }

    fn conf_path(&self) -> PathBuf {
        self.dir.join("garage.toml")
    }

    fn write_config(&self) -> Result<(), String> {
        let conf = format!(
            "metadata_dir = \"{meta}\"\n\
             data_dir = \"{data}\"\n\
             db_engine = \"sqlite\"\n\
             replication_factor = 1\n\
             rpc_bind_addr = \"{HOST}:{rpc}\"\n\
             rpc_public_addr = \"{HOST}:{rpc}\"\n\
             rpc_secret = \"{secret}\"\n\
             [s3_api]\n\
             s3_region = \"{REGION}\"\n\
             api_bind_addr = \"{HOST}:{s3}\"\n",
            meta = self.dir.join("meta").display(),
            data = self.dir.join("data").display(),
            rpc = self.rpc_port,
            s3 = self.s3_port,
            secret = random_hex(32),
        );
        let path = self.conf_path();
        fs::write(&path, conf).map_err(|e| format!("write {}: {e}", path.display()))?;
        // Garage refuses a config holding rpc_secret that others can read.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("chmod {}: {e}", path.display()))
    }

    fn spawn(&self) -> Result<(), String> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| format!("open {}: {e}", self.log_path.display()))?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-c")
            .arg(self.conf_path())
            .arg("server")
            .env("RUST_LOG", "garage=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        let pid = process::spawn_server(cmd, libc::SIGTERM)
            .map_err(|e| format!("start {}: {e}", self.bin.display()))?;
        *self.pid.lock().unwrap_or_else(|e| e.into_inner()) = Some(pid);
        process::wait_listening("garage", self.s3_port, pid, &self.log_path)
    }

    /// Layout, bucket and key, as in Garage's quick start.
    fn set_up(mut self) -> Result<Self, String> {
        let id = self.wait_node_id()?;
        self.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &id])?;
        self.cli(&["layout", "apply", "--version", "1"])?;
        self.cli(&["bucket", "create", BUCKET])?;
        let key = self.cli(&["key", "create", "loket-test-key"])?;
        self.key_id = field(&key, "Key ID:")?;
        self.secret_key = field(&key, "Secret key:")?;
        self.cli(&[
            "bucket",
            "allow",
            "--read",
            "--write",
            BUCKET,
            "--key",
            "loket-test-key",
        ])?;
        self.wait_serving()?;
        Ok(self)
    }

    /// The node id (`garage node id -q` prints `ID@ADDR`), once the node answers its CLI.
    fn wait_node_id(&self) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.cli(&["node", "id", "-q"]) {
                Ok(out) => {
                    let id = out.trim().split('@').next().unwrap_or("").to_string();
                    if !id.is_empty() {
                        return Ok(id);
                    }
                }
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => {}
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The S3 API answers for the bucket only once the new layout has reached it. Probed on a
    /// thread of its own: the caller may be inside a test's async runtime.
    fn wait_serving(&self) -> Result<(), String> {
        let store = self.object_store();
        let log = self.log_path.clone();
        std::thread::scope(|s| {
            s.spawn(move || probe_until_serving(&store, &log))
                .join()
                .unwrap_or_else(|_| Err("the garage probe thread panicked".into()))
        })
    }

    /// Runs the garage CLI against this node; its stdout, or an error with stderr.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.bin)
            .arg("-c")
            .arg(self.conf_path())
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("run {}: {e}", self.bin.display()))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "garage {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// A prefix no other test of this binary uses.
    pub fn new_prefix(&self, name: &str) -> String {
        format!(
            "{name}-{}-{}",
            self.next_prefix.fetch_add(1, Ordering::Relaxed),
            random_hex(3)
        )
    }

    /// `s3://BUCKET/PREFIX`, as `[storage] url` takes it.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    /// An S3 client on the bucket (path-style, plain http), with `prefix` left to the caller:
    /// what a test uses to look into the store behind loket's back.
    pub fn object_store(&self) -> AmazonS3 {
        let _ = rustls::crypto::ring::default_provider().install_default();
        AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_region(&self.region)
            .with_bucket_name(&self.bucket)
            .with_access_key_id(&self.key_id)
            .with_secret_access_key(&self.secret_key)
            .with_allow_http(true)
            .with_retry(object_store::RetryConfig {
                max_retries: 1,
                retry_timeout: Duration::from_secs(5),
                ..Default::default()
            })
            .build()
            .expect("an S3 client for the test Garage")
    }

    /// Stops the node (its data stays): the object store is down.
    pub fn stop(&self) {
        if let Some(pid) = self.pid.lock().unwrap_or_else(|e| e.into_inner()).take() {
            process::stop_server(pid);
        }
    }

    /// Starts a stopped node again on the same ports with the same data.
    pub fn start(&self) {
        if self.pid.lock().unwrap_or_else(|e| e.into_inner()).is_none() {
            self.spawn().unwrap_or_else(|e| panic!("{e}"));
            self.wait_serving().unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// PUTs a probe object until Garage takes it (20 s at most).
fn probe_until_serving(store: &AmazonS3, log: &Path) -> Result<(), String> {
    use object_store::ObjectStoreExt;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let probe = object_store::path::Path::from(".harness-probe");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match runtime.block_on(store.put(&probe, b"ok".to_vec().into())) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                return Err(format!(
                    "garage does not serve bucket {BUCKET} after 20 s: {e}\n{}",
                    process::log_tail(log)
                ))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The value after `label` on its line of the CLI's output.
fn field(out: &str, label: &str) -> Result<String, String> {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("no {label:?} in garage output:\n{out}"))
}

/// `$LOKET_GARAGE_BIN`, else where deploy/install-garage.sh puts it, else `garage` on PATH.
fn find_binary() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("LOKET_GARAGE_BIN") {
        let bin = PathBuf::from(bin);
        return if bin.exists() {
            Ok(bin)
        } else {
            Err(format!("LOKET_GARAGE_BIN {} does not exist", bin.display()))
        };
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let cached = home.map(|h| h.join(".cache/loket-tools/garage/bin/garage"));
    if let Some(bin) = cached.filter(|b| b.exists()) {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("garage"))
        .find(|b| Path::new(b).exists())
        .ok_or_else(|| "garage is not built here (~/.cache/loket-tools/garage/bin/garage)".into())
}
