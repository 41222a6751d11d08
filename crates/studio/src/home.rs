//! The data folder: `SYNCSTUDIO_HOME`, or the platform's app-data folder.

use std::path::PathBuf;

pub fn home() -> PathBuf {
    match std::env::var_os("SYNCSTUDIO_HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h),
        _ => dirs::data_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("sync-studio"),
    }
}
