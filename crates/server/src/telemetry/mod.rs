//! Logging. `PORTCULLIS_LOG` takes a `RUST_LOG`-style filter (default `info`).

mod batch_writer;
mod json_line;
pub mod request_id;

use batch_writer::BatchWriter;
pub use batch_writer::LogGuard;

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub const LOG_ENV: &str = "PORTCULLIS_LOG";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log shippers (`serve`).
    Json,
    /// For people at a terminal (`dev` and the one-shot commands).
    Pretty,
}

/// Installs the global subscriber. Does nothing if one is already installed (tests start many
/// apps in one process). Logs go to stderr so that command output on stdout stays clean; the
/// JSON log through a batching writer (`batch_writer`), whose pending lines are written when
/// the returned guard is dropped.
pub fn init(format: LogFormat) -> LogGuard {
    let (filter, bad_filter) = match std::env::var(LOG_ENV) {
        Ok(spec) => match EnvFilter::try_new(&spec) {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new("info"), Some(e.to_string())),
        },
        Err(_) => (EnvFilter::new("info"), None),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let mut guard = LogGuard::none();
    let result = match format {
        LogFormat::Json => {
            let (writer, g) = BatchWriter::start();
            guard = g;
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                        .event_format(json_line::JsonLine)
                        .with_writer(writer),
                )
                .try_init()
        }
        LogFormat::Pretty => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    if result.is_err() {
        // Another subscriber is installed (tests start many apps in one process): this
        // writer is not used, so its thread is stopped.
        return LogGuard::none();
    }
    if let Some(e) = bad_filter {
        tracing::warn!(error = %e, "{LOG_ENV} is not a valid filter; using `info`");
    }
    guard
}
