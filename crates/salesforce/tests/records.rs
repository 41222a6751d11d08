//! Collections, composite, SOSL, templates and Bulk API 2.0 against the
//! emulator.

use reqwest::Method;
use salesforce::{App, Client, Collection, Config, Error, Ingest};
use serde_json::{Value, json};
use sf_emulator::{Emulator, LockRowFault};
use std::time::Duration;

async fn setup() -> (Emulator, Client) {
    let seed: sf_emulator::Seed = serde_json::from_value(json!({
        "fields": {"Account": [{"name": "ERP_Id__c", "type": "string", "length": 40, "externalId": true, "unique": true}]}
    }))
    .unwrap();
    let org = Emulator::start(sf_emulator::Config {
        seed: Some(seed),
        ..Default::default()
    })
    .await
    .unwrap();
    let tokens: salesforce::Tokens = serde_json::from_value(org.issue_token("records")).unwrap();
    let mut cfg = Config::new(
        org.base_url(),
        App {
            client_id: "records".into(),
            client_secret: None,
        },
    );
    cfg.retry_base = Duration::from_millis(5);
    let client = Client::connect(cfg, tokens).await.unwrap();
    (org, client)
}

/// What `SELECT COUNT() ...` answers.
async fn count(client: &Client, soql: &str) -> u64 {
    client.query_page(soql, false).await.unwrap().total_size
}

#[tokio::test]
async fn collections_chunk_by_200_and_keep_order() {
    let (_org, client) = setup().await;
    let records: Vec<Value> = (0..450)
        .map(|i| {
            if i == 7 {
                json!({"Phone": "no name"})
            } else {
                json!({"Name": format!("C{i}"), "ERP_Id__c": format!("E{i}")})
            }
        })
        .collect();
    let results = client
        .write_many("Account", Collection::Create, &records, false)
        .await
        .unwrap();
    assert_eq!(results.len(), 450);
    assert!(!results[7].success);
    assert_eq!(results[7].errors[0].code, "REQUIRED_FIELD_MISSING");
    assert_eq!(results.iter().filter(|r| r.success).count(), 449);
    let ids: Vec<String> = results.iter().filter_map(|r| r.id.clone()).collect();
    // Upsert: existing ids update, new ones insert.
    let upserts = vec![
        json!({"ERP_Id__c": "E1", "Name": "Renamed"}),
        json!({"ERP_Id__c": "NEW", "Name": "New"}),
    ];
    let up = client
        .write_many(
            "Account",
            Collection::Upsert {
                external_id_field: "ERP_Id__c".into(),
            },
            &upserts,
            false,
        )
        .await
        .unwrap();
    assert_eq!((up[0].created, up[1].created), (Some(false), Some(true)));
    let upd = client
        .write_many(
            "Account",
            Collection::Update,
            &[json!({"Id": ids[0], "Name": "First"})],
            false,
        )
        .await
        .unwrap();
    assert!(upd[0].success);
    let gone = client.delete_many(&ids, false).await.unwrap();
    assert_eq!(gone.iter().filter(|r| r.success).count(), 449);
    assert_eq!(count(&client, "SELECT COUNT() FROM Account").await, 1);
}

#[tokio::test]
async fn locked_rows_are_retried_alone_and_all_or_none_rolls_back() {
    let (org, client) = setup().await;
    org.set_lock_row(Some(LockRowFault {
        object: Some("Account".into()),
        probability: 1.0,
        times: Some(3),
    }));
    let records: Vec<Value> = (0..5).map(|i| json!({"Name": format!("L{i}")})).collect();
    let results = client
        .write_many("Account", Collection::Create, &records, false)
        .await
        .unwrap();
    assert!(results.iter().all(|r| r.success), "{results:?}");
    assert_eq!(
        count(&client, "SELECT COUNT() FROM Account").await,
        5,
        "no duplicates from the retries"
    );
    org.set_lock_row(None);
    let results = client
        .write_many(
            "Account",
            Collection::Create,
            &[json!({"Name": "Good"}), json!({})],
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        results[0].errors[0].code,
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(
        count(&client, "SELECT COUNT() FROM Account WHERE Name = 'Good'").await,
        0
    );
}

#[tokio::test]
async fn composite_search_and_templates() {
    let (_org, client) = setup().await;
    let v = client.version();
    let out = client
        .composite(true, &[
            json!({"method": "POST", "url": format!("/services/data/v{v}/sobjects/Account"), "referenceId": "a", "body": {"Name": "Zyxwv Corp"}}),
            json!({"method": "POST", "url": format!("/services/data/v{v}/sobjects/Contact"), "referenceId": "c", "body": {"LastName": "Zyxwv", "AccountId": "@{a.id}"}}),
        ])
        .await
        .unwrap();
    assert_eq!(out[1]["httpStatusCode"], 201);
    let account = out[0]["body"]["id"].as_str().unwrap().to_string();
    let found = client
        .search("FIND {Zyxwv} RETURNING Account(Id, Name), Contact(Id)")
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    let rec = client
        .call(
            Method::GET,
            "sobjects/{object}/{id}",
            &[("object", "Account"), ("id", &account)],
            &[("fields", "Name")],
            None,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec["Name"], "Zyxwv Corp");
    let missing = client
        .call(
            Method::GET,
            "sobjects/{object}/{id}",
            &[("object", "Account")],
            &[],
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::Invalid(ref m) if m.contains("{id}")));
    let too_many: Vec<Value> = (0..26)
        .map(|i| json!({"method": "GET", "url": "/x", "referenceId": format!("r{i}")}))
        .collect();
    assert!(matches!(
        client.composite(false, &too_many).await,
        Err(Error::Invalid(_))
    ));
}

