//! Logging: `tracing` to stderr, filtered by `LOKET_LOG` (or `RUST_LOG`), default `info`.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = std::env::var("LOKET_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,lopdf=error".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
