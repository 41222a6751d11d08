//! Grant access end to end: the test plays the user's browser against the
//! emulator's real login and consent pages, and the redirect reaches our
//! loopback listener.

use salesforce::{App, Client, Config, Environment, Error, Loopback};
use sf_emulator::Emulator;
use sf_emulator::browser::Choice;
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What the user does in the browser.
#[derive(Clone, Copy)]
enum User {
    Allow,
    Deny,
    /// A stray redirect with another state arrives first, then the real one.
    Forged,
    /// Never comes back.
    Away,
}

/// Plays the browser on another task, as the system browser would.
fn browser(user: User) -> impl FnOnce(&str) -> salesforce::Result<()> {
    move |url: &str| {
        let url = url.to_string();
        tokio::spawn(async move {
            if let User::Away = user {
                return;
            }
            let choice = if matches!(user, User::Deny) {
                Choice::Deny
            } else {
                Choice::Allow
            };
            let location = sf_emulator::browser::consent(&url, choice).await.unwrap();
            let http = reqwest::Client::new();
            if let User::Forged = user {
                let mut u = url::Url::parse(&location).unwrap();
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let forged = k == "state";
                        (
                            k.into_owned(),
                            if forged {
                                "forged".into()
                            } else {
                                v.into_owned()
                            },
                        )
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
                let stray = u.to_string().replace("://localhost:", "://127.0.0.1:");
                let answer = http.get(&stray).send().await.unwrap();
                assert_eq!(answer.status(), 400);
                let page = answer.text().await.unwrap();
                assert!(page.contains("Access was not granted"), "{page}");
            }
            // localhost may resolve to ::1 first; the listener is on 127.0.0.1.
            let location = location.replace("://localhost:", "://127.0.0.1:");
            let page = http
                .get(&location)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                page.contains(if matches!(user, User::Allow | User::Forged) {
                    "Access granted"
                } else {
                    "Access was not granted"
                }),
                "{page}"
            );
        });
        Ok(())
    }
}

fn app() -> App {
    App {
        client_id: "sync-studio-tests".into(),
        client_secret: None,
    }
}

#[tokio::test]
async fn grant_access_then_query() {
    let org = Emulator::start(sf_emulator::Config {
        demo_data: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let opts = Loopback {
        port: free_port(),
        timeout: Duration::from_secs(20),
        ..Default::default()
    };
    let tokens =
        salesforce::auth::grant_access(org.base_url(), &app(), &opts, browser(User::Allow))
            .await
            .unwrap();
    assert_eq!(tokens.instance_url, org.base_url());
    assert!(tokens.refresh_token.is_some());
    let (org_id, user_id) = tokens.ids().unwrap();
    assert!(org_id.starts_with("00D") && user_id.starts_with("005"));
    assert!(
        !format!("{tokens:?}").contains(&tokens.access_token),
        "Debug never shows a token"
    );
    let client = Client::connect(Config::new(org.base_url(), app()), tokens)
        .await
        .unwrap();
    assert_eq!(client.version(), "62.0");
    let page = client
        .query_page("SELECT Id FROM Account LIMIT 3", false)
        .await
        .unwrap();
    assert_eq!(page.records.len(), 3);
    // The listener is gone: the port is free again.
    std::net::TcpListener::bind(("127.0.0.1", opts.port)).expect("the loopback port was released");
}

#[tokio::test]
async fn denial_stray_redirect_timeout_and_busy_port() {
    let org = Emulator::start(sf_emulator::Config::default())
        .await
        .unwrap();
    let opts = |t: u64| Loopback {
        port: free_port(),
        timeout: Duration::from_millis(t),
        ..Default::default()
    };
    let denied =
        salesforce::auth::grant_access(org.base_url(), &app(), &opts(20_000), browser(User::Deny))
            .await
            .unwrap_err();
    assert!(
        matches!(denied, Error::Denied(ref d) if d == "end-user denied authorization"),
        "{denied:?}"
    );
    let forged = salesforce::auth::grant_access(
        org.base_url(),
        &app(),
        &opts(20_000),
        browser(User::Forged),
    )
    .await
    .expect("a stray redirect is ignored and the real one still signs in");
    assert!(forged.refresh_token.is_some());
    let timeout =
        salesforce::auth::grant_access(org.base_url(), &app(), &opts(300), browser(User::Away))
            .await
            .unwrap_err();
    assert!(matches!(timeout, Error::Timeout(_)), "{timeout:?}");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let err = salesforce::auth::grant_access(
        org.base_url(),
        &app(),
        &Loopback {
            port,
            ..Default::default()
        },
        browser(User::Allow),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::PortInUse { port: p } if p == port),
        "{err:?}"
    );
    assert!(err.next_step().contains("port"));
}

#[tokio::test]
async fn environments_and_client_credentials() {
    assert_eq!(
        Environment::parse("production").unwrap().login_url(),
        "https://login.salesforce.com"
    );
    assert_eq!(
        Environment::parse("sandbox").unwrap().login_url(),
        "https://test.salesforce.com"
    );
    assert_eq!(
        Environment::parse("https://acme.my.salesforce.com/")
            .unwrap()
            .login_url(),
        "https://acme.my.salesforce.com"
    );
    assert_eq!(
        Environment::parse("https://acme--uat.sandbox.my.salesforce.com/some/path")
            .unwrap()
            .login_url(),
        "https://acme--uat.sandbox.my.salesforce.com"
    );
    assert!(
        Environment::parse("http://evil.example").is_err(),
        "plain http only for a local org"
    );
    assert!(Environment::parse("not a url").is_err());
    let org = Emulator::start(sf_emulator::Config::default())
        .await
        .unwrap();
    let env = Environment::parse(org.base_url()).unwrap();
    assert_eq!(env.login_url(), org.base_url());
    let secret = App {
        client_id: "cc".into(),
        client_secret: Some("s3cret".into()),
    };
    let tokens = salesforce::auth::client_credentials(&env.login_url(), &secret)
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_none());
    assert!(matches!(
        salesforce::auth::client_credentials(&env.login_url(), &app()).await,
        Err(Error::Invalid(_))
    ));
}
