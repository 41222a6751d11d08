//! OAuth 2.0 as a browser and a native app would drive it.

mod common;
use base64::Engine;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sf_emulator::{Config, Emulator};
use sha2::{Digest, Sha256};

const REDIRECT: &str = "http://localhost:1717/OauthRedirect";

fn inputs(html: &str, form_id: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("id=\"{form_id}\""))
        .unwrap_or_else(|| panic!("form {form_id} in {html}"));
    let form = &html[start
        ..html[start..]
            .find("</form>")
            .map(|e| start + e)
            .expect("form end")];
    form.split("<input")
        .skip(1)
        .filter_map(|i| {
            let attr = |a: &str| {
                i.split(&format!("{a}=\""))
                    .nth(1)
                    .map(|r| r[..r.find('"').unwrap_or(0)].to_string())
            };
            Some((
                attr("name")?,
                attr("value").unwrap_or_default().replace("&amp;", "&"),
            ))
        })
        .collect()
}

/// Loads the authorization page, logs in, answers the consent page; returns
/// the redirect's URL.
async fn browser(org: &Org, query: &[(&str, &str)], allow: bool) -> reqwest::Url {
    let url = reqwest::Url::parse_with_params(&org.url("/services/oauth2/authorize"), query)
        .expect("url");
    let login = org.http.get(url).send().await.expect("page");
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.expect("html");
    assert!(html.contains("<form") && html.contains("name=\"password\""));
    let consent = org
        .http
        .post(org.url("/services/oauth2/authorize"))
        .form(&inputs(&html, "login"))
        .send()
        .await
        .expect("login");
    let html = consent.text().await.expect("consent");
    assert!(html.contains("Allow Access?"), "{html}");
    let mut form = inputs(&html, "consent");
    form.push(("action".into(), if allow { "allow" } else { "deny" }.into()));
    let r = org
        .http
        .post(org.url("/services/oauth2/authorize"))
        .form(&form)
        .send()
        .await
        .expect("consent");
    assert_eq!(r.status(), StatusCode::FOUND);
    reqwest::Url::parse(r.headers()["location"].to_str().expect("location")).expect("redirect url")
}

