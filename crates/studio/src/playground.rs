//! The built-in playground org (the emulator) run inside the app, and added
//! as a connection in one click: a newcomer sees data without an org of
//! their own.

use crate::Studio;
use crate::connections::{DEFAULT_CALLBACK_PORT, NewConnection, SignIn};
use crate::error::{Error, Result};
use crate::store::ConnectionRow;
use salesforce::{Environment, Tokens};
use serde::Serialize;
use sf_emulator::org::{ADMIN_USERNAME, PLAYGROUND_PASSWORD};

/// The connection the one-click button makes.
pub const PLAYGROUND_CONNECTION: &str = "Playground";
/// Any client id works on the playground; this one names the app in its log.
const PLAYGROUND_CLIENT_ID: &str = "sync-studio-desktop";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlaygroundStatus {
    pub running: bool,
    /// `http://127.0.0.1:PORT` while running.
    pub url: Option<String>,
    pub username: String,
    pub password: String,
    /// Where the org keeps its records between runs.
    pub data_folder: String,
}

impl Studio {
    fn playground_folder(&self) -> std::path::PathBuf {
        self.home().join("playground")
    }

    fn playground_status_of(&self, url: Option<String>) -> PlaygroundStatus {
        PlaygroundStatus {
            running: url.is_some(),
            url,
            username: ADMIN_USERNAME.into(),
            password: PLAYGROUND_PASSWORD.into(),
            data_folder: self.playground_folder().display().to_string(),
        }
    }

    pub async fn playground_status(&self) -> PlaygroundStatus {
        let org = self.playground.lock().await;
        self.playground_status_of(org.as_ref().map(|o| o.base_url().to_string()))
    }

    /// Starts the org on the port from Settings (a running one is left as it
    /// is). Its records are kept in the data folder across restarts.
    pub async fn start_playground(&self) -> Result<PlaygroundStatus> {
        let mut org = self.playground.lock().await;
        if org.is_none() {
            let port = self.settings()?.playground_port;
            let config = sf_emulator::Config {
                port,
                data_dir: Some(self.playground_folder()),
                demo_data: true,
                ..Default::default()
            };
            let started = sf_emulator::Emulator::start(config)
                .await
                .map_err(|e| match e {
                    in_use @ sf_emulator::EmulatorError::InUse { .. } => {
                        Error::PlaygroundInUse(in_use.to_string())
                    }
                    other => Error::Playground(format!("cannot start on port {port}: {other}")),
                })?;
            tracing::info!(url = started.base_url(), "playground org started");
            *org = Some(started);
        }
        Ok(self.playground_status_of(org.as_ref().map(|o| o.base_url().to_string())))
    }

    /// Stops the org, saving its records.
    pub async fn stop_playground(&self) -> Result<PlaygroundStatus> {
        let mut org = self.playground.lock().await;
        if let Some(running) = org.take() {
            running
                .shutdown()
                .await
                .map_err(|e| Error::Playground(format!("saving its records: {e}")))?;
            tracing::info!("playground org stopped");
        }
        Ok(self.playground_status_of(None))
    }

    /// Starts the org if needed and signs the `Playground` connection in
    /// (adding it the first time) without the browser.
    pub async fn connect_playground(&self) -> Result<ConnectionRow> {
        let status = self.start_playground().await?;
        let url = status.url.expect("started above");
        let answer = {
            let org = self.playground.lock().await;
            let org = org
                .as_ref()
                .ok_or_else(|| Error::Playground("it stopped while connecting".into()))?;
            org.issue_token(PLAYGROUND_CLIENT_ID)
        };
        let tokens: Tokens = serde_json::from_value(answer)?;
        let refresh = tokens.refresh_token.clone().unwrap_or_default();
        match self.store.by_name(PLAYGROUND_CONNECTION) {
            Ok(mut row) => {
                // The port may have changed in Settings since it was added.
                row.login_url = url;
                self.save_sign_in(&mut row, tokens, None).await?;
                self.store.update(&row)?;
                Ok(row)
            }
            Err(Error::UnknownConnection(_)) => {
                let new = NewConnection {
                    name: PLAYGROUND_CONNECTION.into(),
                    environment: Environment::parse(&url)?,
                    client_id: PLAYGROUND_CLIENT_ID.into(),
                    client_secret: None,
                    callback_port: DEFAULT_CALLBACK_PORT,
                    api_version: None,
                    daily_cap: None,
                };
                self.add_connection(new, SignIn::RefreshToken(refresh), |_| Ok(()))
                    .await
            }
            Err(e) => Err(e),
        }
    }
}
