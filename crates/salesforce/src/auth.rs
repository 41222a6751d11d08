//! Sign-in per RFC 8252 and RFC 7636: the authorization code flow with PKCE
//! (S256) over a one-shot loopback listener, plus refresh, client
//! credentials and revoke. Tokens never reach a log: `Tokens` redacts them.

use crate::error::{Error, Result};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, ExtraTokenFields,
    PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where users sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "url")]
pub enum Environment {
    Production,
    Sandbox,
    /// A My Domain or any other login URL (`https://acme.my.salesforce.com`).
    Custom(String),
}

impl Environment {
    pub fn login_url(&self) -> String {
        match self {
            Environment::Production => "https://login.salesforce.com".into(),
            Environment::Sandbox => "https://test.salesforce.com".into(),
            Environment::Custom(u) => u.trim_end_matches('/').to_string(),
        }
    }

    /// `production`, `sandbox`, or a URL (https, or http for a local org).
    pub fn parse(text: &str) -> Result<Environment> {
        match text.trim() {
            "production" | "login" | "https://login.salesforce.com" => Ok(Environment::Production),
            "sandbox" | "test" | "https://test.salesforce.com" => Ok(Environment::Sandbox),
            other => {
                let u = url::Url::parse(other)
                    .map_err(|e| Error::Invalid(format!("login URL {other:?}: {e}")))?;
                let local = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
                if u.scheme() != "https" && !(u.scheme() == "http" && local) {
                    return Err(Error::Invalid(format!(
                        "login URL {other:?} must use https"
                    )));
                }
                if u.host_str().is_none() {
                    return Err(Error::Invalid(format!("login URL {other:?} has no host")));
                }
                Ok(Environment::Custom(
                    format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default())
                        + &u.port().map(|p| format!(":{p}")).unwrap_or_default(),
                ))
            }
        }
    }
}

/// The connected app: consumer key and optional secret.
#[derive(Clone)]
pub struct App {
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// What a sign-in yields; a token endpoint's JSON answer deserializes into
/// it. Debug output hides the tokens.
#[derive(Clone, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub instance_url: String,
    /// The identity URL (`…/id/00D…/005…`), `id` in a token answer.
    #[serde(alias = "id")]
    pub id_url: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("instance_url", &self.instance_url)
            .field("id_url", &self.id_url)
            .finish()
    }
}

