//! Shows the user the authorization URL: `$SYNCSTUDIO_BROWSER` when set (a
//! command run with the URL; tests play the browser this way), the system
//! browser otherwise, or just the URL on stdout with `--no-browser`.

use std::io::Write;
use std::process::{Command, Stdio};

pub fn opener(no_browser: bool) -> impl FnOnce(&str) -> salesforce::Result<()> {
    move |url: &str| {
        if no_browser {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{url}")
                .and_then(|_| out.flush())
                .map_err(|e| salesforce::Error::Invalid(e.to_string()))?;
            return Ok(());
        }
        let spawned = studio::browser::open_with_override(url)
            .unwrap_or_else(|| system_browser(url).map(|_| ()));
        match spawned {
            Ok(_) => {
                eprintln!("Opened the browser to grant access. If nothing opened, visit:\n{url}");
                Ok(())
            }
            Err(e) => {
                eprintln!("Could not open a browser ({e}). Open this URL to grant access:\n{url}");
                Ok(())
            }
        }
    }
}

fn system_browser(url: &str) -> std::io::Result<std::process::Child> {
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