#[tokio::test]
async fn bulk_ingest_results_and_query() {
    let (_org, client) = setup().await;
    let mut csv_data = String::from("Name,ERP_Id__c,NumberOfEmployees\n");
    for i in 0..3000 {
        csv_data.push_str(&format!("\"Bulk, {i}\",B{i},{i}\n"));
    }
    csv_data.push_str(",Bad,1\n");
    let spec = Ingest {
        object: "Account".into(),
        operation: "insert".into(),
        external_id_field: None,
        timeout: Duration::from_secs(60),
    };
    let jobs = client
        .bulk_ingest(&spec, csv_data.as_bytes())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].state.as_str(), jobs[0].processed, jobs[0].failed),
        ("JobComplete", 3001, 1)
    );
    let mut failed = Vec::new();
    client
        .bulk_results(&jobs[0].id, "failedResults", &mut failed)
        .await
        .unwrap();
    let failed = String::from_utf8(failed).unwrap();
    assert!(
        failed.contains("REQUIRED_FIELD_MISSING") && failed.contains("Bad"),
        "{failed}"
    );
    let mut ok = Vec::new();
    client
        .bulk_results(&jobs[0].id, "successfulResults", &mut ok)
        .await
        .unwrap();
    assert_eq!(csv::Reader::from_reader(&ok[..]).records().count(), 3000);
    let mut out = Vec::new();
    let rows = client
        .bulk_query(
            "SELECT Id, Name FROM Account ORDER BY Name",
            false,
            &mut out,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(rows, 3000);
    let mut reader = csv::Reader::from_reader(&out[..]);
    assert_eq!(reader.headers().unwrap(), vec!["Id", "Name"]);
    let names: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[1].to_string())
        .collect();
    assert_eq!(names.len(), 3000, "one header, every row once");
    assert!(names.contains(&"Bulk, 42".to_string()));
    let upsert = Ingest {
        operation: "upsert".into(),
        external_id_field: Some("ERP_Id__c".into()),
        ..spec
    };
    let jobs = client
        .bulk_ingest(&upsert, b"ERP_Id__c,Name\nB1,Renamed\nB-new,Added\n")
        .await
        .unwrap();
    assert_eq!(jobs[0].failed, 0);
}

#[tokio::test]
async fn soap_undelete_brings_records_back_and_refreshes_an_expired_session() {
    let (org, client) = setup().await;
    let ids: Vec<String> = client
        .write_many(
            "Account",
            Collection::Create,
            &[json!({"Name": "Bin A"}), json!({"Name": "Bin B"})],
            false,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id.unwrap())
        .collect();
    client.delete_many(&ids, false).await.unwrap();
    assert_eq!(
        count(
            &client,
            "SELECT COUNT() FROM Account WHERE Name LIKE 'Bin%'"
        )
        .await,
        0
    );
    // A live Account (not in the bin) and a malformed id fail on their own.
    let live = client
        .create("Account", &json!({"Name": "Alive"}))
        .await
        .unwrap();
    let mut asked = ids.clone();
    asked.push(live.clone());
    asked.push("nonsense".into());
    let results = client.undelete(&asked).await.unwrap();
    assert_eq!(results.len(), 4);
    assert!(results[0].success && results[1].success, "{results:?}");
    assert_eq!(results[0].id.as_deref(), Some(ids[0].as_str()));
    assert_eq!(results[2].errors[0].code, "UNDELETE_FAILED");
    assert!(!results[3].success);
    assert_eq!(
        count(
            &client,
            "SELECT COUNT() FROM Account WHERE Name LIKE 'Bin%'"
        )
        .await,
        2
    );
    // An expired session: the SOAP fault (HTTP 500, XML) is not a server
    // error to retry; the client refreshes once, as for REST, and goes on.
    client.delete_many(&ids, false).await.unwrap();
    let stale = client.tokens().access_token;
    org.expire_tokens();
    let results = client.undelete(&ids).await.unwrap();
    assert!(results.iter().all(|r| r.success), "{results:?}");
    assert_ne!(client.tokens().access_token, stale, "refreshed");
    assert_eq!(
        count(
            &client,
            "SELECT COUNT() FROM Account WHERE Name LIKE 'Bin%'"
        )
        .await,
        2
    );
}