impl Tokens {
    /// (organization id, user id) from the identity URL.
    pub fn ids(&self) -> Option<(String, String)> {
        let u = self.id_url.as_deref()?;
        let mut parts = u.rsplit('/');
        let user = parts.next()?.to_string();
        let org = parts.next()?.to_string();
        Some((org, user))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SalesforceFields {
    instance_url: Option<String>,
    id: Option<String>,
    issued_at: Option<String>,
    signature: Option<String>,
}
impl ExtraTokenFields for SalesforceFields {}

type TokenReply = StandardTokenResponse<SalesforceFields, BasicTokenType>;
type OAuthClient<HasAuth, HasToken> = oauth2::Client<
    BasicErrorResponse,
    TokenReply,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuth,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    HasToken,
>;

fn http() -> reqwest::Client {
    // No redirects on token calls (the oauth2 crate's SSRF guard).
    crate::net::http_client()
}

/// A transport failure with its causes spelled out.
#[derive(Debug)]
struct Transport(String);

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Transport {}

/// The oauth2 crate's requests, sent with our client (its trusted roots,
/// no redirects) and with errors that keep their cause.
async fn send(req: oauth2::HttpRequest) -> std::result::Result<oauth2::HttpResponse, Transport> {
    let (parts, body) = req.into_parts();
    let mut builder = http()
        .request(parts.method, parts.uri.to_string())
        .body(body);
    for (name, value) in parts.headers.iter() {
        builder = builder.header(name, value);
    }
    let r = builder
        .send()
        .await
        .map_err(|e| Transport(crate::net::describe(&e.without_url())))?;
    let mut out = oauth2::http::Response::builder().status(r.status());
    for (name, value) in r.headers() {
        out = out.header(name, value);
    }
    let bytes = r
        .bytes()
        .await
        .map_err(|e| Transport(crate::net::describe(&e)))?;
    out.body(bytes.to_vec())
        .map_err(|e| Transport(e.to_string()))
}

fn client(
    login_url: &str,
    app: &App,
) -> Result<OAuthClient<oauth2::EndpointSet, oauth2::EndpointSet>> {
    let auth = AuthUrl::new(format!("{login_url}/services/oauth2/authorize"))
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let token = TokenUrl::new(format!("{login_url}/services/oauth2/token"))
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let mut c = OAuthClient::new(ClientId::new(app.client_id.clone()))
        .set_auth_uri(auth)
        .set_token_uri(token);
    if let Some(s) = &app.client_secret {
        c = c.set_client_secret(ClientSecret::new(s.clone()));
    }
    // Salesforce reads client credentials from the form body.
    Ok(c.set_auth_type(oauth2::AuthType::RequestBody))
}

fn tokens_from(reply: TokenReply, fallback_instance: Option<&str>) -> Result<Tokens> {
    let extra = reply.extra_fields();
    let instance_url = extra
        .instance_url
        .clone()
        .or_else(|| fallback_instance.map(str::to_string))
        .ok_or_else(|| Error::Protocol("the token answer has no instance_url".into()))?;
    Ok(Tokens {
        access_token: reply.access_token().secret().clone(),
        refresh_token: reply.refresh_token().map(|r| r.secret().clone()),
        instance_url,
        id_url: extra.id.clone(),
    })
}

fn map_token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, BasicErrorResponse>,
    login_url: &str,
) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => Error::OAuth {
            error: r.error().to_string(),
            description: r.error_description().cloned().unwrap_or_default(),
        },
        RequestTokenError::Request(e) => crate::net::unreachable(login_url, e.to_string()),
        RequestTokenError::Parse(e, body) => Error::Protocol(format!(
            "token answer: {e}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        )),
        RequestTokenError::Other(m) => Error::Protocol(m),
    }
}

/// How the loopback sign-in runs.
#[derive(Debug, Clone)]
pub struct Loopback {
    pub port: u16,
    pub timeout: Duration,
    pub scopes: Vec<String>,
}

impl Default for Loopback {
    fn default() -> Self {
        Loopback {
            port: 1717,
            timeout: Duration::from_secs(300),
            scopes: vec!["api".into(), "refresh_token".into()],
        }
    }
}

/// The redirect URI registered on the connected app for `port`.
pub fn redirect_uri(port: u16) -> String {
    format!("http://localhost:{port}/OauthRedirect")
}

/// Grant access: opens the browser (through `open`) at the authorization
/// URL, waits for the redirect on 127.0.0.1:PORT, checks `state`, and
/// swaps the code (with the PKCE verifier) for tokens.
pub async fn grant_access(
    login_url: &str,
    app: &App,
    opts: &Loopback,
    open: impl FnOnce(&str) -> Result<()>,
) -> Result<Tokens> {
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(Error::PortInUse { port: opts.port });
        }
        Err(e) => {
            return Err(Error::Local(format!(
                "cannot listen on 127.0.0.1:{}: {e}",
                opts.port
            )));
        }
    };
    let redirect = redirect_uri(opts.port);
    let oauth = client(login_url, app)?.set_redirect_uri(
        RedirectUrl::new(redirect.clone()).map_err(|e| Error::Invalid(e.to_string()))?,
    );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for s in &opts.scopes {
        req = req.add_scope(Scope::new(s.clone()));
    }
    let (url, state) = req.url();
    tracing::info!(
        login_url,
        port = opts.port,
        "waiting for the browser sign-in"
    );
    open(url.as_str())?;
    let params = tokio::time::timeout(opts.timeout, receive_redirect(&listener, state.secret()))
        .await
        .map_err(|_| Error::Timeout(opts.timeout))??;
    drop(listener);
    let code = params
        .get("code")
        .cloned()
        .ok_or_else(|| Error::Protocol("the redirect carried no code".into()))?;
    let reply = oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .map_err(|e| map_token_error(e, login_url))?;
    tokens_from(reply, None)
}

