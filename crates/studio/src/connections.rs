//! Connections: sign in (browser, client credentials or a pasted refresh
//! token), keep the tokens in the keychain and the rest in SQLite, test,
//! and remove (revoking at Salesforce first).

use crate::Studio;
use crate::error::{Error, Result};
use crate::secrets::{self, Secret};
use crate::store::ConnectionRow;
use salesforce::{App, Client, Config, Environment, Loopback, Tokens};
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_CALLBACK_PORT: u16 = 1717;

#[derive(Debug, Clone)]
pub struct NewConnection {
    pub name: String,
    pub environment: Environment,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub callback_port: u16,
    pub api_version: Option<String>,
    pub daily_cap: Option<u64>,
}

/// How a new connection signs in.
pub enum SignIn {
    /// Grant access in the browser (authorization code + PKCE).
    Browser { timeout: Duration },
    /// Consumer key and secret, no browser (My Domain orgs).
    ClientCredentials,
    /// A refresh token obtained elsewhere.
    RefreshToken(String),
}

fn random_id() -> String {
    (0..16)
        .map(|_| format!("{:x}", rand::random::<u8>() % 16))
        .collect()
}

impl Studio {
    fn config(&self, row: &ConnectionRow, client_secret: Option<String>) -> Config {
        let mut cfg = Config::new(
            row.login_url.clone(),
            App {
                client_id: row.client_id.clone(),
                client_secret,
            },
        );
        cfg.api_version = row.api_version.clone();
        cfg.daily_cap = row.daily_cap;
        cfg
    }

    /// Signs in and saves a new connection. `open` shows the user the
    /// authorization URL (the system browser, or a test playing one).
    pub async fn add_connection(
        &self,
        new: NewConnection,
        sign_in: SignIn,
        open: impl FnOnce(&str) -> salesforce::Result<()>,
    ) -> Result<ConnectionRow> {
        let name = new.name.trim().to_string();
        if name.is_empty() {
            return Err(Error::Invalid("a connection needs a name".into()));
        }
        if new.client_id.trim().is_empty() {
            return Err(Error::Invalid(
                "a connection needs a consumer key (client id)".into(),
            ));
        }
        if self.store.by_name(&name).is_ok() {
            return Err(Error::DuplicateConnection(name));
        }
        // Fail before the browser opens when there is nowhere to keep tokens.
        secrets::check_available()?;
        let login_url = new.environment.login_url();
        let app = App {
            client_id: new.client_id.clone(),
            client_secret: new.client_secret.clone(),
        };
        let tokens = match sign_in {
            SignIn::Browser { timeout } => {
                let opts = Loopback {
                    port: new.callback_port,
                    timeout,
                    ..Default::default()
                };
                salesforce::auth::grant_access(&login_url, &app, &opts, open).await?
            }
            SignIn::ClientCredentials => {
                salesforce::auth::client_credentials(&login_url, &app).await?
            }
            SignIn::RefreshToken(refresh) => {
                // The instance is learned from the refresh answer.
                salesforce::auth::refresh(&login_url, &app, refresh.trim(), &login_url).await?
            }
        };
        let mut row = ConnectionRow {
            id: random_id(),
            name,
            login_url,
            client_id: new.client_id,
            callback_port: new.callback_port,
            api_version: new.api_version,
            daily_cap: new.daily_cap,
            instance_url: Some(tokens.instance_url.clone()),
            username: None,
            org_id: None,
            user_id: None,
            status: "connected".into(),
            status_message: None,
            api_used: None,
            api_limit: None,
        };
        let client =
            Client::connect(self.config(&row, new.client_secret.clone()), tokens.clone()).await?;
        self.describe_user(&mut row, &client).await;
        secrets::save(
            &row.id,
            &Secret {
                access_token: Some(tokens.access_token),
                refresh_token: tokens.refresh_token,
                client_secret: new.client_secret,
            },
        )?;
        if let Err(e) = self.store.insert(&row) {
            let _ = secrets::delete(&row.id);
            return Err(e);
        }
        tracing::info!(connection = %row.name, org = ?row.org_id, "connection added");
        Ok(row)
    }

