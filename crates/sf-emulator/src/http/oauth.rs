//! OAuth 2.0 as Salesforce serves it: a login page and a consent page, the
//! redirect with `code` and `state`, PKCE (S256) checked at the token
//! endpoint, refresh, client credentials, revoke, userinfo and the identity
//! URL.

use super::{Shared, json_response};
use crate::ids::make_id;
use crate::org::{
    ADMIN_USERNAME, AuthCode, ClientApp, Org, PLAYGROUND_PASSWORD, RefreshGrant, Session,
};
use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

type Params = HashMap<String, String>;

const MAX_REFRESH_TOKENS_PER_APP: usize = 5;
const CODE_LIFETIME_MS: i64 = 15 * 60 * 1000;

fn random_text(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html(status: StatusCode, title: &str, body: &str) -> Response<Body> {
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<style>body{{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0}}\
main{{max-width:380px;margin:48px auto;background:#fff;border:1px solid #ddd;border-radius:6px;padding:28px}}\
h1{{font-size:20px;margin-top:0}}label{{display:block;margin:12px 0 4px;font-size:14px}}\
input[type=text],input[type=password]{{width:100%;box-sizing:border-box;padding:8px;font-size:15px}}\
button{{margin-top:18px;padding:9px 18px;font-size:15px;border-radius:4px;border:1px solid #0176d3;background:#0176d3;color:#fff;cursor:pointer}}\
button.secondary{{background:#fff;color:#0176d3}}.error{{color:#ba0517}}.note{{color:#555;font-size:13px}}ul{{padding-left:20px}}</style>\
</head><body><main><p class=\"note\">Sync Studio playground org</p><h1>{t}</h1>{body}</main></body></html>",
        t = html_escape(title)
    );
    let mut r = Response::new(Body::from(page));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    r
}

fn error_page(code: &str, description: &str) -> Response<Body> {
    html(
        StatusCode::BAD_REQUEST,
        "Authorization error",
        &format!(
            "<p class=\"error\" id=\"error\">error={}</p><p id=\"error_description\">{}</p>",
            html_escape(code),
            html_escape(description)
        ),
    )
}

fn hidden_fields(p: &Params) -> String {
    let keep = [
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
        "scope",
        "prompt",
    ];
    keep.iter()
        .filter_map(|k| {
            p.get(*k).map(|v| {
                format!(
                    "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                    html_escape(v)
                )
            })
        })
        .collect()
}

fn is_loopback_redirect(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    u.scheme() == "http"
        && matches!(
            u.host_str(),
            Some("localhost") | Some("127.0.0.1") | Some("[::1]")
        )
        && u.port().is_some()
}

fn registered_client<'a>(org: &'a Org, client_id: &str) -> Option<&'a ClientApp> {
    org.clients.iter().find(|c| c.client_id == client_id)
}

/// Checks client id and redirect URI; Err holds the error page's code.
fn check_client(org: &Org, p: &Params) -> Result<(), (&'static str, &'static str)> {
    let client_id = p.get("client_id").map(String::as_str).unwrap_or("");
    let redirect = p.get("redirect_uri").map(String::as_str).unwrap_or("");
    if client_id.is_empty() {
        return Err(("invalid_client_id", "client identifier invalid"));
    }
    match registered_client(org, client_id) {
        Some(app) => {
            if !app.redirect_uris.iter().any(|r| r == redirect) {
                return Err((
                    "redirect_uri_mismatch",
                    "redirect_uri must match configuration",
                ));
            }
        }
        None if org.settings.restrict_clients => {
            return Err(("invalid_client_id", "client identifier invalid"));
        }
        None => {
            if !is_loopback_redirect(redirect) {
                return Err((
                    "redirect_uri_mismatch",
                    "redirect_uri must match configuration",
                ));
            }
        }
    }
    match p.get("response_type").map(String::as_str) {
        Some("code") => {}
        _ => return Err(("unsupported_response_type", "response type not supported")),
    }
    if let Some(m) = p.get("code_challenge_method")
        && m != "S256"
        && m != "plain"
    {
        return Err(("invalid_request", "invalid code_challenge_method"));
    }
    Ok(())
}

fn login_form(p: &Params, error: Option<&str>, username: &str) -> Response<Body> {
    let err = error
        .map(|e| format!("<p class=\"error\" id=\"error\">{}</p>", html_escape(e)))
        .unwrap_or_default();
    html(
        StatusCode::OK,
        "Log in to Salesforce",
        &format!(
            "{err}<form method=\"post\" action=\"/services/oauth2/authorize\" id=\"login\">{hidden}\
<input type=\"hidden\" name=\"step\" value=\"login\">\
<label for=\"username\">Username</label><input type=\"text\" id=\"username\" name=\"username\" value=\"{u}\">\
<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" value=\"{pw}\">\
<button type=\"submit\" id=\"Login\">Log In</button></form>\
<p class=\"note\">The playground's user is <code>{ADMIN_USERNAME}</code>, password <code>{PLAYGROUND_PASSWORD}</code>.</p>",
            hidden = hidden_fields(p),
            u = html_escape(username),
            pw = if username == ADMIN_USERNAME {
                PLAYGROUND_PASSWORD
            } else {
                ""
            },
        ),
    )
}

pub async fn authorize_page(
    State(shared): State<Arc<Shared>>,
    Query(p): Query<Params>,
) -> Response<Body> {
    let org = shared.org.read();
    if let Err((code, desc)) = check_client(&org, &p) {
        return error_page(code, desc);
    }
    login_form(&p, None, ADMIN_USERNAME)
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response<Body> {
    let mut u = url::Url::parse(redirect_uri).expect("checked redirect uri");
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::FOUND;
    r.headers_mut().insert(
        "location",
        HeaderValue::from_str(u.as_str()).expect("url is a header value"),
    );
    r
}

pub async fn authorize_submit(
    State(shared): State<Arc<Shared>>,
    Form(p): Form<Params>,
) -> Response<Body> {
    {
        let org = shared.org.read();
        if let Err((code, desc)) = check_client(&org, &p) {
            return error_page(code, desc);
        }
    }
    let redirect_uri = p.get("redirect_uri").cloned().unwrap_or_default();
    let state = p.get("state").cloned().unwrap_or_default();
    match p.get("step").map(String::as_str) {
        Some("login") => {
            let username = p.get("username").cloned().unwrap_or_default();
            let password = p.get("password").cloned().unwrap_or_default();
            let org = shared.org.read();
            let user = org.user_by_username(&username);
            let ok = user.is_some()
                && org.passwords.get(&username.to_ascii_lowercase()) == Some(&password);
            if !ok {
                return login_form(
                    &p,
                    Some(
                        "Please check your username and password. If you still can't log in, contact your Salesforce administrator.",
                    ),
                    &username,
                );
            }
            let ticket = random_text(32);
            shared
                .logins
                .lock()
                .insert(ticket.clone(), (user.expect("checked"), org.now()));
            let client = p.get("client_id").cloned().unwrap_or_default();
            let scopes = p
                .get("scope")
                .cloned()
                .unwrap_or_else(|| "api refresh_token".into());
            let scope_list: String = scopes
                .split_whitespace()
                .map(|s| format!("<li>{}</li>", html_escape(scope_label(s))))
                .collect();
            html(
                StatusCode::OK,
                "Allow Access?",
                &format!(
                    "<p><strong>{app}</strong> is asking to:</p><ul>{scope_list}</ul>\
<p>Do you want to allow access for <strong>{user}</strong>?</p>\
<form method=\"post\" action=\"/services/oauth2/authorize\" id=\"consent\">{hidden}\
<input type=\"hidden\" name=\"step\" value=\"consent\"><input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
<button type=\"submit\" name=\"action\" value=\"allow\" id=\"oaapprove\">Allow</button> \
<button type=\"submit\" name=\"action\" value=\"deny\" class=\"secondary\" id=\"oadeny\">Deny</button></form>",
                    app = html_escape(&client),
                    user = html_escape(&username),
                    hidden = hidden_fields(&p),
                ),
            )
        }
        Some("consent") => {
            let ticket = p.get("ticket").cloned().unwrap_or_default();
            let Some((user, _)) = shared.logins.lock().remove(&ticket) else {
                return error_page("invalid_request", "login session expired; start again");
            };
            if p.get("action").map(String::as_str) != Some("allow") {
                return redirect_with(
                    &redirect_uri,
                    &[
                        ("error", "access_denied"),
                        ("error_description", "end-user denied authorization"),
                        ("state", &state),
                    ],
                );
            }
            let code = format!("{}==", random_text(86));
            let mut org = shared.org.write();
            let now = org.now();
            org.codes.insert(
                code.clone(),
                AuthCode {
                    user,
                    client_id: p.get("client_id").cloned().unwrap_or_default(),
                    redirect_uri: redirect_uri.clone(),
                    code_challenge: p.get("code_challenge").cloned().map(|c| {
                        if p.get("code_challenge_method").map(String::as_str) == Some("plain") {
                            format!("plain:{c}")
                        } else {
                            c
                        }
                    }),
                    expires_at: now + CODE_LIFETIME_MS,
                },
            );
            shared.touch();
            let mut params = vec![("code", code.as_str())];
            if p.contains_key("state") {
                params.push(("state", &state));
            }
            redirect_with(&redirect_uri, &params)
        }
        _ => error_page("invalid_request", "missing step"),
    }
}

fn scope_label(s: &str) -> &str {
    match s {
        "api" => "Access and manage your data (api)",
        "refresh_token" | "offline_access" => {
            "Perform requests on your behalf at any time (refresh_token, offline_access)"
        }
        "id" | "openid" | "profile" | "email" => {
            "Access your basic information (id, profile, email)"
        }
        "full" => "Full access (full)",
        other => other,
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response<Body> {
    json_response(
        status,
        json!({ "error": error, "error_description": description }).to_string(),
    )
}

fn signature(secret: &str, id: &str, issued_at: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac takes any key");
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Issues an access token (and a refresh token when asked) for `user`.
fn issue(
    shared: &Shared,
    org: &mut Org,
    user: u64,
    client_id: &str,
    with_refresh: bool,
    scope: &str,
) -> serde_json::Value {
    let now = org.now();
    let org15 = &org.org_id()[..15];
    let access = format!("{org15}!{}", random_text(96));
    let refresh = with_refresh.then(|| format!("5Aep{}", random_text(83)));
    if let Some(r) = &refresh {
        org.refresh_grants.insert(
            r.clone(),
            RefreshGrant {
                user,
                client_id: client_id.into(),
                issued_at: now,
            },
        );
        // A user keeps at most five refresh tokens per app; the oldest goes.
        let mut mine: Vec<(String, i64)> = org
            .refresh_grants
            .iter()
            .filter(|(_, g)| g.user == user && g.client_id == client_id)
            .map(|(k, g)| (k.clone(), g.issued_at))
            .collect();
        if mine.len() > MAX_REFRESH_TOKENS_PER_APP {
            mine.sort_by_key(|(_, t)| *t);
            for (k, _) in mine.iter().take(mine.len() - MAX_REFRESH_TOKENS_PER_APP) {
                revoke_refresh(org, k);
            }
        }
    }
    org.sessions.insert(
        access.clone(),
        Session {
            user,
            client_id: client_id.into(),
            issued_at: now,
            refresh_token: refresh.clone(),
        },
    );
    shared.touch();
    let id = format!(
        "{}/id/{}/{}",
        shared.base_url,
        org.org_id(),
        make_id("005", user)
    );
    let issued_at = now.to_string();
    let secret = org
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .and_then(|c| c.client_secret.clone())
        .unwrap_or_default();
    let mut body = json!({
        "access_token": access,
        "signature": signature(&secret, &id, &issued_at),
        "scope": scope,
        "instance_url": shared.base_url,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    body
}

fn revoke_refresh(org: &mut Org, token: &str) {
    org.refresh_grants.remove(token);
    org.sessions
        .retain(|_, s| s.refresh_token.as_deref() != Some(token));
}

fn client_secret_ok(org: &Org, client_id: &str, given: Option<&String>) -> bool {
    match registered_client(org, client_id).and_then(|c| c.client_secret.as_ref()) {
        Some(secret) => given.is_none_or(|g| g == secret),
        None => !org.settings.restrict_clients || registered_client(org, client_id).is_some(),
    }
}

fn pkce_ok(challenge: &Option<String>, verifier: Option<&String>) -> bool {
    match (challenge, verifier) {
        (None, _) => true,
        (Some(c), Some(v)) => match c.strip_prefix("plain:") {
            Some(plain) => plain == v,
            None => URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *c,
        },
        (Some(_), None) => false,
    }
}

pub async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response<Body> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let mut p: Params = form_urlencoded::parse(&body).into_owned().collect();
    // Basic auth carries the client credentials for some clients.
    if let Some(basic) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        && let Ok(decoded) = STANDARD.decode(basic.trim())
        && let Ok(text) = String::from_utf8(decoded)
        && let Some((id, secret)) = text.split_once(':')
    {
        p.entry("client_id".into())
            .or_insert_with(|| id.to_string());
        p.entry("client_secret".into())
            .or_insert_with(|| secret.to_string());
    }
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    let mut org = shared.org.write();
    let grant = p.get("grant_type").map(String::as_str).unwrap_or("");
    if client_id.is_empty()
        || (org.settings.restrict_clients && registered_client(&org, &client_id).is_none())
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client_id",
            "client identifier invalid",
        );
    }
    if !client_secret_ok(&org, &client_id, p.get("client_secret")) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "invalid client credentials",
        );
    }
    match grant {
        "authorization_code" => {
            let code = p.get("code").cloned().unwrap_or_default();
            let Some(ac) = org.codes.remove(&code) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "invalid authorization code",
                );
            };
            shared.touch();
            if ac.expires_at < org.now() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "expired authorization code",
                );
            }
            if ac.client_id != client_id {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "authentication failure",
                );
            }
            if p.get("redirect_uri") != Some(&ac.redirect_uri) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "redirect_uri_mismatch",
                    "redirect_uri must match configuration",
                );
            }
            if !pkce_ok(&ac.code_challenge, p.get("code_verifier")) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "invalid code verifier",
                );
            }
            let body = issue(
                &shared,
                &mut org,
                ac.user,
                &client_id,
                true,
                "api refresh_token",
            );
            json_response(StatusCode::OK, body.to_string())
        }
        "refresh_token" => {
            let token = p.get("refresh_token").cloned().unwrap_or_default();
            let grant = org.refresh_grants.get(&token).cloned();
            match grant {
                Some(g) if g.client_id == client_id => {
                    let body = issue(
                        &shared,
                        &mut org,
                        g.user,
                        &client_id,
                        false,
                        "api refresh_token",
                    );
                    // The access token remembers which refresh token made it.
                    if let Some(a) = body["access_token"].as_str()
                        && let Some(s) = org.sessions.get_mut(a)
                    {
                        s.refresh_token = Some(token);
                    }
                    json_response(StatusCode::OK, body.to_string())
                }
                _ => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "expired access/refresh token",
                ),
            }
        }
        "client_credentials" => {
            if p.get("client_secret").is_none_or(|s| s.is_empty()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client",
                    "invalid client credentials",
                );
            }
            let body = issue(
                &shared,
                &mut org,
                crate::org::ADMIN_USER,
                &client_id,
                false,
                "api",
            );
            json_response(StatusCode::OK, body.to_string())
        }
        "password" => {
            let username = p.get("username").cloned().unwrap_or_default();
            let password = p.get("password").cloned().unwrap_or_default();
            let user = org.user_by_username(&username);
            match user {
                Some(u) if org.passwords.get(&username.to_ascii_lowercase()) == Some(&password) => {
                    let body = issue(&shared, &mut org, u, &client_id, false, "api");
                    json_response(StatusCode::OK, body.to_string())
                }
                _ => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "authentication failure",
                ),
            }
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type not supported",
        ),
    }
}