async fn token(org: &Org, form: &[(&str, &str)]) -> (StatusCode, Value) {
    json_of(
        org.http
            .post(org.url("/services/oauth2/token"))
            .form(form)
            .send()
            .await
            .expect("token"),
    )
    .await
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[tokio::test]
async fn code_flow_with_pkce_then_refresh_then_revoke() {
    let org = Org::start().await;
    let verifier = "a-verifier-with-enough-entropy-0123456789-abcdefghijklmnop";
    let c = challenge(verifier);
    let redirect = browser(
        &org,
        &[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            ("state", "s t&=1"),
            ("code_challenge", &c),
            ("code_challenge_method", "S256"),
        ],
        true,
    )
    .await;
    assert_eq!(redirect.as_str().split('?').next(), Some(REDIRECT));
    let q: std::collections::HashMap<_, _> = redirect.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "s t&=1");
    let code = &q["code"];
    let (s, body) = token(
        &org,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    for k in [
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ] {
        assert!(body.get(k).is_some(), "{k} in {body}");
    }
    assert_eq!(body["instance_url"], org.emu.base_url());
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    // The code is single-use.
    let (s, again) = token(
        &org,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(
        (s, again["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    // The token works, userinfo and the identity URL answer.
    let me = org
        .http
        .get(org.url("/services/oauth2/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["preferred_username"], "admin@playground.syncstudio");
    let id = org
        .http
        .get(body["id"].as_str().unwrap())
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(id.status(), StatusCode::OK);
    assert_eq!(
        id.json::<Value>().await.unwrap()["username"],
        "admin@playground.syncstudio"
    );
    // Refresh: a new access token, no new refresh token.
    let (s, fresh) = token(
        &org,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "app"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(fresh.get("refresh_token").is_none());
    let fresh_access = fresh["access_token"].as_str().unwrap().to_string();
    // Revoking the refresh token ends its access tokens too.
    let r = org
        .http
        .post(org.url("/services/oauth2/revoke"))
        .form(&[("token", &refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for t in [&access, &fresh_access] {
        let r = org
            .http
            .get(org.url(&format!("{V}/limits")))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let (s, dead) = token(
        &org,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "app"),
        ],
    )
    .await;
    assert_eq!(
        (s, dead["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(dead["error_description"], "expired access/refresh token");
}

#[tokio::test]
async fn pkce_is_verified_and_plain_is_supported() {
    let org = Org::start().await;
    let c = challenge("right-verifier-right-verifier-right-verifier-123");
    let r = browser(
        &org,
        &[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &c),
            ("code_challenge_method", "S256"),
        ],
        true,
    )
    .await;
    let code = r
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (s, body) = token(
        &org,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            (
                "code_verifier",
                "wrong-verifier-wrong-verifier-wrong-verifier-123",
            ),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "invalid code verifier"})
    );
    let r = browser(
        &org,
        &[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", "plain-value"),
            ("code_challenge_method", "plain"),
        ],
        true,
    )
    .await;
    let code = r
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (s, _) = token(
        &org,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", "plain-value"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // Without any verifier when a challenge was sent: refused.
    let r = browser(
        &org,
        &[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &c),
            ("code_challenge_method", "S256"),
        ],
        true,
    )
    .await;
    let code = r
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (s, _) = token(
        &org,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let org = Org::start().await;
    let r = browser(
        &org,
        &[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", "http://127.0.0.1:7171/cb"),
            ("state", "xyz"),
        ],
        false,
    )
    .await;
    let q: std::collections::HashMap<_, _> = r.query_pairs().into_owned().collect();
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["error_description"], "end-user denied authorization");
    assert_eq!(q["state"], "xyz");
}

#[tokio::test]
async fn wrong_password_shows_the_login_page_again() {
    let org = Org::start().await;
    let url = reqwest::Url::parse_with_params(
        &org.url("/services/oauth2/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .unwrap();
    let html = org
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = inputs(&html, "login");
    form.retain(|(k, _)| k != "password");
    form.push(("password".into(), "wrong".into()));
    let r = org
        .http
        .post(org.url("/services/oauth2/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Please check your username and password")
    );
}

#[tokio::test]
async fn redirect_uris_and_client_registry() {
    let org = Org::start().await;
    let page = |q: Vec<(&'static str, &'static str)>| {
        let url =
            reqwest::Url::parse_with_params(&org.url("/services/oauth2/authorize"), q).unwrap();
        org.http.get(url).send()
    };
    // Not loopback, not registered: refused on an error page.
    let r = page(vec![
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", "https://evil.example/cb"),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("redirect_uri_mismatch"));
    let r = page(vec![("response_type", "code"), ("redirect_uri", REDIRECT)])
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("invalid_client_id"));
    // A registry restricts ids and redirect URIs.
    org.control("/seed", json!({"clients": [{"clientId": "registered", "clientSecret": "sh", "redirectUris": ["https://app.example/cb"]}], "restrictClients": true})).await;
    let r = page(vec![
        ("response_type", "code"),
        ("client_id", "stranger"),
        ("redirect_uri", REDIRECT),
    ])
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("invalid_client_id"));
    let r = page(vec![
        ("response_type", "code"),
        ("client_id", "registered"),
        ("redirect_uri", REDIRECT),
    ])
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("redirect_uri_mismatch"));
    let r = page(vec![
        ("response_type", "code"),
        ("client_id", "registered"),
        ("redirect_uri", "https://app.example/cb"),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (s, b) = token(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "registered"),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_client"))
    );
    let (s, b) = token(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "registered"),
            ("client_secret", "sh"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = token(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "stranger"),
            ("client_secret", "x"),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_client_id"))
    );
}

#[tokio::test]
async fn token_endpoint_errors() {
    let org = Org::start().await;
    let (s, b) = token(
        &org,
        &[
            ("grant_type", "password"),
            ("client_id", "c"),
            ("username", "admin@playground.syncstudio"),
            ("password", "playground"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = token(&org, &[("grant_type", "nope"), ("client_id", "c")]).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
    let (s, b) = token(
        &org,
        &[("grant_type", "client_credentials"), ("client_id", "c")],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_client"))
    );
    let (s, b) = token(
        &org,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "c"),
            ("code", "bogus"),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let r = org
        .http
        .post(org.url("/services/oauth2/token"))
        .json(&json!({"grant_type": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = org
        .http
        .post(org.url("/services/oauth2/revoke"))
        .form(&[("token", "unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = org
        .http
        .get(org.url("/services/oauth2/userinfo"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn access_tokens_expire_after_their_lifetime_and_refresh_still_works() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    emu.set_token_ttl(std::time::Duration::from_secs(60));
    let t = emu.issue_token("ttl");
    let http = reqwest::Client::new();
    let limits = format!("{}{V}/limits", emu.base_url());
    let ok = http
        .get(&limits)
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    emu.advance_clock(std::time::Duration::from_secs(61));
    let expired = http
        .get(&limits)
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let body: Value = expired.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    let fresh: Value = http
        .post(format!("{}/services/oauth2/token", emu.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "ttl"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again = http
        .get(&limits)
        .bearer_auth(fresh["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_sixth_refresh_token_revokes_the_oldest() {
    let org = Org::start().await;
    let mut tokens = vec![];
    for _ in 0..6 {
        let (_, b) = token(
            &org,
            &[
                ("grant_type", "password"),
                ("client_id", "five"),
                ("username", "admin@playground.syncstudio"),
                ("password", "playground"),
            ],
        )
        .await;
        assert!(
            b.get("refresh_token").is_none(),
            "password grant issues no refresh token"
        );
        let t = org.emu.issue_token("five");
        tokens.push(t["refresh_token"].as_str().unwrap().to_string());
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let (s, _) = token(
        &org,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "five"),
            ("refresh_token", &tokens[0]),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = token(
        &org,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "five"),
            ("refresh_token", &tokens[5]),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}