    /// Fills user, org and API use from the identity URL and the client.
    async fn describe_user(&self, row: &mut ConnectionRow, client: &Client) {
        let tokens = client.tokens();
        if let Some((org, user)) = tokens.ids() {
            row.org_id = Some(org);
            row.user_id = Some(user);
        }
        if let Some(id_url) = tokens.id_url.as_deref()
            && let Ok(Some(who)) = client
                .request(reqwest::Method::GET, id_url, &[], None)
                .await
        {
            row.username = who["username"].as_str().map(str::to_string);
        }
        let (used, limit) = client.api_usage();
        if limit > 0 {
            row.api_used = Some(used);
            row.api_limit = Some(limit);
        }
        row.instance_url = Some(tokens.instance_url);
    }

    pub fn connections(&self) -> Result<Vec<ConnectionRow>> {
        self.store.list()
    }

    pub fn connection(&self, name: &str) -> Result<ConnectionRow> {
        self.store.by_name(name)
    }

    /// A client for a saved connection; refreshed tokens go back to the
    /// keychain.
    pub async fn client(&self, name: &str) -> Result<(ConnectionRow, Client)> {
        let row = self.store.by_name(name)?;
        let secret = secrets::load(&row.id)?.ok_or_else(|| {
            Error::Salesforce(salesforce::Error::NeedsGrant(
                "no saved sign-in for this connection".into(),
            ))
        })?;
        let tokens = Tokens {
            access_token: secret.access_token.clone().unwrap_or_default(),
            refresh_token: secret.refresh_token.clone(),
            instance_url: row
                .instance_url
                .clone()
                .unwrap_or_else(|| row.login_url.clone()),
            id_url: None,
        };
        let mut cfg = self.config(&row, secret.client_secret.clone());
        let id = row.id.clone();
        let keep = secret.client_secret.clone();
        cfg.on_refresh = Some(Arc::new(move |t: &Tokens| {
            let s = Secret {
                access_token: Some(t.access_token.clone()),
                refresh_token: t.refresh_token.clone(),
                client_secret: keep.clone(),
            };
            if let Err(e) = secrets::save(&id, &s) {
                tracing::warn!("could not save refreshed tokens: {e}");
            }
        }));
        // Unless the connection pins a version, this asks the org for its
        // newest one (a single call).
        match Client::connect(cfg, tokens).await {
            Ok(client) => Ok((row, client)),
            Err(e) => {
                self.note_failure(&row, &e);
                Err(e.into())
            }
        }
    }

    /// Records what a failure means for the connection's status.
    pub fn note_failure(&self, row: &ConnectionRow, e: &salesforce::Error) {
        let mut r = row.clone();
        r.status = if matches!(e, salesforce::Error::NeedsGrant(_)) {
            "needs_grant".into()
        } else {
            "error".into()
        };
        r.status_message = Some(e.to_string());
        let _ = self.store.update(&r);
    }

    /// Checks a connection works: one `/limits` call.
    pub async fn test_connection(&self, name: &str) -> Result<ConnectionRow> {
        let (mut row, client) = self.client(name).await?;
        match client.limits().await {
            Ok(limits) => {
                row.status = "connected".into();
                row.status_message = None;
                let (used, limit) = client.api_usage();
                row.api_used = Some(used);
                row.api_limit = Some(limits["DailyApiRequests"]["Max"].as_u64().unwrap_or(limit));
                row.instance_url = Some(client.tokens().instance_url);
                self.store.update(&row)?;
                Ok(row)
            }
            Err(e) => {
                self.note_failure(&row, &e);
                Err(e.into())
            }
        }
    }

    /// Revokes the tokens at Salesforce, deletes them from the keychain and
    /// forgets the connection. A revoke that cannot reach Salesforce is
    /// reported in the log; the local copy goes all the same.
    pub async fn remove_connection(&self, name: &str) -> Result<()> {
        let row = self.store.by_name(name)?;
        if let Some(secret) = secrets::load(&row.id)? {
            for token in [
                secret.refresh_token.as_deref(),
                secret.access_token.as_deref(),
            ]
            .into_iter()
            .flatten()
            {
                if let Err(e) = salesforce::auth::revoke(&row.login_url, token).await {
                    tracing::warn!(connection = %row.name, "could not revoke at Salesforce: {e}");
                }
            }
        }
        secrets::delete(&row.id)?;
        self.store.delete(&row.id)?;
        tracing::info!(connection = %row.name, "connection removed");
        Ok(())
    }
}