pub async fn revoke(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<Params>,
    body: axum::body::Bytes,
) -> Response<Body> {
    let form: Params = form_urlencoded::parse(&body).into_owned().collect();
    let token = form
        .get("token")
        .or_else(|| q.get("token"))
        .cloned()
        .unwrap_or_default();
    let mut org = shared.org.write();
    if org.refresh_grants.contains_key(&token) {
        revoke_refresh(&mut org, &token);
    } else if org.sessions.remove(&token).is_none() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_token", "invalid token");
    }
    shared.touch();
    Response::new(Body::empty())
}

/// The user and client behind a bearer token, if it is live.
pub fn authenticate(shared: &Shared, headers: &HeaderMap) -> Option<u64> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("OAuth "))?
        .trim();
    let org = shared.org.read();
    let s = org.sessions.get(token)?;
    if org.now() - s.issued_at > org.settings.access_token_ttl_secs * 1000 {
        return None;
    }
    Some(s.user)
}

fn user_json(shared: &Shared, org: &Org, user: u64) -> serde_json::Value {
    let uid = make_id("005", user);
    let oid = org.org_id();
    let b = &shared.base_url;
    let username = org.user_value(user, "Username");
    json!({
        "sub": format!("{b}/id/{oid}/{uid}"),
        "user_id": uid,
        "organization_id": oid,
        "preferred_username": username,
        "nickname": org.user_value(user, "Alias"),
        "name": org.user_value(user, "Name"),
        "email": org.user_value(user, "Email"),
        "email_verified": true,
        "given_name": org.user_value(user, "FirstName"),
        "family_name": org.user_value(user, "LastName"),
        "zoneinfo": org.user_value(user, "TimeZoneSidKey"),
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "is_app_installed": true,
        "urls": {
            "enterprise": format!("{b}/services/Soap/c/{{version}}/{}", &oid[..15]),
            "partner": format!("{b}/services/Soap/u/{{version}}/{}", &oid[..15]),
            "rest": format!("{b}/services/data/v{{version}}/"),
            "sobjects": format!("{b}/services/data/v{{version}}/sobjects/"),
            "search": format!("{b}/services/data/v{{version}}/search/"),
            "query": format!("{b}/services/data/v{{version}}/query/"),
            "profile": format!("{b}/{uid}"),
            "custom_domain": b,
        },
    })
}

