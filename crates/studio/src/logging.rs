//! Logs for both front ends: to stderr and appended to a file in the log
//! folder, at `info` unless `SYNCSTUDIO_LOG` says otherwise. Tokens are
//! never logged.

use std::io::IsTerminal;
use std::path::Path;
use tracing_subscriber::prelude::*;

/// Starts logging to stderr and to `log_folder/file_name`. A folder that
/// cannot be written leaves stderr alone logging, rather than stopping the
/// program.
pub fn init(log_folder: &Path, file_name: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SYNCSTUDIO_LOG")
        .unwrap_or_else(|_| "info".into());
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let file = std::fs::create_dir_all(log_folder)
        .and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log_folder.join(file_name))
        })
        .ok()
        .map(|f| {
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(f))
                .with_ansi(false)
        });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .try_init();
}
