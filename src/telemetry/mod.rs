//! Telemetry: logs (`tracing` to stderr) and metrics ([`metrics`], served by [`exporter`]).
//!
//! Logs are filtered by `LOKET_LOG` (or `RUST_LOG`), default `info`. Logging starts as text
//! before the config is read (so config errors and early problems are seen), and switches to
//! `[log] format` once it is ([`apply`]). Colour codes only when stderr is a terminal: log files
//! and journald get plain text.

pub mod exporter;
pub mod metrics;

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, reload, EnvFilter, Layer, Registry};

use crate::config::LogFormat;

type Filtered = tracing_subscriber::layer::Layered<EnvFilter, Registry>;
type Output = Box<dyn Layer<Filtered> + Send + Sync>;

/// Swaps the output layer when the config names another format.
static OUTPUT: OnceLock<reload::Handle<Output, Filtered>> = OnceLock::new();

/// Start logging as text (once per process; later calls do nothing).
pub fn init() {
    let filter = std::env::var("LOKET_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,lopdf=error".into());
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let (output, handle) = reload::Layer::new(output(LogFormat::Text));
    if tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .try_init()
        .is_ok()
    {
        let _ = OUTPUT.set(handle);
    }
}

/// Use `format` from now on (`[log] format` of the loaded config).
pub fn apply(format: LogFormat) {
    if let Some(handle) = OUTPUT.get() {
        // Fails only if the subscriber is gone (process ending): nothing left to log then.
        let _ = handle.reload(output(format));
    }
}

fn output(format: LogFormat) -> Output {
    let ansi = std::io::stderr().is_terminal();
    match format {
        LogFormat::Text => fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .with_target(false)
            .boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    }
}
