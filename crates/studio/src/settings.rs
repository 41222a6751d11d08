//! What the user sets once: the default API version for new connections and
//! the port of the built-in playground org. The data and log folders are
//! shown, not stored: `SYNCSTUDIO_HOME` picks them.

use crate::Studio;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

pub const DEFAULT_PLAYGROUND_PORT: u16 = 7878;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Settings {
    pub data_folder: String,
    pub log_folder: String,
    /// `62.0`; none means the newest the org offers.
    pub default_api_version: Option<String>,
    pub playground_port: u16,
}

/// The fields a user can change.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SettingsChange {
    pub default_api_version: Option<String>,
    pub playground_port: u16,
}

/// `62.0` or `62`: a Salesforce API version, as `62.0`.
pub fn parse_api_version(text: &str) -> Result<String> {
    let t = text.trim().trim_start_matches(['v', 'V']);
    let major = t.strip_suffix(".0").unwrap_or(t);
    match major.parse::<u32>() {
        Ok(n) if (20..=99).contains(&n) => Ok(format!("{n}.0")),
        _ => Err(Error::Invalid(format!(
            "{text:?} is not an API version; write it like 62.0"
        ))),
    }
}

impl Studio {
    pub fn log_folder(&self) -> std::path::PathBuf {
        self.home().join("logs")
    }

    pub fn settings(&self) -> Result<Settings> {
        let port = match self.store.setting("playground_port")? {
            Some(p) => p.parse().unwrap_or(DEFAULT_PLAYGROUND_PORT),
            None => DEFAULT_PLAYGROUND_PORT,
        };
        Ok(Settings {
            data_folder: self.home().display().to_string(),
            log_folder: self.log_folder().display().to_string(),
            default_api_version: self.store.setting("default_api_version")?,
            playground_port: port,
        })
    }

    pub fn save_settings(&self, change: SettingsChange) -> Result<Settings> {
        let version = match change.default_api_version.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(parse_api_version(v)?),
        };
        if change.playground_port < 1024 {
            return Err(Error::Invalid(format!(
                "port {} needs privileges; pick one from 1024 to 65535",
                change.playground_port
            )));
        }
        self.store
            .set_setting("default_api_version", version.as_deref())?;
        self.store
            .set_setting("playground_port", Some(&change.playground_port.to_string()))?;
        self.settings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_are_normalised_or_refused() {
        assert_eq!(parse_api_version("62").unwrap(), "62.0");
        assert_eq!(parse_api_version(" v61.0 ").unwrap(), "61.0");
        assert!(parse_api_version("62.5").is_err());
        assert!(parse_api_version("latest").is_err());
    }

    #[test]
    fn settings_survive_a_restart() {
        let dir = std::env::temp_dir().join(format!("studio-settings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let studio = Studio::open(&dir).unwrap();
            assert_eq!(studio.settings().unwrap().default_api_version, None);
            studio
                .save_settings(SettingsChange {
                    default_api_version: Some("60".into()),
                    playground_port: 9999,
                })
                .unwrap();
            assert!(
                studio
                    .save_settings(SettingsChange {
                        default_api_version: None,
                        playground_port: 80,
                    })
                    .is_err()
            );
        }
        let studio = Studio::open(&dir).unwrap();
        let s = studio.settings().unwrap();
        assert_eq!(s.default_api_version.as_deref(), Some("60.0"));
        assert_eq!(s.playground_port, 9999);
        assert!(s.log_folder.ends_with("logs"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
