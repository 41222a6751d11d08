//! Connections against the emulator and the real OS keychain. Run inside a
//! Secret Service session (scripts/test.sh starts gnome-keyring).

mod common;

use common::{browser_sign_in, new_connection, temp_home};
use sf_emulator::{Emulator, browser::Choice};
use studio::{Error, NewConnection, SignIn, Studio, secrets};

/// The system browser, played by the test.
fn user(choice: Choice) -> impl FnOnce(&str) -> salesforce::Result<()> {
    move |url: &str| {
        let url = url.to_string();
        tokio::spawn(async move {
            let _ = sf_emulator::browser::grant(&url, choice).await;
        });
        Ok(())
    }
}

fn file_contains(path: &std::path::Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn grant_access_use_refresh_and_remove() {
    let org = Emulator::start(sf_emulator::Config {
        demo_data: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let home = temp_home("grant");
    let studio = Studio::open(&home).unwrap();
    let row = studio
        .add_connection(
            new_connection(&org, "Playground", None),
            browser_sign_in(),
            user(Choice::Allow),
        )
        .await
        .unwrap();
    assert_eq!(row.status, "connected");
    assert_eq!(row.username.as_deref(), Some("admin@playground.syncstudio"));
    assert!(row.org_id.as_deref().unwrap().starts_with("00D"));
    assert_eq!(studio.connections().unwrap().len(), 1);

    // Tokens are in the keychain, and nowhere in the database.
    let secret = secrets::load(&row.id)
        .unwrap()
        .expect("tokens saved in the keychain");
    let access = secret.access_token.clone().unwrap();
    let refresh = secret.refresh_token.clone().unwrap();
    for file in ["studio.db", "studio.db-wal"] {
        assert!(
            !file_contains(&home.join(file), &access),
            "{file} holds the access token"
        );
        assert!(
            !file_contains(&home.join(file), &refresh),
            "{file} holds the refresh token"
        );
    }

    let tested = studio.test_connection("Playground").await.unwrap();
    assert!(tested.api_used.unwrap() >= 1);
    assert_eq!(tested.api_limit, Some(15_000));

    // An expired session is refreshed, and the new token is saved.
    org.expire_tokens();
    let (_, client) = studio.client("Playground").await.unwrap();
    let page = client
        .query_page("SELECT Id FROM Account LIMIT 2", false)
        .await
        .unwrap();
    assert_eq!(page.records.len(), 2);
    let after = secrets::load(&row.id).unwrap().unwrap();
    assert_ne!(
        after.access_token.as_deref(),
        Some(access.as_str()),
        "the refreshed token replaced the old one"
    );

    // Remove revokes at Salesforce and deletes the keychain entry.
    studio.remove_connection("Playground").await.unwrap();
    assert!(secrets::load(&row.id).unwrap().is_none());
    assert!(studio.connections().unwrap().is_empty());
    let dead = salesforce::auth::refresh(
        org.base_url(),
        &salesforce::App {
            client_id: "sync-studio-desktop".into(),
            client_secret: None,
        },
        &refresh,
        org.base_url(),
    )
    .await;
    assert!(
        matches!(dead, Err(salesforce::Error::NeedsGrant(_))),
        "the refresh token was revoked"
    );
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn a_revoked_sign_in_marks_the_connection_needs_grant() {
    let org = Emulator::start(sf_emulator::Config::default())
        .await
        .unwrap();
    let home = temp_home("revoked");
    let studio = Studio::open(&home).unwrap();
    let row = studio
        .add_connection(
            new_connection(&org, "Revoked", None),
            browser_sign_in(),
            user(Choice::Allow),
        )
        .await
        .unwrap();
    let refresh = secrets::load(&row.id)
        .unwrap()
        .unwrap()
        .refresh_token
        .unwrap();
    salesforce::auth::revoke(org.base_url(), &refresh)
        .await
        .unwrap();
    let err = studio.test_connection("Revoked").await.unwrap_err();
    assert_eq!(err.kind(), studio::ErrorKind::NeedsGrant, "{err}");
    let problem = err.problem();
    assert!(problem.detail.contains("Grant access"), "{problem:?}");
    let row = studio.connection("Revoked").unwrap();
    assert_eq!(row.status, "needs_grant");
    assert!(row.status_message.unwrap().contains("Grant access"));
    // Grant access again brings it back, with the same id and settings.
    let again = studio
        .grant_again("Revoked", browser_sign_in(), user(Choice::Allow))
        .await
        .unwrap();
    assert_eq!(again.status, "connected");
    assert_eq!(again.id, row.id);
    assert_eq!(studio.connection("Revoked").unwrap().status, "connected");
    studio.test_connection("Revoked").await.unwrap();
    studio.remove_connection("Revoked").await.unwrap();
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn client_credentials_refresh_token_and_bad_input() {
    let org = Emulator::start(sf_emulator::Config::default())
        .await
        .unwrap();
    let home = temp_home("other");
    let studio = Studio::open(&home).unwrap();
    let never = |_: &str| -> salesforce::Result<()> { panic!("no browser for this flow") };
    let cc = studio
        .add_connection(
            new_connection(&org, "Server", Some("s3cret")),
            SignIn::ClientCredentials,
            never,
        )
        .await
        .unwrap();
    assert_eq!(cc.status, "connected");
    assert_eq!(
        secrets::load(&cc.id)
            .unwrap()
            .unwrap()
            .client_secret
            .as_deref(),
        Some("s3cret")
    );
    let pasted = org.issue_token("sync-studio-desktop")["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let rt = studio
        .add_connection(
            NewConnection {
                api_version: Some("61".into()),
                ..new_connection(&org, "Pasted", None)
            },
            SignIn::RefreshToken(pasted),
            never,
        )
        .await
        .unwrap();
    assert_eq!(rt.instance_url.as_deref(), Some(org.base_url()));
    assert_eq!(
        rt.api_version.as_deref(),
        Some("61.0"),
        "pinned, normalised"
    );
    assert!(studio.test_connection("Pasted").await.is_ok());
    let dup = studio
        .add_connection(
            new_connection(&org, "Server", Some("x")),
            SignIn::ClientCredentials,
            never,
        )
        .await
        .unwrap_err();
    assert!(matches!(dup, Error::DuplicateConnection(_)));
    // Refused before any sign-in, so nothing opens and nothing is saved.
    let privileged = studio
        .add_connection(
            NewConnection {
                callback_port: 80,
                ..new_connection(&org, "Low port", None)
            },
            browser_sign_in(),
            never,
        )
        .await
        .unwrap_err();
    assert_eq!(privileged.kind(), studio::ErrorKind::Invalid);
    assert!(privileged.to_string().contains("port 80"), "{privileged}");
    let bad_version = studio
        .add_connection(
            NewConnection {
                api_version: Some("sixty".into()),
                ..new_connection(&org, "Bad version", None)
            },
            SignIn::ClientCredentials,
            never,
        )
        .await
        .unwrap_err();
    assert!(
        bad_version.to_string().contains("not an API version"),
        "{bad_version}"
    );
    assert_eq!(studio.connections().unwrap().len(), 2, "Server and Pasted");
    let denied = studio
        .add_connection(
            new_connection(&org, "Denied", None),
            browser_sign_in(),
            user(Choice::Deny),
        )
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), studio::ErrorKind::Denied);
    assert!(
        studio.connection("Denied").is_err(),
        "nothing saved for a denied sign-in"
    );
    assert!(matches!(
        studio.connection("Nope"),
        Err(Error::UnknownConnection(_))
    ));
    for name in ["Server", "Pasted"] {
        studio.remove_connection(name).await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn without_a_keychain_the_error_says_how_to_start_one() {
    // SAFETY: set before any thread reads the environment in this process.
    #[allow(unsafe_code)] // nextest runs each test in its own process
    unsafe {
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    };
    let org = Emulator::start(sf_emulator::Config::default())
        .await
        .unwrap();
    let home = temp_home("nokeychain");
    let studio = Studio::open(&home).unwrap();
    let never = |_: &str| -> salesforce::Result<()> { panic!("checked before the browser opens") };
    let err = studio
        .add_connection(
            new_connection(&org, "NoKeychain", Some("s")),
            SignIn::ClientCredentials,
            never,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), studio::ErrorKind::Keychain, "{err}");
    assert!(err.next_step().contains("gnome-keyring-daemon"));
    assert!(
        studio.connections().unwrap().is_empty(),
        "nothing saved without a keychain: no silent fallback"
    );
    let _ = std::fs::remove_dir_all(&home);
}
