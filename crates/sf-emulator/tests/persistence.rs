//! `--data DIR` keeps the org across restarts; `--tls` serves HTTPS.

mod common;
use common::*;
use reqwest::StatusCode;
use serde_json::json;
use sf_emulator::{Config, Emulator};

#[tokio::test]
async fn the_org_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("sf-emulator-persist-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = Config {
        data_dir: Some(dir.clone()),
        seed: Some(custom_seed()),
        ..Default::default()
    };
    let (id, token) = {
        let org = Org::start_with(config.clone()).await;
        let id = org
            .create("Invoice__c", json!({"Name": "Kept", "Number__c": "K-1"}))
            .await;
        org.emu.set_daily_api_limit(999);
        let token = org.token.clone();
        org.emu.shutdown().await.unwrap();
        (id, token)
    };
    assert!(dir.join("org.json").exists());
    assert!(
        !dir.join("org.json.tmp").exists(),
        "the temporary file was renamed into place"
    );
    // Restart without the seed: the custom object comes back from the file.
    let emu = Emulator::start(Config {
        data_dir: Some(dir.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}{V}/sobjects/Invoice__c/{id}", emu.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "sessions and records persist");
    let rec: serde_json::Value = r.json().await.unwrap();
    assert_eq!(rec["Number__c"], "K-1");
    // The unique index is rebuilt.
    let r = http
        .post(format!("{}{V}/sobjects/Invoice__c", emu.base_url()))
        .bearer_auth(&token)
        .json(&json!({"Name": "x", "Number__c": "K-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let next = http
        .post(format!("{}{V}/sobjects/Invoice__c", emu.base_url()))
        .bearer_auth(&token)
        .json(&json!({"Name": "y"}))
        .send()
        .await
        .unwrap();
    let next: serde_json::Value = next.json().await.unwrap();
    assert!(
        next["id"].as_str().unwrap() > id.as_str(),
        "ids are not reused"
    );
    let limits = http
        .get(format!("{}{V}/limits", emu.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        limits.headers()["sforce-limit-info"]
            .to_str()
            .unwrap()
            .split('/')
            .nth(1),
        Some("999")
    );
    emu.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_corrupt_data_file_is_reported_not_ignored() {
    let dir = std::env::temp_dir().join(format!("sf-emulator-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("org.json"), "{ half a file").unwrap();
    let err = Emulator::start(Config {
        data_dir: Some(dir.clone()),
        ..Default::default()
    })
    .await
    .err()
    .expect("refuses to start");
    assert!(err.to_string().contains("org.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn tls_with_a_trusted_self_signed_certificate() {
    let emu = Emulator::start(Config {
        tls: true,
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(emu.cert_path().unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/services/data/", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let plain = reqwest::Client::new()
        .get(format!("{}/services/data/", emu.base_url()))
        .send()
        .await;
    assert!(plain.is_err(), "an untrusted certificate is refused");
}
