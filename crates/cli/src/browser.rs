//! Shows the user the authorization URL: `$SYNCSTUDIO_BROWSER` when set (a
//! command run with the URL; tests play the browser this way), the system
//! browser otherwise, or just the URL on stdout with `--no-browser`. A
//! browser that cannot start, or whose command fails, is reported at once
//! with the URL to open by hand; the sign-in keeps waiting for it.

use crate::output::note;
use std::io::Write;
use std::process::{Child, Command, Stdio};

pub fn opener(no_browser: bool) -> impl FnOnce(&str) -> salesforce::Result<()> {
    move |url: &str| {
        if no_browser {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{url}")
                .and_then(|_| out.flush())
                .map_err(|e| salesforce::Error::Local(format!("cannot write the URL: {e}")))?;
            return Ok(());
        }
        let spawned =
            studio::browser::open_with_override(url).unwrap_or_else(|| system_browser(url));
        match spawned {
            Ok(child) => {
                note(format!(
                    "Opening the browser to grant access. If nothing opens, visit:\n{url}"
                ));
                report_failure(child, url.to_string());
            }
            Err(e) => note(format!(
                "syncstudio: could not start a browser ({e}). Open this URL to grant access:\n{url}"
            )),
        }
        Ok(())
    }
}

/// Watches the browser command: a failing one (no browser installed, a
/// broken `$SYNCSTUDIO_BROWSER`) is told as soon as it exits.
fn report_failure(mut child: Child, url: String) {
    std::thread::spawn(move || {
        if let Ok(status) = child.wait()
            && !status.success()
        {
            tracing::warn!(%status, "the browser command failed");
            note(format!(
                "syncstudio: the browser command failed ({status}). Open this URL to grant access; the sign-in is still waiting:\n{url}"
            ));
        }
    });
}

fn system_browser(url: &str) -> std::io::Result<Child> {
    #[cfg(target_os = "macos")]
    let mut c = Command::new("open");
    #[cfg(target_os = "windows")]
    let mut c = {
        let mut c = Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    };
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let mut c = Command::new("xdg-open");
    c.arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}
