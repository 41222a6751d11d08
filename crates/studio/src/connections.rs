//! Connections: sign in (browser, client credentials or a pasted refresh
//! token), keep the tokens in the keychain and the rest in SQLite, test,
//! and remove (revoking at Salesforce first).

use crate::Studio;
use crate::error::{Error, Result};
use crate::secrets::{self, Secret};
use crate::store::ConnectionRow;
use salesforce::{App, Client, Config, Environment, Loopback, Tokens};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// The client crate's result, for callers (the desktop shell) that do not
/// depend on it directly.
pub type ClientResult<T> = salesforce::Result<T>;

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

/// The desktop app's "New connection" form, as typed.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionForm {
    pub name: String,
    /// `production`, `sandbox` or a My Domain URL.
    pub environment: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub callback_port: u16,
}

impl TryFrom<ConnectionForm> for NewConnection {
    type Error = Error;

    fn try_from(form: ConnectionForm) -> Result<NewConnection> {
        let secret = form.client_secret.filter(|s| !s.trim().is_empty());
        Ok(NewConnection {
            name: form.name,
            environment: Environment::parse(&form.environment)?,
            client_id: form.client_id.trim().to_string(),
            client_secret: secret.map(|s| s.trim().to_string()),
            callback_port: form.callback_port,
            api_version: None,
            daily_cap: None,
        })
    }
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

/// A connection's name as saved: trimmed, not empty, no control
/// characters (they would garble every list and log line).
pub fn connection_name(typed: &str) -> Result<String> {
    let name = typed.trim();
    if name.is_empty() {
        return Err(Error::Invalid("a connection needs a name".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "the connection name {name:?} contains control characters; use letters, digits, spaces and punctuation"
        )));
    }
    if name.chars().count() > 80 {
        return Err(Error::Invalid(
            "a connection name can be at most 80 characters".into(),
        ));
    }
    Ok(name.to_string())
}

