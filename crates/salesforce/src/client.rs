//! The REST client. Every call goes through `execute`, which counts API use
//! from `Sforce-Limit-Info`, stops before the connection's daily cap,
//! refreshes an expired session once for all waiting callers, and retries
//! what is safe to retry with jittered exponential backoff.

use crate::auth::{self, App, Tokens};
use crate::error::{Error, Result};
use bytes::Bytes;
use futures::Stream;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The newest API version this client speaks.
pub const MAX_VERSION: &str = "62.0";

/// The longest request URI Salesforce takes (16,384 bytes); a REST query
/// carries its SOQL in the URI, so a longer one must go another way.
pub const MAX_URI_BYTES: usize = 16_384;
/// Room for the instance, the path and the version in a query's URI.
const QUERY_URI_OVERHEAD: usize = 512;

/// Refuses a SOQL text whose REST query URI would be too long for Salesforce.
pub fn check_query_length(soql: &str) -> Result<()> {
    let encoded: usize = url::form_urlencoded::byte_serialize(soql.as_bytes())
        .map(str::len)
        .sum();
    let limit = MAX_URI_BYTES - QUERY_URI_OVERHEAD;
    if encoded > limit {
        return Err(Error::QueryTooLong {
            length: soql.chars().count(),
            limit,
        });
    }
    Ok(())
}

/// Called with fresh tokens after a refresh, so they can be saved.
pub type TokenListener = Arc<dyn Fn(&Tokens) + Send + Sync>;

#[derive(Clone)]
pub struct Config {
    pub login_url: String,
    pub app: App,
    /// None: the newest the org offers, up to MAX_VERSION.
    pub api_version: Option<String>,
    /// Stop before this many API calls a day (as Salesforce counts them).
    pub daily_cap: Option<u64>,
    pub max_retries: u32,
    /// The first retry's delay; each next one doubles, with jitter.
    pub retry_base: Duration,
    pub on_refresh: Option<TokenListener>,
}

impl Config {
    pub fn new(login_url: impl Into<String>, app: App) -> Config {
        Config {
            login_url: login_url.into(),
            app,
            api_version: None,
            daily_cap: None,
            max_retries: 4,
            retry_base: Duration::from_millis(250),
            on_refresh: None,
        }
    }
}

/// Whether a request may be sent again when its outcome is unknown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Replay {
    /// Reads, updates, upserts and deletes: the same request twice leaves
    /// the same result.
    Safe,
    /// A create: sent again only when it surely did not arrive.
    Once(&'static str),
}

#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    cfg: Config,
    tokens: RwLock<Tokens>,
    refresh_gate: tokio::sync::Mutex<()>,
    version: RwLock<String>,
    used: AtomicU64,
    limit: AtomicU64,
    /// Calls sent and not yet answered: counted against the cap, so that
    /// parallel callers cannot all slip under it at once.
    in_flight: AtomicU64,
    /// Requests this client has sent (retries included): a run's API calls.
    sent: AtomicU64,
    describes: Mutex<HashMap<String, Arc<Value>>>,
}

/// A call counted against the daily cap until its answer (and the usage
/// it reports) is in.
struct CallSlot<'a>(&'a AtomicU64);

impl Drop for CallSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One page of a query answer.
#[derive(Debug, Clone)]
pub struct QueryPage {
    pub total_size: u64,
    pub records: Vec<Value>,
    pub next_records_url: Option<String>,
}

fn parse_error(status: u16, body: &[u8]) -> Error {
    if let Ok(Value::Array(list)) = serde_json::from_slice::<Value>(body)
        && let Some(first) = list.first()
    {
        return Error::Api {
            status,
            code: first["errorCode"].as_str().unwrap_or("UNKNOWN").to_string(),
            message: first["message"].as_str().unwrap_or("").to_string(),
            fields: first["fields"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        };
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(e) = v["error"].as_str()
    {
        return Error::OAuth {
            error: e.to_string(),
            description: v["error_description"].as_str().unwrap_or("").to_string(),
        };
    }
    Error::Api {
        status,
        code: format!("HTTP_{status}"),
        message: String::from_utf8_lossy(body).chars().take(300).collect(),
        fields: vec![],
    }
}

fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    r.headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(120)))
}

