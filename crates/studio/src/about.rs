//! The About box and its **Copy diagnostics**: versions, the OS, the
//! folders, and the last lines of the logs with anything secret-looking
//! blanked, for a support request a user can paste as is.

use crate::Studio;
use regex::Regex;
use serde::Serialize;
use std::path::Path;
use std::sync::LazyLock;

/// How many of the newest log lines the diagnostics carry.
pub const LOG_LINES: usize = 200;

/// What the shell knows and the engine does not.
#[derive(Debug, Clone)]
pub struct ShellFacts {
    pub app_version: String,
    pub tauri_version: String,
    /// WebKitGTK on Linux, WebView2 on Windows, WKWebView on macOS.
    pub webview_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct About {
    pub version: String,
    pub data_folder: String,
    pub log_folder: String,
    pub os: String,
    pub webview_version: String,
}

/// The OS as people name it (`Debian GNU/Linux 12 (bookworm)`), with the
/// kernel and architecture.
pub fn os_description() -> String {
    let name = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!(", kernel {}", k.trim()))
        .unwrap_or_default();
    format!("{name}{kernel}, {}", std::env::consts::ARCH)
}

// Tokens never reach the log, but a support text is pasted into places we
// do not control: blank whatever looks like a credential anyway.
static SECRETS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let r = |p: &str| Regex::new(p).expect("a valid pattern");
    vec![
        // Authorization headers.
        (
            r(r"(?i)\b(bearer|basic|oauth)\s+[A-Za-z0-9._~+/=!-]{16,}"),
            "$1 [hidden]",
        ),
        // key=value and "key": "value" for the usual secret names.
        (
            r(
                r#"(?i)\b((?:access|refresh|id)_token|client_secret|password|secret|code_verifier|code|sid|session_?id)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"#,
            ),
            "$1$2[hidden]",
        ),
        // Salesforce session ids: an org id, '!', a long opaque tail.
        (
            r(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}"),
            "[hidden session]",
        ),
        // JWTs.
        (
            r(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
            "[hidden token]",
        ),
    ]
});

/// A log line with anything secret-looking blanked.
pub fn redact(line: &str) -> String {
    let mut out = line.to_string();
    for (pattern, with) in SECRETS.iter() {
        out = pattern.replace_all(&out, *with).into_owned();
    }
    out
}

/// The last `n` lines of a log file, oldest first.
fn last_lines(path: &Path, n: usize) -> Vec<String> {
    let Ok(text) = std::fs::read(path) else {
        return vec![];
    };
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| redact(l))
        .collect()
}

impl Studio {
    pub fn about(&self, shell: &ShellFacts) -> About {
        About {
            version: shell.app_version.clone(),
            data_folder: self.home().display().to_string(),
            log_folder: self.log_folder().display().to_string(),
            os: os_description(),
            webview_version: shell.webview_version.clone(),
        }
    }

    /// The text **Copy diagnostics** puts on the clipboard.
    pub fn diagnostics(&self, shell: &ShellFacts) -> String {
        let about = self.about(shell);
        let mut text = format!(
            "Sync Studio {}\nTauri {}\nWebView {}\nOS {}\nData folder {}\nLog folder {}\n",
            about.version,
            shell.tauri_version,
            about.webview_version,
            about.os,
            about.data_folder,
            about.log_folder,
        );
        let connections = self.connections().map(|c| c.len()).unwrap_or(0);
        let listed = self.flows().unwrap_or_default();
        let flows = listed.len();
        let enabled = listed.iter().filter(|f| f.enabled).count();
        text.push_str(&format!(
            "Connections {connections}, flows {flows} ({enabled} enabled)\n"
        ));
        // The desktop app's log, then the CLI's (both write this folder).
        for file in ["sync-studio.log", "syncstudio.log"] {
            let lines = last_lines(&self.log_folder().join(file), LOG_LINES);
            if lines.is_empty() {
                continue;
            }
            text.push_str(&format!("\n--- last {} lines of {file}\n", lines.len()));
            for l in lines {
                text.push_str(&l);
                text.push('\n');
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_log_line_are_blanked_and_the_rest_kept() {
        let cases = [
            (
                "GET /x Authorization: Bearer 00Dxx0000001gPL!AQ4AQFm.abcdefghijklmnopqrstuv",
                "GET /x Authorization: Bearer [hidden]",
            ),
            (
                r#"{"access_token":"abc.def","instance_url":"https://x"}"#,
                r#"{"access_token":"[hidden]","instance_url":"https://x"}"#,
            ),
            (
                "redirect ?code=aPrx12&state=s1 refresh_token=5Aep861",
                "redirect ?code=[hidden]&state=s1 refresh_token=[hidden]",
            ),
            (
                "session 00D5e000000abcdE!ARgAQHl2xQ9yzabcdefghijklmnopq used",
                "session [hidden session] used",
            ),
            (
                "oauth callback received on port 1717",
                "oauth callback received on port 1717",
            ),
            (
                "run r1 took 5 records, 0 failed",
                "run r1 took 5 records, 0 failed",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(redact(line), want, "{line}");
        }
    }

    #[test]
    fn the_newest_lines_are_kept_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let text: String = (1..=250).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let lines = last_lines(&path, LOG_LINES);
        assert_eq!(lines.len(), 200);
        assert_eq!(lines[0], "line 51");
        assert_eq!(lines[199], "line 250");
        assert!(last_lines(&dir.path().join("none.log"), 5).is_empty());
    }
}