/// What `remove_connection` could do at Salesforce.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Removal {
    /// Why the tokens could not be revoked at Salesforce, when they could
    /// not: they were deleted here all the same, but may still work there.
    pub revoke_failed: Option<String>,
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
        let name = connection_name(&new.name)?;
        if new.daily_cap == Some(0) {
            return Err(Error::Invalid(
                "a daily cap of 0 would stop every call; give at least 1, or leave the cap out"
                    .into(),
            ));
        }
        if new.client_id.trim().is_empty() {
            return Err(Error::Invalid(
                "a connection needs a consumer key (client id)".into(),
            ));
        }
        // Checked here for the CLI and the app alike: a privileged port would
        // only fail once the browser had opened, and a bad version on every call.
        if new.callback_port < 1024 {
            return Err(Error::Invalid(format!(
                "callback port {} needs privileges; use the port in the connected app's callback URL ({DEFAULT_CALLBACK_PORT} by default)",
                new.callback_port
            )));
        }
        let api_version = match new.api_version.as_deref() {
            Some(v) => Some(crate::settings::parse_api_version(v)?),
            None => self.settings()?.default_api_version,
        };
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
        let tokens = self
            .sign_in(&login_url, &app, new.callback_port, sign_in, open)
            .await?;
        let mut row = ConnectionRow {
            id: random_id(),
            name,
            login_url,
            client_id: new.client_id,
            callback_port: new.callback_port,
            api_version,
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
        self.save_sign_in(&mut row, tokens, new.client_secret)
            .await?;
        if let Err(e) = self.store.insert(&row) {
            let _ = secrets::delete(&row.id);
            return Err(e);
        }
        self.keep_reported_usage(&row);
        tracing::info!(connection = %row.name, org = ?row.org_id, "connection added");
        Ok(row)
    }

    /// Gets tokens the chosen way. A browser sign-in ends early when the
    /// user cancels it (`cancel_sign_in`), freeing the callback port.
    async fn sign_in(
        &self,
        login_url: &str,
        app: &App,
        callback_port: u16,
        sign_in: SignIn,
        open: impl FnOnce(&str) -> salesforce::Result<()>,
    ) -> Result<Tokens> {
        Ok(match sign_in {
            SignIn::Browser { timeout } => {
                let opts = Loopback {
                    port: callback_port,
                    timeout,
                    ..Default::default()
                };
                let grant = salesforce::auth::grant_access(login_url, app, &opts, open);
                tokio::select! {
                    tokens = grant => tokens?,
                    _ = self.sign_in_cancel.notified() => return Err(Error::Cancelled),
                }
            }
            SignIn::ClientCredentials => {
                salesforce::auth::client_credentials(login_url, app).await?
            }
            SignIn::RefreshToken(refresh) => {
                // The instance is learned from the refresh answer.
                salesforce::auth::refresh(login_url, app, refresh.trim(), login_url).await?
            }
        })
    }

    /// Ends a browser sign-in in progress, if any.
    pub fn cancel_sign_in(&self) {
        self.sign_in_cancel.notify_waiters();
    }

    /// Signs a saved connection in again (after a revoked or expired
    /// refresh token) and marks it connected.
    pub async fn grant_again(
        &self,
        name: &str,
        sign_in: SignIn,
        open: impl FnOnce(&str) -> salesforce::Result<()>,
    ) -> Result<ConnectionRow> {
        secrets::check_available()?;
        let mut row = self.store.by_name(name)?;
        let client_secret = secrets::load(&row.id)?.and_then(|s| s.client_secret);
        let app = App {
            client_id: row.client_id.clone(),
            client_secret: client_secret.clone(),
        };
        let tokens = self
            .sign_in(&row.login_url, &app, row.callback_port, sign_in, open)
            .await?;
        self.save_sign_in(&mut row, tokens, client_secret).await?;
        self.store.update(&row)?;
        self.keep_reported_usage(&row);
        tracing::info!(connection = %row.name, "connection signed in again");
        Ok(row)
    }

    /// Keeps fresh tokens for a saved row and fills its user and org.
    pub(crate) async fn save_sign_in(
        &self,
        row: &mut ConnectionRow,
        tokens: Tokens,
        client_secret: Option<String>,
    ) -> Result<()> {
        let client =
            Client::connect(self.config(row, client_secret.clone()), tokens.clone()).await?;
        if row.api_version.is_some()
            && let Err(e) = client.check_version().await
        {
            // Nothing is saved: give the fresh sign-in back.
            let token = tokens
                .refresh_token
                .as_deref()
                .unwrap_or(&tokens.access_token);
            let _ = salesforce::auth::revoke(&row.login_url, token).await;
            return Err(e.into());
        }
        self.describe_user(row, &client).await;
        secrets::save(
            &row.id,
            &Secret {
                access_token: Some(tokens.access_token),
                refresh_token: tokens.refresh_token,
                client_secret,
            },
        )?;
        row.status = "connected".into();
        row.status_message = None;
        self.cache_client(&row.name, None);
        Ok(())
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
        // The list shows today's API use from the start: ask when no answer
        // has carried Sforce-Limit-Info yet.
        if client.api_usage().1 == 0 {
            let _ = client.limits().await;
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
        if let Some(client) = self.cached_client(&row.name) {
            return Ok((row, client));
        }
        let secret = secrets::load(&row.id)?.ok_or_else(|| Error::NeedsGrant {
            connection: row.name.clone(),
            reason: "no saved sign-in for this connection".into(),
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
        let client = Client::new(cfg.clone(), tokens);
        if let Some((used, limit)) = self.store.recent_usage(&row.id)? {
            client.seed_usage(used, limit);
        }
        // Unless the connection pins a version, ask the org for its newest
        // one (a single call, under the cap like any other).
        if cfg.api_version.is_none()
            && let Err(e) = client.adopt_newest_version().await
        {
            return Err(self.failure(&row, e));
        }
        self.cache_client(&row.name, Some(client.clone()));
        Ok((row, client))
    }

    /// Runs `call` with a connection's client; a sign-in that no longer
    /// works marks the connection `needs_grant`.
    pub(crate) async fn with_client<T, F>(
        &self,
        connection: &str,
        call: impl FnOnce(salesforce::Client) -> F,
    ) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>>,
    {
        let (row, client) = self.client(connection).await?;
        let result = call(client.clone()).await;
        self.keep_usage(&row, &client);
        match result {
            Err(Error::Salesforce(e @ salesforce::Error::NeedsGrant(_))) => {
                Err(self.failure(&row, e))
            }
            other => other,
        }
    }

    /// Saves the API use a sign-in just learned, for the next run's cap.
    fn keep_reported_usage(&self, row: &ConnectionRow) {
        if let (Some(used), Some(limit)) = (row.api_used, row.api_limit)
            && let Err(e) = self.store.record_usage(&row.id, used, limit)
        {
            tracing::warn!(connection = %row.name, "could not save the API use: {e}");
        }
    }

    /// Saves the API use the org last reported, for the next run's cap.
    fn keep_usage(&self, row: &ConnectionRow, client: &Client) {
        let (used, limit) = client.api_usage();
        if limit > 0
            && let Err(e) = self.store.record_usage(&row.id, used, limit)
        {
            tracing::warn!(connection = %row.name, "could not save the API use: {e}");
        }
    }

    /// Notes a failure on the connection, and names the connection in a
    /// sign-in that no longer works.
    fn failure(&self, row: &ConnectionRow, e: salesforce::Error) -> Error {
        self.note_failure(row, &e);
        match e {
            salesforce::Error::NeedsGrant(reason) => Error::NeedsGrant {
                connection: row.name.clone(),
                reason,
            },
            other => other.into(),
        }
    }

    /// Records what a failure means for the connection's status.
    pub fn note_failure(&self, row: &ConnectionRow, e: &salesforce::Error) {
        if matches!(e, salesforce::Error::NeedsGrant(_)) {
            self.cache_client(&row.name, None);
        }
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
        let answer = client.limits().await;
        self.keep_usage(&row, &client);
        match answer {
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
            Err(e) => Err(self.failure(&row, e)),
        }
    }

    /// Revokes the tokens at Salesforce, deletes them from the keychain and
    /// forgets the connection. When Salesforce cannot be reached the local
    /// copy goes all the same, and the answer says the tokens may still work.
    pub async fn remove_connection(&self, name: &str) -> Result<Removal> {
        let row = self.store.by_name(name)?;
        let mut revoke_failed = None;
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
                    revoke_failed.get_or_insert_with(|| e.to_string());
                }
            }
        }
        secrets::delete(&row.id)?;
        self.store.delete(&row.id)?;
        self.cache_client(&row.name, None);
        tracing::info!(connection = %row.name, "connection removed");
        Ok(Removal { revoke_failed })
    }
}
