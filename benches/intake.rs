//! Benchmark: drain N generated text-only emails from Dovecot (filed and acknowledged into the
//! SMTP sink) with `loket run --once`, next to a bare IMAP fetch of the same messages in the same
//! run. Prints messages per second and loket's peak memory (max RSS of the child process).
//!
//! `cargo bench --bench intake` (sizes from `BENCH_SIZES`, default `1000,3000`: memory should
//! not grow with the mailbox).

#[path = "../tests/app/mod.rs"]
mod app;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use futures::TryStreamExt;

fn main() {
    // `cargo test --all-targets` runs bench targets too: only `cargo bench` (which passes
    // `--bench`) does the real thing.
    if !std::env::args().any(|a| a == "--bench") {
        println!("intake benchmark: run with `cargo bench --bench intake`");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000,3000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "{:>6} {:>14} {:>14} {:>8} {:>14}",
        "msgs", "bare fetch/s", "loket/s", "ratio", "loket max RSS"
    );
    for n in sizes {
        rt.block_on(bench(n));
    }
}

async fn bench(n: usize) {
    let app = app::TestApp::spawn(app::Db::Sqlite).await.unwrap();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut session = support::dovecot().login(&app.user, &app.pass).await;
    for i in 0..n {
        let from = format!("pemohon{i}.{tag}@example.com");
        let body = format!(
            "Dengan hormat,\n\nSaya mengajukan permohonan izin reklame nomor {i} untuk toko kami di Jl. Raya {i}.\n\
             Terlampir berkas persyaratan menyusul.\n\nHormat saya,\nPemohon {i}\n"
        );
        let raw = app::text_mail(&from, &format!("Permohonan izin reklame {i}"), &body, "");
        session.append("INBOX", None, None, &raw).await.unwrap();
    }

    // Bare fetch: every message body, in batches of 50, as loket fetches.
    let started = Instant::now();
    session.select("INBOX").await.unwrap();
    let mut fetched = 0;
    let mut first = 1;
    while first <= n {
        let last = (first + 49).min(n);
        let msgs: Vec<_> = session
            .fetch(format!("{first}:{last}"), "(UID BODY.PEEK[])")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        fetched += msgs.iter().filter(|m| m.body().is_some()).count();
        first = last + 1;
    }
    let bare = started.elapsed();
    assert_eq!(fetched, n);
    session.logout().await.ok();

    // loket: fetch, file, classify, acknowledge, move.
    let started = Instant::now();
    let log =
        std::fs::File::create(std::env::var("BENCH_LOG").unwrap_or_else(|_| "/dev/null".into()))
            .unwrap();
    let child = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_LOG", "info")
        .stderr(log)
        .spawn()
        .unwrap();
    let (status, max_rss_kb) = wait_with_rusage(child);
    assert!(status, "loket run --once succeeded");
    let loket = started.elapsed();
    let acked = count_acks(&tag, n).await;
    assert_eq!(acked, n, "every message acknowledged");
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "{n:>6} {:>14.0} {:>14.0} {:>8.2} {:>11} MB",
        rate(bare),
        rate(loket),
        rate(loket) / rate(bare),
        max_rss_kb / 1024
    );
}

/// Wait for a child and read its peak resident memory.
fn wait_with_rusage(child: std::process::Child) -> (bool, i64) {
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    (
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        usage.ru_maxrss,
    )
}

async fn count_acks(tag: &str, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let count = support::smtp()
            .messages()
            .iter()
            .filter(|m| String::from_utf8_lossy(m).contains(tag))
            .count();
        if count >= n || Instant::now() > deadline {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