const PAGE_OK: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sync Studio</title></head><body style=\"font-family:system-ui,sans-serif;margin:3em\"><h1>Access granted</h1><p>You can close this tab and return to Sync Studio.</p></body></html>";

fn page_failed(reason: &str) -> String {
    let safe = reason
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sync Studio</title></head><body style=\"font-family:system-ui,sans-serif;margin:3em\"><h1>Access was not granted</h1><p>{safe}</p><p>Return to Sync Studio to try again.</p></body></html>"
    )
}

/// Serves the loopback until the redirect arrives; other paths (a
/// favicon) get a 404 and the wait goes on. A redirect without this
/// sign-in's `state` (a stale tab, another program probing the port) gets
/// an error page and is ignored: only the real redirect ends the wait.
async fn receive_redirect(
    listener: &tokio::net::TcpListener,
    state: &str,
) -> Result<HashMap<String, String>> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|e| Error::Local(format!("loopback accept: {e}")))?;
        let mut buf = Vec::with_capacity(2048);
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("/")
            .to_string();
        let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
            continue;
        };
        if url.path() != "/OauthRedirect" {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
        if params.get("state").map(String::as_str) != Some(state) {
            tracing::warn!("ignored a sign-in redirect that did not carry this sign-in's state");
            let body = page_failed(&Error::StateMismatch.to_string());
            let reply = format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
            continue;
        }
        let outcome = if let Some(err) = params.get("error") {
            let description = params
                .get("error_description")
                .cloned()
                .unwrap_or_else(|| err.clone());
            if err == "access_denied" {
                Err(Error::Denied(description))
            } else {
                Err(Error::OAuth {
                    error: err.clone(),
                    description,
                })
            }
        } else {
            Ok(params)
        };
        let body = match &outcome {
            Ok(_) => PAGE_OK.to_string(),
            Err(e) => page_failed(&e.to_string()),
        };
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
        return outcome;
    }
}

/// A new access token from a refresh token. `invalid_grant` means the
/// refresh token is dead: NeedsGrant.
pub async fn refresh(
    login_url: &str,
    app: &App,
    refresh_token: &str,
    instance_url: &str,
) -> Result<Tokens> {
    let reply = client(login_url, app)?
        .exchange_refresh_token(&RefreshToken::new(refresh_token.to_string()))
        .request_async(&send)
        .await
        .map_err(|e| match map_token_error(e, login_url) {
            Error::OAuth { error, description } if error == "invalid_grant" => {
                Error::NeedsGrant(description)
            }
            other => other,
        })?;
    // Keep instance_url from the last good answer when the refresh omits it.
    let mut t = tokens_from(reply, Some(instance_url))?;
    t.refresh_token
        .get_or_insert_with(|| refresh_token.to_string());
    Ok(t)
}

/// Client credentials: a key and secret, no browser (needs My Domain).
pub async fn client_credentials(login_url: &str, app: &App) -> Result<Tokens> {
    if app.client_secret.is_none() {
        return Err(Error::Invalid(
            "client credentials need a consumer secret".into(),
        ));
    }
    let reply = client(login_url, app)?
        .exchange_client_credentials()
        .request_async(&send)
        .await
        .map_err(|e| map_token_error(e, login_url))?;
    tokens_from(reply, None)
}

/// Revokes a token (a refresh token also ends its access tokens).
pub async fn revoke(login_url: &str, token: &str) -> Result<()> {
    let r = http()
        .post(format!("{login_url}/services/oauth2/revoke"))
        .form(&[("token", token)])
        .send()
        .await
        .map_err(|e| crate::net::unreachable(login_url, crate::net::describe(&e.without_url())))?;
    match r.status().as_u16() {
        200 => Ok(()),
        // Already revoked or expired: the goal is met.
        400 => Ok(()),
        s => Err(Error::Protocol(format!("revoke answered HTTP {s}"))),
    }
}
