//! Every injected fault and control knob, seen from a client.

mod common;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sf_emulator::{FaultKind, FaultRule, LockRowFault};
use std::time::{Duration, Instant};

fn rule(route: &str, kind: FaultKind) -> FaultRule {
    FaultRule {
        route: route.into(),
        method: None,
        kind,
        probability: 1.0,
        times: Some(1),
        retry_after: Some(7),
        latency_ms: Some(300),
    }
}

#[tokio::test]
async fn http_500_and_503_with_retry_after() {
    let org = Org::start().await;
    org.emu.add_fault(rule("query", FaultKind::Error500));
    let (s, e) = org.query("SELECT Id FROM Account").await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN_EXCEPTION")
    );
    assert_eq!(
        org.query("SELECT Id FROM Account").await.0,
        StatusCode::OK,
        "times: 1 fires once"
    );
    org.emu.add_fault(rule("*", FaultKind::Error503));
    let r = org
        .req(Method::GET, &format!("{V}/limits"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(
        code(&r.json::<Value>().await.unwrap()),
        "SERVER_UNAVAILABLE"
    );
}

#[tokio::test]
async fn rules_match_route_method_and_probability() {
    let org = Org::start().await;
    org.emu.add_fault(FaultRule {
        method: Some("POST".into()),
        times: None,
        ..rule("sobjects", FaultKind::Error500)
    });
    org.emu.add_fault(FaultRule {
        probability: 0.0,
        times: None,
        ..rule("limits", FaultKind::Error500)
    });
    assert_eq!(
        org.get(&format!("{V}/sobjects/Account/describe")).await.0,
        StatusCode::OK
    );
    for _ in 0..20 {
        assert_eq!(
            org.get(&format!("{V}/limits")).await.0,
            StatusCode::OK,
            "probability 0 never fires"
        );
    }
    for _ in 0..3 {
        let (s, _) = org
            .send(
                Method::POST,
                &format!("{V}/sobjects/Account"),
                json!({"Name": "x"}),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::INTERNAL_SERVER_ERROR,
            "unlimited times keeps firing"
        );
    }
    // A path prefix works as a route, and the HTTP control API adds rules.
    org.emu.clear_faults();
    org.control("/faults", json!({"rules": [{"route": "/services/oauth2/token", "kind": "error503", "retryAfter": 2}]})).await;
    let r = org
        .http
        .post(org.url("/services/oauth2/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let listed = org.control_get("/faults").await;
    assert_eq!(listed["rules"][0]["kind"], "error503");
    let r = org
        .http
        .delete(org.url("/__emulator/faults"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(org.query("SELECT Id FROM Account").await.0, StatusCode::OK);
}

#[tokio::test]
async fn reset_drops_the_connection_before_handling() {
    let org = Org::start().await;
    org.emu.add_fault(rule("sobjects", FaultKind::Reset));
    let err = org
        .req(Method::POST, &format!("{V}/sobjects/Account"))
        .json(&json!({"Name": "Never written"}))
        .send()
        .await;
    let failed = match err {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(failed, "the client sees a broken connection");
    assert_eq!(
        org.query("SELECT COUNT() FROM Account").await.1["totalSize"],
        0,
        "nothing was written"
    );
}

#[tokio::test]
async fn reset_after_loses_the_answer_but_not_the_write() {
    let org = Org::start().await;
    org.emu.add_fault(rule("sobjects", FaultKind::ResetAfter));
    let res = org
        .req(Method::POST, &format!("{V}/sobjects/Account"))
        .json(&json!({"Name": "Lost answer"}))
        .send()
        .await;
    let failed = match res {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(failed, "the client never learns the outcome");
    assert_eq!(
        org.query("SELECT COUNT() FROM Account WHERE Name = 'Lost answer'")
            .await
            .1["totalSize"],
        1,
        "but the record exists"
    );
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let org = Org::start().await;
    org.emu.add_fault(rule("limits", FaultKind::Latency));
    let started = Instant::now();
    assert_eq!(org.get(&format!("{V}/limits")).await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn unable_to_lock_row_in_collections_and_bulk() {
    let org = Org::start().await;
    org.emu.set_lock_row(Some(LockRowFault {
        object: Some("Account".into()),
        probability: 1.0,
        times: Some(2),
    }));
    let records: Vec<Value> = (0..4)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("L{i}")}))
        .collect();
    let (_, res) = org
        .send(
            Method::POST,
            &format!("{V}/composite/sobjects"),
            json!({"records": records}),
        )
        .await;
    let codes: Vec<&str> = res
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"][0]["statusCode"].as_str().unwrap_or("ok"))
        .collect();
    assert_eq!(
        codes,
        vec!["UNABLE_TO_LOCK_ROW", "UNABLE_TO_LOCK_ROW", "ok", "ok"]
    );
    // Other objects are not affected; bulk rows get it too.
    assert_eq!(
        org.send(
            Method::POST,
            &format!("{V}/sobjects/Contact"),
            json!({"LastName": "x"})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    org.control("/lock-row", json!({"probability": 1.0, "times": 1}))
        .await;
    let (id, info) = run(
        &org,
        json!({"object": "Lead", "operation": "insert"}),
        "LastName,Company\na,b\nc,d\n",
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 1);
    let failed = results(&org, &id, "failedResults").await;
    assert_eq!(&failed[0][1][..19], "UNABLE_TO_LOCK_ROW:");
}

#[tokio::test]
async fn expiring_every_token_now() {
    let org = Org::start().await;
    assert_eq!(org.get(&format!("{V}/limits")).await.0, StatusCode::OK);
    let r = org.control("/tokens/expire", json!({})).await;
    assert_eq!(r["expired"], 1);
    let (s, e) = org.get(&format!("{V}/limits")).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID")
    );
    let r = org
        .http
        .post(org.url("/services/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "tests"),
            ("refresh_token", org.refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "refresh tokens survive");
}

#[tokio::test]
async fn delayed_visibility_hides_fresh_writes_from_queries() {
    let org = Org::start().await;
    org.control("/settings", json!({"visibilityDelaySecs": 30}))
        .await;
    let before = org.emu.now_ms();
    let id = org.create("Account", json!({"Name": "Slow commit"})).await;
    assert_eq!(
        org.query("SELECT Id FROM Account").await.1["totalSize"],
        0,
        "not visible yet"
    );
    let (s, rec) = org.get(&format!("{V}/sobjects/Account/{id}")).await;
    assert_eq!(s, StatusCode::OK, "a direct read by id still works");
    org.emu.advance_clock(Duration::from_secs(31));
    let (_, v) = org.query("SELECT Id, SystemModstamp FROM Account").await;
    assert_eq!(v["totalSize"], 1);
    // Its stamp is from when it was written, now in the past.
    let stamp =
        sf_emulator::values::parse_datetime(v["records"][0]["SystemModstamp"].as_str().unwrap())
            .unwrap();
    assert!(stamp >= before && stamp < org.emu.now_ms() - 30_000);
    assert_eq!(rec["SystemModstamp"], v["records"][0]["SystemModstamp"]);
}

#[tokio::test]
async fn the_clock_can_be_set_frozen_and_advanced() {
    let org = Org::start().await;
    let v = org
        .control(
            "/clock",
            json!({"now": "2024-01-31T09:15:00Z", "freeze": true}),
        )
        .await;
    assert_eq!(v["now"], "2024-01-31T09:15:00.000+0000");
    let id = org.create("Task", json!({"Subject": "Frozen"})).await;
    let (_, rec) = org.get(&format!("{V}/sobjects/Task/{id}")).await;
    assert_eq!(rec["CreatedDate"], "2024-01-31T09:15:00.000+0000");
    org.control("/clock", json!({"advanceSecs": 86400})).await;
    assert_eq!(
        org.query("SELECT Id FROM Task WHERE CreatedDate = YESTERDAY")
            .await
            .1["totalSize"],
        1
    );
    assert_eq!(
        org.query("SELECT Id FROM Task WHERE CreatedDate = TODAY")
            .await
            .1["totalSize"],
        0
    );
    let clock = org.control_get("/clock").await;
    assert_eq!(
        clock,
        json!({"now": "2024-02-01T09:15:00.000+0000", "frozen": true})
    );
}

#[tokio::test]
async fn reset_seed_records_and_status() {
    let org = Org::demo().await;
    let status = org.control_get("/").await;
    assert_eq!(status["records"]["Account"], 300);
    org.control("/reset", json!({})).await;
    let status = org.control_get("/").await;
    assert!(status["records"].get("Account").is_none());
    let seeded = org.control("/seed", json!({
        "objects": [{"name": "Ship__c", "fields": [{"name": "Code__c", "type": "string", "externalId": true, "unique": true}]}],
        "users": [{"username": "kim@example.com", "firstName": "Kim", "lastName": "Lee", "password": "pw"}],
        "records": {"Ship__c": [{"Name": "Argo", "Code__c": "S1"}]}
    })).await;
    assert_eq!(seeded["created"]["Ship__c"].as_array().unwrap().len(), 1);
    let t = org
        .control("/tokens", json!({"username": "kim@example.com"}))
        .await;
    let r = org
        .http
        .get(org.url(&format!("{V}/sobjects/Ship__c/Code__c/S1")))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let dump = org.control_get("/records/Ship__c").await;
    assert_eq!(dump["records"][0]["Name"], "Argo");
    let bad = org
        .http
        .post(org.url("/__emulator/seed"))
        .json(&json!({"records": {"Ship__c": [{"Name": "Dup", "Code__c": "S1"}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("DUPLICATE_VALUE"));
    let bad = org
        .http
        .post(org.url("/__emulator/seed"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
