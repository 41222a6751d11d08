//! Logs for both front ends: appended to a file in the log folder, at
//! `info` unless `SYNCSTUDIO_LOG` says otherwise, and on stderr only when
//! asked (so a command's stderr stays one line: the error and the next
//! step). Tokens are never logged.

use std::io::IsTerminal;
use std::path::Path;
use tracing_subscriber::prelude::*;

pub const FILTER_VARIABLE: &str = "SYNCSTUDIO_LOG";

/// Whether, and how much, the log also goes to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    Off,
    /// At this filter (`info`, `debug`, or `SYNCSTUDIO_LOG`'s).
    On(&'static str),
}

impl Stderr {
    /// `-v` shows info, `-vv` and more debug; `SYNCSTUDIO_LOG` alone also
    /// turns stderr on, at its own filter.
    pub fn from_verbosity(verbose: u8) -> Stderr {
        match verbose {
            0 if std::env::var_os(FILTER_VARIABLE).is_some() => Stderr::On("info"),
            0 => Stderr::Off,
            1 => Stderr::On("info"),
            _ => Stderr::On("debug"),
        }
    }
}

fn filter(default: &str) -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_env(FILTER_VARIABLE).unwrap_or_else(|_| default.into())
}

/// Starts logging to `log_folder/file_name`, and to stderr as `stderr`
/// says. A folder that cannot be written is skipped rather than stopping
/// the program; then the log goes to stderr, so it is not lost.
pub fn init(log_folder: &Path, file_name: &str, stderr: Stderr) {
    let file = std::fs::create_dir_all(log_folder)
        .and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log_folder.join(file_name))
        })
        .ok();
    let stderr = match (stderr, &file) {
        (Stderr::Off, None) => Stderr::On("info"),
        (s, _) => s,
    };
    let file = file.map(|f| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::sync::Mutex::new(f))
            .with_ansi(false)
            .with_filter(filter("info"))
    });
    let stderr = match stderr {
        Stderr::Off => None,
        Stderr::On(level) => Some(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(false)
                .with_filter(filter(level)),
        ),
    };
    let _ = tracing_subscriber::registry()
        .with(file)
        .with(stderr)
        .try_init();
}
