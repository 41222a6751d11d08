//! The client against faults the emulator injects.

use futures::TryStreamExt;
use salesforce::{App, Client, Config, Error};
use serde_json::json;
use sf_emulator::{Emulator, FaultKind, FaultRule};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn setup(demo: bool) -> (Emulator, Client, Arc<AtomicUsize>) {
    let org = Emulator::start(sf_emulator::Config {
        demo_data: demo,
        ..Default::default()
    })
    .await
    .unwrap();
    let tokens: salesforce::Tokens =
        serde_json::from_value(org.issue_token("sync-studio-tests")).unwrap();
    let refreshes = Arc::new(AtomicUsize::new(0));
    let counter = refreshes.clone();
    let mut cfg = Config::new(
        org.base_url(),
        App {
            client_id: "sync-studio-tests".into(),
            client_secret: None,
        },
    );
    cfg.retry_base = Duration::from_millis(10);
    cfg.on_refresh = Some(Arc::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    let client = Client::connect(cfg, tokens).await.unwrap();
    (org, client, refreshes)
}

/// `n` leads of one company, put in the org directly (not through the
/// client under test).
fn seed_leads(org: &Emulator, n: usize, prefix: &str, company: &str) {
    let mut seed = sf_emulator::Seed::default();
    let leads = (0..n)
        .map(|i| {
            json!({"LastName": format!("{prefix}{i}"), "Company": company})
                .as_object()
                .unwrap()
                .clone()
        })
        .collect();
    seed.records.insert("Lead".into(), leads);
    org.seed(&seed).unwrap();
}

fn fault(route: &str, method: Option<&str>, kind: FaultKind, times: u64) -> FaultRule {
    FaultRule {
        route: route.into(),
        method: method.map(str::to_string),
        kind,
        probability: 1.0,
        times: Some(times),
        retry_after: None,
        latency_ms: None,
    }
}

#[tokio::test]
async fn an_expired_session_is_refreshed_once_for_twenty_callers() {
    let (org, client, refreshes) = setup(true).await;
    let old = client.tokens().access_token;
    org.expire_tokens();
    let calls = (0..20).map(|i| {
        let c = client.clone();
        async move {
            c.query_page(&format!("SELECT Id FROM Account LIMIT {}", i + 1), false)
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap().records.len(), i + 1);
    }
    assert_eq!(
        refreshes.load(Ordering::SeqCst),
        1,
        "one refresh for all twenty"
    );
    assert_ne!(client.tokens().access_token, old);
    assert_eq!(client.tokens().instance_url, org.base_url());
}

#[tokio::test]
async fn a_session_expiring_mid_stream_is_refreshed_and_the_stream_goes_on() {
    use futures::StreamExt;
    let (org, client, refreshes) = setup(false).await;
    seed_leads(&org, 4500, "M", "Mid");
    let mut rows = std::pin::pin!(client.query("SELECT Id FROM Lead WHERE Company = 'Mid'", false));
    let mut seen = 0;
    while let Some(row) = rows.next().await {
        row.unwrap();
        seen += 1;
        if seen == 2500 {
            // Pages 1 and 2 are in hand; page 3 is fetched after this.
            org.expire_tokens();
        }
    }
    assert_eq!(seen, 4500);
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_revoked_refresh_token_needs_grant_access() {
    let (org, client, _) = setup(false).await;
    let refresh = client.tokens().refresh_token.unwrap();
    salesforce::auth::revoke(org.base_url(), &refresh)
        .await
        .unwrap();
    let err = client.limits().await.unwrap_err();
    assert!(matches!(err, Error::NeedsGrant(_)), "{err:?}");
    assert_eq!(err.kind(), "needs_grant");
    assert!(err.next_step().contains("Grant access"));
}

#[tokio::test]
async fn server_errors_resets_and_503_are_retried() {
    let (org, client, _) = setup(false).await;
    org.add_fault(fault("limits", None, FaultKind::Error500, 2));
    client.limits().await.expect("two 500s, then success");
    org.add_fault(FaultRule {
        retry_after: Some(1),
        ..fault("limits", None, FaultKind::Error503, 1)
    });
    let started = std::time::Instant::now();
    client.limits().await.expect("503, then success");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After is honoured"
    );
    org.add_fault(fault("query", None, FaultKind::Reset, 2));
    client
        .query_page("SELECT Id FROM Account", false)
        .await
        .expect("resets on a read are retried");
    org.add_fault(fault("limits", None, FaultKind::Error500, 10));
    let err = client.limits().await.unwrap_err();
    assert!(
        matches!(err, Error::Api { status: 500, ref code, .. } if code == "UNKNOWN_EXCEPTION"),
        "gives up after max_retries: {err:?}"
    );
}

#[tokio::test]
async fn a_lost_create_is_not_sent_again() {
    let (org, client, _) = setup(false).await;
    org.add_fault(fault("sobjects", Some("POST"), FaultKind::ResetAfter, 1));
    let err = client
        .create("Account", &json!({"Name": "Exactly once"}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    let count = client
        .query_page("SELECT Id FROM Account WHERE Name = 'Exactly once'", false)
        .await
        .unwrap();
    assert_eq!(
        count.total_size, 1,
        "created once, not duplicated by a retry"
    );
    // A 503 means the create was not processed: that one is retried.
    org.add_fault(fault("sobjects", Some("POST"), FaultKind::Error503, 1));
    client
        .create("Account", &json!({"Name": "After 503"}))
        .await
        .unwrap();
    assert_eq!(
        client
            .query_page("SELECT Id FROM Account WHERE Name = 'After 503'", false)
            .await
            .unwrap()
            .total_size,
        1
    );
    // A reset before handling on an update is simply retried.
    let id = client
        .create("Account", &json!({"Name": "To update"}))
        .await
        .unwrap();
    org.add_fault(fault("sobjects", Some("PATCH"), FaultKind::Reset, 1));
    client
        .update("Account", &id, &json!({"Name": "Updated"}))
        .await
        .unwrap();
    assert_eq!(
        client.get("Account", &id, Some(&["Name"])).await.unwrap()["Name"],
        "Updated"
    );
}

#[tokio::test]
async fn a_checked_create_finds_out_whether_it_happened() {
    let (org, client, _) = setup(false).await;
    let seed: sf_emulator::Seed = serde_json::from_value(json!({"fields": {"Account": [{"name": "ERP_Id__c", "type": "string", "externalId": true, "unique": true}]}})).unwrap();
    org.seed(&seed).unwrap();
    // Handled, answer lost: found by its key, not created twice.
    org.add_fault(fault("sobjects", Some("POST"), FaultKind::ResetAfter, 1));
    let id = client
        .create_checked(
            "Account",
            &json!({"Name": "Lost answer", "ERP_Id__c": "K-1"}),
            "ERP_Id__c",
        )
        .await
        .unwrap();
    let rows = client
        .query_page("SELECT Id FROM Account WHERE ERP_Id__c = 'K-1'", false)
        .await
        .unwrap();
    assert_eq!(rows.total_size, 1);
    assert_eq!(rows.records[0]["Id"], json!(id));
    // Dropped before it was handled: not found, so sent again, once.
    org.add_fault(fault("sobjects", Some("POST"), FaultKind::Reset, 1));
    client
        .create_checked(
            "Account",
            &json!({"Name": "Never arrived", "ERP_Id__c": "O'Neil \\ 2"}),
            "ERP_Id__c",
        )
        .await
        .unwrap();
    let rows = client
        .query_page("SELECT Id FROM Account WHERE Name = 'Never arrived'", false)
        .await
        .unwrap();
    assert_eq!(rows.total_size, 1);
    let err = client
        .create_checked("Account", &json!({"Name": "No key"}), "ERP_Id__c")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "invalid");
}

#[tokio::test]
async fn the_daily_cap_stops_work_before_the_org_limit() {
    let org = Emulator::start(sf_emulator::Config::default())
        .await
        .unwrap();
    let tokens: salesforce::Tokens = serde_json::from_value(org.issue_token("cap")).unwrap();
    let mut cfg = Config::new(
        org.base_url(),
        App {
            client_id: "cap".into(),
            client_secret: None,
        },
    );
    cfg.daily_cap = Some(3);
    cfg.api_version = Some("59.0".into());
    let client = Client::connect(cfg, tokens).await.unwrap();
    for _ in 0..3 {
        client.limits().await.unwrap();
    }
    assert_eq!(client.api_usage(), (3, 15_000));
    let err = client.limits().await.unwrap_err();
    assert!(matches!(err, Error::ApiCap { used: 3, cap: 3 }), "{err:?}");
    assert_eq!(org.api_used(), 3, "the capped call never left");
}

#[tokio::test]
async fn query_streams_follow_next_records_url() {
    let (org, client, _) = setup(false).await;
    seed_leads(&org, 2500, "L", "Stream");
    let rows: Vec<serde_json::Value> = client
        .query(
            "SELECT Id, LastName FROM Lead WHERE Company = 'Stream'",
            false,
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 2500);
    let ids: std::collections::HashSet<_> = rows
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2500);
    let err = client
        .query("SELEC Id FROM Lead", false)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("MALFORMED_QUERY"));
    assert_eq!(err.kind(), "api");
    let _ = org;
}

#[tokio::test]
async fn describes_are_cached_and_upserts_report_created() {
    let (org, client, _) = setup(false).await;
    let seed: sf_emulator::Seed = serde_json::from_value(json!({"fields": {"Account": [{"name": "ERP_Id__c", "type": "string", "externalId": true, "unique": true}]}})).unwrap();
    org.seed(&seed).unwrap();
    let before = org.api_used();
    let a = client.describe("Account").await.unwrap();
    let b = client.describe("account").await.unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(
        org.api_used(),
        before + 1,
        "the second describe came from the cache"
    );
    let (id, created) = client
        .upsert("Account", "ERP_Id__c", "E/1 x", &json!({"Name": "U"}))
        .await
        .unwrap();
    assert!(created);
    let (same, created) = client
        .upsert("Account", "ERP_Id__c", "E/1 x", &json!({"Name": "U2"}))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(id, same);
}

/// A tracing writer the test can read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_token_reaches_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (org, client, _) = setup(false).await;
    let first = client.tokens();
    org.expire_tokens();
    org.add_fault(fault("limits", None, FaultKind::Reset, 1));
    client.limits().await.unwrap();
    let second = client.tokens();
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("refreshing"),
        "the log did record the work: {log}"
    );
    for secret in [
        &first.access_token,
        &second.access_token,
        first.refresh_token.as_ref().unwrap(),
    ] {
        assert!(
            !log.contains(secret.as_str()),
            "a token leaked into the log"
        );
        assert!(
            !log.contains(&secret[16..]),
            "part of a token leaked into the log"
        );
    }
    assert!(!log.to_ascii_lowercase().contains("authorization"));
}