impl Client {
    /// A client for an existing session; `connect` also discovers the
    /// API version.
    pub fn new(cfg: Config, tokens: Tokens) -> Client {
        let version = cfg
            .api_version
            .clone()
            .unwrap_or_else(|| MAX_VERSION.to_string());
        Client {
            inner: Arc::new(Inner {
                http: crate::net::http_client(),
                cfg,
                tokens: RwLock::new(tokens),
                refresh_gate: tokio::sync::Mutex::new(()),
                version: RwLock::new(version),
                used: AtomicU64::new(0),
                limit: AtomicU64::new(0),
                in_flight: AtomicU64::new(0),
                sent: AtomicU64::new(0),
                describes: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub async fn connect(cfg: Config, tokens: Tokens) -> Result<Client> {
        let pinned = cfg.api_version.is_some();
        let c = Client::new(cfg, tokens);
        if !pinned {
            c.adopt_newest_version().await?;
        }
        Ok(c)
    }

    /// Speaks the newest version the org offers from now on.
    pub async fn adopt_newest_version(&self) -> Result<()> {
        let v = self.newest_version().await?;
        *self.inner.version.write().expect("lock") = v;
        Ok(())
    }

    /// The versions the org offers (`GET /services/data/`).
    pub async fn offered_versions(&self) -> Result<Vec<String>> {
        let list = self
            .request(Method::GET, "/services/data/", &[], None)
            .await?
            .unwrap_or(Value::Null);
        Ok(list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["version"].as_str().map(str::to_string))
            .collect())
    }

    /// Checks the org offers the version this client speaks (a pinned one
    /// may be older or newer than the org's).
    pub async fn check_version(&self) -> Result<()> {
        let version = self.version();
        let offered = self.offered_versions().await?;
        if offered.contains(&version) {
            return Ok(());
        }
        let offered = match (offered.first(), offered.last()) {
            (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
            (Some(a), _) => a.clone(),
            _ => "none".into(),
        };
        Err(Error::VersionUnavailable { version, offered })
    }

    /// The newest version the org offers, up to MAX_VERSION.
    pub async fn newest_version(&self) -> Result<String> {
        let list = self.offered_versions().await?;
        let max: f64 = MAX_VERSION.parse().expect("version");
        list.iter()
            .map(String::as_str)
            .filter(|v| v.parse::<f64>().is_ok_and(|n| n <= max))
            .max_by(|a, b| {
                a.parse::<f64>()
                    .unwrap_or(0.0)
                    .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
            })
            .map(str::to_string)
            .ok_or_else(|| {
                Error::Protocol("the org lists no API version this client speaks".into())
            })
    }

    pub fn version(&self) -> String {
        self.inner.version.read().expect("lock").clone()
    }

    /// The current tokens (after any refresh).
    pub fn tokens(&self) -> Tokens {
        self.inner.tokens.read().expect("lock").clone()
    }

    /// API calls used today and the org's daily allowance, as last reported.
    pub fn api_usage(&self) -> (u64, u64) {
        (
            self.inner.used.load(Ordering::Acquire),
            self.inner.limit.load(Ordering::Acquire),
        )
    }

    /// How many requests this client has sent, retries included.
    pub fn calls_sent(&self) -> u64 {
        self.inner.sent.load(Ordering::Acquire)
    }

    /// What an earlier run learned of today's use, so the cap holds from
    /// this client's first call rather than from its first answer.
    pub fn seed_usage(&self, used: u64, limit: u64) {
        self.inner.used.fetch_max(used, Ordering::AcqRel);
        let _ = self
            .inner
            .limit
            .compare_exchange(0, limit, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Takes a place under the daily cap for one call, or refuses.
    fn reserve_call(&self) -> Result<Option<CallSlot<'_>>> {
        let Some(cap) = self.inner.cfg.daily_cap else {
            return Ok(None);
        };
        let in_flight = &self.inner.in_flight;
        let mut pending = in_flight.load(Ordering::Acquire);
        loop {
            let used = self.inner.used.load(Ordering::Acquire);
            if used.saturating_add(pending) >= cap {
                return Err(Error::ApiCap {
                    used: used.min(cap),
                    cap,
                });
            }
            match in_flight.compare_exchange(
                pending,
                pending + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(Some(CallSlot(in_flight))),
                Err(now) => pending = now,
            }
        }
    }

    fn url(&self, path: &str) -> String {
        let instance = self.inner.tokens.read().expect("lock").instance_url.clone();
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else if path.starts_with('/') {
            format!("{instance}{path}")
        } else {
            format!("{instance}/services/data/v{}/{path}", self.version())
        }
    }

    fn note_usage(&self, r: &reqwest::Response) {
        let Some(info) = r
            .headers()
            .get("sforce-limit-info")
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        if let Some((used, limit)) = info
            .strip_prefix("api-usage=")
            .and_then(|u| u.split_once('/'))
            && let (Ok(used), Ok(limit)) = (used.parse(), limit.parse())
        {
            // Answers to parallel calls arrive in any order: keep the highest.
            self.inner.used.fetch_max(used, Ordering::AcqRel);
            self.inner.limit.store(limit, Ordering::Release);
        }
    }

    fn backoff(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        if let Some(h) = hint {
            return h;
        }
        let base = self.inner.cfg.retry_base.as_millis() as u64 * (1u64 << attempt.min(6));
        let jitter = rand::random::<f64>() * 0.5 + 0.75;
        Duration::from_millis(((base as f64) * jitter) as u64).min(Duration::from_secs(30))
    }

    /// One refresh for everyone who saw `stale` fail.
    pub(crate) async fn refresh_after(&self, stale: &str) -> Result<()> {
        let _gate = self.inner.refresh_gate.lock().await;
        let current = self.tokens();
        if current.access_token != stale {
            return Ok(());
        }
        let fresh = match current.refresh_token.clone() {
            Some(refresh_token) => {
                tracing::info!("session expired; refreshing");
                auth::refresh(
                    &self.inner.cfg.login_url,
                    &self.inner.cfg.app,
                    &refresh_token,
                    &current.instance_url,
                )
                .await?
            }
            // Client credentials issue no refresh token: the key and
            // secret get a new session the way they got the first.
            None if self.inner.cfg.app.client_secret.is_some() => {
                tracing::info!("session expired; signing in again with client credentials");
                auth::client_credentials(&self.inner.cfg.login_url, &self.inner.cfg.app)
                    .await
                    .map_err(|e| match e {
                        Error::OAuth { error, description } => {
                            Error::NeedsGrant(format!("{description} ({error})"))
                        }
                        other => other,
                    })?
            }
            None => {
                return Err(Error::NeedsGrant(
                    "the session expired and there is no refresh token".into(),
                ));
            }
        };
        *self.inner.tokens.write().expect("lock") = fresh.clone();
        if let Some(listener) = &self.inner.cfg.on_refresh {
            listener(&fresh);
        }
        Ok(())
    }

    /// Sends a request with refresh, retries, the cap and usage counting.
    pub async fn execute(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(Bytes, &'static str)>,
        headers: &[(&str, &str)],
        replay: Replay,
    ) -> Result<reqwest::Response> {
        let url = self.url(path);
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            let slot = self.reserve_call()?;
            let token = self.tokens().access_token;
            let mut req = self
                .inner
                .http
                .request(method.clone(), &url)
                .bearer_auth(&token)
                .query(query);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Some((bytes, content_type)) = &body {
                req = req
                    .header("content-type", *content_type)
                    .body(bytes.clone());
            }
            let started = std::time::Instant::now();
            self.inner.sent.fetch_add(1, Ordering::AcqRel);
            let sent = req.send().await;
            let retryable_after = |attempt: u32| attempt < self.inner.cfg.max_retries;
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    let arrived_maybe = !e.is_connect();
                    let local = e.is_builder();
                    let message = crate::net::describe(&e.without_url());
                    tracing::warn!(%method, path, attempt, "request failed: {message}");
                    if local {
                        return Err(Error::Local(format!(
                            "cannot build the request for {path}: {message}"
                        )));
                    }
                    if crate::net::is_certificate_problem(&message) {
                        return Err(crate::net::unreachable(&url, message));
                    }
                    if let Replay::Once(what) = replay
                        && arrived_maybe
                    {
                        return Err(Error::OutcomeUnknown {
                            what: what.to_string(),
                        });
                    }
                    if retryable_after(attempt) {
                        tokio::time::sleep(self.backoff(attempt, None)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(Error::Network {
                        url: url.clone(),
                        message,
                    });
                }
            };
            self.note_usage(&response);
            drop(slot);
            let status = response.status();
            tracing::debug!(%method, path, status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "salesforce");
            if status.is_success() || status == StatusCode::MULTIPLE_CHOICES {
                return Ok(response);
            }
            // A SOAP fault comes as HTTP 500 with an XML envelope: an
            // answer for the caller to read, not a server failure to retry.
            let soap_fault = status == StatusCode::INTERNAL_SERVER_ERROR
                && response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| t.contains("xml"));
            if soap_fault {
                return Ok(response);
            }
            let hint = retry_after(&response);
            let bytes = response.bytes().await.unwrap_or_default();
            let err = parse_error(status.as_u16(), &bytes);
            if status == StatusCode::UNAUTHORIZED
                && err.api_code() == Some("INVALID_SESSION_ID")
                && !refreshed
            {
                refreshed = true;
                self.refresh_after(&token).await?;
                continue;
            }
            let transient = match status.as_u16() {
                503 => true,
                500 | 502 | 504 => replay == Replay::Safe,
                _ => err.api_code() == Some("UNABLE_TO_LOCK_ROW") && replay == Replay::Safe,
            };
            if transient && retryable_after(attempt) {
                tokio::time::sleep(self.backoff(attempt, hint)).await;
                attempt += 1;
                continue;
            }
            if let (Replay::Once(what), 500 | 502 | 504) = (replay, status.as_u16()) {
                return Err(Error::OutcomeUnknown {
                    what: what.to_string(),
                });
            }
            return Err(err);
        }
    }

    /// Any REST call: `path` relative to `/services/data/vXX.X/` unless it
    /// starts with `/`. Answers the JSON body, or None for 204.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Option<Value>> {
        let replay = if method == Method::POST {
            Replay::Once("request")
        } else {
            Replay::Safe
        };
        let body = body.map(|b| {
            (
                Bytes::from(serde_json::to_vec(b).expect("json")),
                "application/json",
            )
        });
        let r = self.execute(method, path, query, body, &[], replay).await?;
        let bytes = r.bytes().await.map_err(|e| Error::Network {
            url: path.to_string(),
            message: e.to_string(),
        })?;
        if bytes.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Protocol(format!("{path}: {e}")))
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value> {
        self.request(method, path, query, body)
            .await?
            .ok_or_else(|| Error::Protocol(format!("{path}: empty answer")))
    }

    pub async fn limits(&self) -> Result<Value> {
        self.json(Method::GET, "limits", &[], None).await
    }

    pub async fn describe_global(&self) -> Result<Value> {
        self.json(Method::GET, "sobjects", &[], None).await
    }

    /// Describe of one object, cached for the life of the client.
    pub async fn describe(&self, object: &str) -> Result<Arc<Value>> {
        let key = object.to_ascii_lowercase();
        if let Some(d) = self.inner.describes.lock().expect("lock").get(&key) {
            return Ok(d.clone());
        }
        let d = Arc::new(
            self.json(
                Method::GET,
                &format!("sobjects/{object}/describe"),
                &[],
                None,
            )
            .await?,
        );
        self.inner
            .describes
            .lock()
            .expect("lock")
            .insert(key, d.clone());
        Ok(d)
    }

    /// Forgets cached describes (after the org's schema changed).
    pub fn refresh_describes(&self) {
        self.inner.describes.lock().expect("lock").clear();
    }

    /// Creates a record; never sent twice when the first answer was lost.
    pub async fn create(&self, object: &str, fields: &Value) -> Result<String> {
        let body = (
            Bytes::from(serde_json::to_vec(fields).expect("json")),
            "application/json",
        );
        let r = self
            .execute(
                Method::POST,
                &format!("sobjects/{object}"),
                &[],
                Some(body),
                &[],
                Replay::Once("create"),
            )
            .await?;
        let v: Value = r.json().await.map_err(|_| Error::OutcomeUnknown {
            what: "create".into(),
        })?;
        v["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::Protocol("create answered no id".into()))
    }

    /// Creates a record that carries a unique key (an external id). When
    /// the answer is lost, it first looks the key up: the record is
    /// created once, neither lost nor duplicated.
    pub async fn create_checked(
        &self,
        object: &str,
        fields: &Value,
        key_field: &str,
    ) -> Result<String> {
        let key = match &fields[key_field] {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(Error::Invalid(format!(
                    "create_checked needs a value in {key_field}"
                )));
            }
        };
        match self.create(object, fields).await {
            Err(Error::OutcomeUnknown { .. }) => {
                let literal = key.replace('\\', "\\\\").replace('\'', "\\'");
                let soql =
                    format!("SELECT Id FROM {object} WHERE {key_field} = '{literal}' LIMIT 2");
                let found = self.query_page(&soql, false).await?;
                match found.records.first().and_then(|r| r["Id"].as_str()) {
                    Some(id) => {
                        tracing::info!(object, "a create whose answer was lost had happened");
                        Ok(id.to_string())
                    }
                    // It never arrived: now it is safe to send again.
                    None => self.create(object, fields).await,
                }
            }
            other => other,
        }
    }

    pub async fn get(&self, object: &str, id: &str, fields: Option<&[&str]>) -> Result<Value> {
        let list = fields.map(|f| f.join(","));
        let query: Vec<(&str, &str)> = list
            .as_deref()
            .map(|f| vec![("fields", f)])
            .unwrap_or_default();
        self.json(
            Method::GET,
            &format!("sobjects/{object}/{id}"),
            &query,
            None,
        )
        .await
    }

    pub async fn update(&self, object: &str, id: &str, fields: &Value) -> Result<()> {
        self.request(
            Method::PATCH,
            &format!("sobjects/{object}/{id}"),
            &[],
            Some(fields),
        )
        .await
        .map(|_| ())
    }

    pub async fn delete(&self, object: &str, id: &str) -> Result<()> {
        self.request(
            Method::DELETE,
            &format!("sobjects/{object}/{id}"),
            &[],
            None,
        )
        .await
        .map(|_| ())
    }

    /// Upsert by external id: (id, created).
    pub async fn upsert(
        &self,
        object: &str,
        field: &str,
        value: &str,
        fields: &Value,
    ) -> Result<(String, bool)> {
        let value = url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
        let v = self
            .request(
                Method::PATCH,
                &format!("sobjects/{object}/{field}/{value}"),
                &[],
                Some(fields),
            )
            .await?;
        match v {
            Some(Value::Array(urls)) => Err(Error::Api {
                status: 300,
                code: "MULTIPLE_CHOICES".into(),
                message: format!("{} records match {field} = {value}", urls.len()),
                fields: vec![field.to_string()],
            }),
            Some(v) => Ok((
                v["id"].as_str().unwrap_or_default().to_string(),
                v["created"].as_bool().unwrap_or(false),
            )),
            None => Ok((String::new(), false)),
        }
    }

    /// The first page of a query (`all` includes deleted rows).
    pub async fn query_page(&self, soql: &str, all: bool) -> Result<QueryPage> {
        check_query_length(soql)?;
        let v = self
            .json(
                Method::GET,
                if all { "queryAll" } else { "query" },
                &[("q", soql)],
                None,
            )
            .await?;
        page_of(v)
    }

    pub async fn next_page(&self, next_records_url: &str) -> Result<QueryPage> {
        page_of(self.json(Method::GET, next_records_url, &[], None).await?)
    }

    /// Every page of a query as its raw JSON body (`{"totalSize", "done",
    /// "nextRecordsUrl", "records"}`), for readers that parse rows their own
    /// way. The next page is fetched while this one is read: at most two
    /// pages are in memory.
    pub fn query_pages(
        &self,
        soql: &str,
        all: bool,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        type Pending = tokio::task::JoinHandle<Result<Bytes>>;
        struct State {
            client: Client,
            first: Option<(String, bool)>,
            pending: Option<Pending>,
        }
        impl Drop for State {
            fn drop(&mut self) {
                // A reader that stops early must not leave a fetch running.
                if let Some(p) = self.pending.take() {
                    p.abort();
                }
            }
        }
        #[derive(serde::Deserialize)]
        struct Head {
            #[serde(rename = "nextRecordsUrl")]
            next: Option<String>,
        }
        let start = State {
            client: self.clone(),
            first: Some((soql.to_string(), all)),
            pending: None,
        };
        futures::stream::try_unfold(start, |mut st| async move {
            let body = if let Some((soql, all)) = st.first.take() {
                check_query_length(&soql)?;
                st.client
                    .raw_get(if all { "queryAll" } else { "query" }, &[("q", &soql)])
                    .await?
            } else if let Some(pending) = st.pending.take() {
                pending
                    .await
                    .map_err(|e| Error::Protocol(format!("page fetch: {e}")))??
            } else {
                return Ok(None);
            };
            let head: Head = serde_json::from_slice(&body)
                .map_err(|e| Error::Protocol(format!("query page: {e}")))?;
            if let Some(url) = head.next {
                let client = st.client.clone();
                st.pending = Some(tokio::spawn(async move { client.raw_get(&url, &[]).await }));
            }
            Ok(Some((body, st)))
        })
    }

    async fn raw_get(&self, path: &str, query: &[(&str, &str)]) -> Result<Bytes> {
        let r = self
            .execute(Method::GET, path, query, None, &[], Replay::Safe)
            .await?;
        r.bytes().await.map_err(|e| Error::Network {
            url: path.to_string(),
            message: crate::net::describe(&e),
        })
    }

    /// Every row of a query as a stream (see `query_pages`).
    pub fn query(
        &self,
        soql: &str,
        all: bool,
    ) -> impl Stream<Item = Result<Value>> + Send + 'static {
        use futures::StreamExt;
        self.query_pages(soql, all).flat_map(|page| {
            let rows: Vec<Result<Value>> = match page.and_then(|b| {
                serde_json::from_slice::<Value>(&b)
                    .map_err(|e| Error::Protocol(format!("query page: {e}")))
                    .and_then(page_of)
            }) {
                Ok(p) => p.records.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(rows)
        })
    }
}

fn page_of(v: Value) -> Result<QueryPage> {
    let Value::Object(mut m) = v else {
        return Err(Error::Protocol(
            "a query answer that is not an object".into(),
        ));
    };
    let records = match m.remove("records") {
        Some(Value::Array(r)) => r,
        _ => vec![],
    };
    Ok(QueryPage {
        total_size: m.get("totalSize").and_then(Value::as_u64).unwrap_or(0),
        records,
        next_records_url: m
            .get("nextRecordsUrl")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}