fn bad_token() -> Response<Body> {
    let mut r = Response::new(Body::from("Bad_OAuth_Token"));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

pub async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response<Body> {
    let Some(user) = authenticate(&shared, &headers) else {
        return bad_token();
    };
    let org = shared.org.read();
    json_response(StatusCode::OK, user_json(&shared, &org, user).to_string())
}

pub async fn identity(
    State(shared): State<Arc<Shared>>,
    Path((org_id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response<Body> {
    let Some(user) = authenticate(&shared, &headers) else {
        return bad_token();
    };
    let org = shared.org.read();
    if make_id("005", user) != user_id && make_id("005", user)[..15] != user_id
        || !org.org_id().starts_with(&org_id[..15.min(org_id.len())])
    {
        return bad_token();
    }
    let info = user_json(&shared, &org, user);
    let body = json!({
        "id": info["sub"],
        "asserted_user": true,
        "user_id": info["user_id"],
        "organization_id": info["organization_id"],
        "username": info["preferred_username"],
        "nick_name": info["nickname"],
        "display_name": info["name"],
        "email": info["email"],
        "first_name": info["given_name"],
        "last_name": info["family_name"],
        "timezone": info["zoneinfo"],
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "urls": info["urls"],
        "is_lightning_login_user": false,
        "last_modified_date": crate::values::format_datetime(org.now()),
    });
    json_response(StatusCode::OK, body.to_string())
}

/// A session for tests that skip the browser (the control API's `/tokens`).
pub fn issue_for_tests(
    shared: &Shared,
    org: &mut Org,
    user: u64,
    client_id: &str,
    refresh: bool,
) -> serde_json::Value {
    issue(shared, org, user, client_id, refresh, "api refresh_token")
}
