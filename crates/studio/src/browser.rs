//! `$SYNCSTUDIO_BROWSER`: when set, a command run with the authorization URL
//! instead of the system browser (tests play the browser this way). The CLI
//! and the desktop app each open the system browser their own way otherwise.

use std::process::{Command, Stdio};

pub const BROWSER_VARIABLE: &str = "SYNCSTUDIO_BROWSER";

/// Runs `$SYNCSTUDIO_BROWSER URL` when the variable is set; None when not.
/// The caller may wait on the child to learn whether it failed.
pub fn open_with_override(url: &str) -> Option<std::io::Result<std::process::Child>> {
    let cmd = std::env::var(BROWSER_VARIABLE).ok()?;
    if cmd.trim().is_empty() {
        return None;
    }
    Some(
        Command::new("sh")
            .arg("-c")
            .arg(format!("{cmd} \"$1\""))
            .arg("sh")
            .arg(url)
            .stdin(Stdio::null())
            .spawn(),
    )
}
