//! Benchmark: the officers' desk on a year of cases. Generates N cases (default 100,000) with
//! a few hundred words of Indonesian text each, spread over the departments and statuses of
//! `rules/`, files them through the filing repositories in big transactions (search index
//! triggers included) on SQLite and on PostgreSQL, then measures p50/p95 of
//! - over HTTP against the desk (`loket::desk` served on loopback, a bearer token): the queue
//!   page `GET /` and `GET /api/cases` for one department (newest 50), and a search `GET /?q=`
//!   for a word that is in about 1% of the cases' document text,
//! - the repositories underneath: `Store::list_cases` and `Store::search_cases` (also within a
//!   department, and a word in nearly every case: no target, the worst case of ranking),
//!
//! and prints them next to the targets (queue and API p95 < 50 ms, search p95 < 200 ms) with the
//! time generation took.
//!
//! `cargo bench --bench desk` (sizes from `BENCH_SIZES`, default `100000`; `BENCH_DB=sqlite`
//! or `postgres` for one database only). `cargo test
//! --all-targets` runs it too when `BENCH_SIZES` is set (deploy/test.sh sets a small size), as a
//! smoke test of the benchmark itself. Each measured call is a closure returning a future: swap
//! in HTTP requests against `loket serve` without touching the rest.

#[path = "../tests/support/mod.rs"]
mod support;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use loket::classify::Catalogue;
use loket::filing::bench_data::{self, Mix, SyntheticCase, WORD_IN_ONE_PERCENT};
use loket::filing::search::SearchQuery;
use loket::filing::views::CaseFilter;
use loket::filing::Store;

/// Cases per transaction while generating.
const BATCH: usize = 2000;
/// Measured runs per scenario (after a few unmeasured ones).
const RUNS: usize = 60;
const WARMUP: usize = 3;
const QUEUE_TARGET_MS: f64 = 50.0;
const SEARCH_TARGET_MS: f64 = 200.0;

fn main() {
    let asked =
        std::env::args().any(|a| a == "--bench") || std::env::var_os("BENCH_SIZES").is_some();
    if !asked {
        println!("desk benchmark: run with `cargo bench --bench desk`");
        return;
    }
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for n in sizes {
        rt.block_on(bench(n));
    }
}

async fn bench(n: usize) {
    let rules =
        Catalogue::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))
            .expect("rules load");
    let mix = Mix {
        permits: rules
            .permit_types()
            .map(|(id, _, dept)| (id.to_string(), dept.to_string()))
            .collect(),
        complaints: Some("pengaduan".into()),
        consultations: Some("informasi".into()),
    };
    let started = Instant::now();
    let cases = bench_data::generate(n, 9, &mix, loket::filing::now_ms());
    println!(
        "desk benchmark: {n} cases generated in memory in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:>7} {:>9} {:>11} {:<38} {:>8} {:>8} {:>8} {:>7} {:>6}",
        "cases", "db", "filed in", "scenario", "p50 ms", "p95 ms", "target", "rows", "ok"
    );

    let only = std::env::var("BENCH_DB").ok();
    let wanted = |db: &str| only.as_deref().is_none_or(|o| o == db);
    let dir = tempfile::tempdir_in(support::root_dir()).unwrap();
    if wanted("sqlite") {
        let sqlite = format!("sqlite://{}/desk.db", dir.path().display());
        run_on("sqlite", &sqlite, &cases).await;
    }
    if !wanted("postgres") {
        return;
    }
    match support::postgres() {
        Some(pg) => run_on("postgres", &pg.new_database(), &cases).await,
        None => println!(
            "{n:>7} {:>9} skipped: PostgreSQL is not installed",
            "postgres"
        ),
    }
}

/// File every case on one database, then measure each scenario there.
async fn run_on(db: &str, url: &str, cases: &[SyntheticCase]) {
    let store = Store::open(url, 4).await.expect("store opens");
    let started = Instant::now();
    for batch in cases.chunks(BATCH) {
        store
            .insert_synthetic("PSR", batch)
            .await
            .expect("cases filed");
    }
    store.analyze().await.expect("analyze");
    let filed = started.elapsed();
    let filed = format!("{:.1} s", filed.as_secs_f64());

    let desk = Desk::start(url).await;
    let mut all = http_scenarios(&desk);
    all.extend(scenarios(&store));
    for s in all {
        let (p50, p95, rows) = measure(&s.run).await;
        let (target, ok) = match s.target_ms {
            Some(t) => (format!("{t:.0}"), if p95 < t { "yes" } else { "NO" }),
            None => ("-".to_string(), ""),
        };
        println!(
            "{:>7} {db:>9} {filed:>11} {:<38} {p50:>8.1} {p95:>8.1} {target:>8} {rows:>7} {ok:>6}",
            cases.len(),
            s.name
        );
    }
    store.close().await;
    desk.stop();
}

/// The desk served in this process on a loopback port, with an admin's bearer token.
struct Desk {
    base: String,
    token: String,
    client: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Desk {
    async fn start(db_url: &str) -> Desk {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir_in(support::root_dir()).unwrap();
        let port = support::free_port();
        let cfg_path = dir.path().join("loket.toml");
        std::fs::write(
            &cfg_path,
            format!(
                "[office]\ncode = \"PSR\"\nname = \"DPMPTSP Bench\"\n[database]\nurl = \"{db_url}\"\n\
                 [storage]\ndir = \"{d}/blobs\"\n[rules]\ndir = \"{rules}\"\n[notify]\ntemplates_dir = \"{templates}\"\n\
                 [web]\nlisten = \"127.0.0.1:{port}\"\nsecure_cookies = false\n",
                d = dir.path().display(),
                rules = repo.join("rules").display(),
                templates = repo.join("templates").display(),
            ),
        )
        .unwrap();
        let cfg = loket::config::Config::load(&cfg_path).expect("bench config");
        let state = std::sync::Arc::new(loket::desk::desk(cfg).await.expect("desk starts"));
        let token = loket::desk::secrets::new_secret();
        let admin = state
            .store
            .add_user(&loket::filing::users::NewUser {
                username: "bench",
                name: None,
                email: None,
                role: loket::domain::Role::Admin,
                department: None,
                password_hash: "-",
            })
            .await
            .unwrap()
            .expect("bench user");
        state
            .store
            .add_token(admin, &loket::desk::secrets::hash_secret(&token))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(loket::desk::serve_on(listener, state, async {
            let _ = stopped.await;
        }));
        Desk {
            base: format!("http://127.0.0.1:{port}"),
            token,
            client: reqwest::Client::new(),
            stop,
            _dir: dir,
        }
    }

    /// GET a desk path; gives the body's length in bytes (asserting 200).
    async fn get(&self, path: &str) -> usize {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("desk answers");
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{path}");
        r.bytes().await.expect("body").len()
    }

    fn stop(self) {
        let _ = self.stop.send(());
    }
}

const DEPARTMENTS: [&str; 4] = ["pupr", "kesehatan", "usaha", "pengaduan"];

/// The desk over HTTP, as an officer's browser or a script uses it. Rows are response bytes.
fn http_scenarios(desk: &Desk) -> Vec<Scenario<'_>> {
    let department = |i: usize| DEPARTMENTS[i % DEPARTMENTS.len()];
    vec![
        Scenario {
            name: "HTTP GET / (queue page), department",
            target_ms: Some(QUEUE_TARGET_MS),
            run: Box::new(move |i| {
                Box::pin(async move { desk.get(&format!("/?department={}", department(i))).await })
            }),
        },
        Scenario {
            name: "HTTP GET /api/cases, department, 50",
            target_ms: Some(QUEUE_TARGET_MS),
            run: Box::new(move |i| {
                Box::pin(async move {
                    desk.get(&format!("/api/cases?department={}&limit=50", department(i)))
                        .await
                })
            }),
        },
        Scenario {
            name: "HTTP GET /?q= word in 1% of cases",
            target_ms: Some(SEARCH_TARGET_MS),
            run: Box::new(move |_| {
                Box::pin(async move { desk.get(&format!("/?q={WORD_IN_ONE_PERCENT}")).await })
            }),
        },
    ]
}

/// One measured call: returns how many rows it gave.
type Call<'a> = Box<dyn Fn(usize) -> Pin<Box<dyn Future<Output = usize> + 'a>> + 'a>;

struct Scenario<'a> {
    name: &'static str,
    target_ms: Option<f64>,
    run: Call<'a>,
}

/// What an officer does at the desk. Departments rotate between runs, so no run measures a
/// cache the previous one warmed for the same query.
fn scenarios(store: &Store) -> Vec<Scenario<'_>> {
    let department = |i: usize| DEPARTMENTS[i % DEPARTMENTS.len()].to_string();
    let search = move |text: &'static str, in_department: bool| -> Call<'_> {
        Box::new(move |i| {
            Box::pin(async move {
                let q = SearchQuery {
                    text: text.into(),
                    departments: in_department.then(|| vec![department(i)]),
                    limit: 50,
                    ..SearchQuery::default()
                };
                store.search_cases(&q).await.expect("search").len()
            })
        })
    };
    vec![
        Scenario {
            name: "queue: department, newest 50",
            target_ms: Some(QUEUE_TARGET_MS),
            run: Box::new(move |i| {
                Box::pin(async move {
                    let f = CaseFilter {
                        department: Some(department(i)),
                        limit: Some(50),
                        ..CaseFilter::default()
                    };
                    store.list_cases(&f).await.expect("list").len()
                })
            }),
        },
        Scenario {
            name: "search: word in 1% of cases",
            target_ms: Some(SEARCH_TARGET_MS),
            run: search(WORD_IN_ONE_PERCENT, false),
        },
        Scenario {
            name: "search: 1% word, one department",
            target_ms: Some(SEARCH_TARGET_MS),
            run: search(WORD_IN_ONE_PERCENT, true),
        },
        Scenario {
            name: "search: word in ~every case (info)",
            target_ms: None,
            run: search("izin", false),
        },
    ]
}

/// p50 and p95 in milliseconds over [`RUNS`] calls, and the rows of the last call.
async fn measure(call: &Call<'_>) -> (f64, f64, usize) {
    for i in 0..WARMUP {
        call(i).await;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for i in 0..RUNS {
        let started = Instant::now();
        rows = call(i).await;
        times.push(started.elapsed());
    }
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    (at(0.50), at(0.95), rows)
}
