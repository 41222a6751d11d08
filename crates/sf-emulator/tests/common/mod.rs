//! A running emulator and an authenticated HTTP client for each test.
#![allow(dead_code)]

use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sf_emulator::{Config, Emulator, Seed};
use std::time::Duration;

pub struct Org {
    pub emu: Emulator,
    pub http: Client,
    pub token: String,
    pub refresh: String,
}

pub const V: &str = "/services/data/v59.0";

pub fn custom_seed() -> Seed {
    serde_json::from_value(json!({
        "objects": [{
            "name": "Invoice__c", "label": "Invoice",
            "fields": [
                {"name": "Number__c", "type": "string", "length": 20, "externalId": true, "unique": true},
                {"name": "Ref__c", "type": "string", "length": 20, "externalId": true},
                {"name": "Account__c", "type": "reference", "referenceTo": ["Account"], "childRelationshipName": "Invoices__r"},
                {"name": "Total__c", "type": "currency"},
                {"name": "Status__c", "type": "picklist", "picklist": ["Draft", "Sent", "Paid"], "restricted": true},
                {"name": "Tags__c", "type": "multipicklist", "picklist": ["a", "b", "c"]},
                {"name": "Due__c", "type": "date"}
            ]
        }],
        "fields": {"Account": [{"name": "ERP_Id__c", "type": "string", "length": 40, "externalId": true, "unique": true}]}
    }))
    .expect("seed")
}

impl Org {
    pub async fn start() -> Org {
        Org::start_with(Config {
            seed: Some(custom_seed()),
            ..Default::default()
        })
        .await
    }

    pub async fn demo() -> Org {
        Org::start_with(Config {
            seed: Some(custom_seed()),
            demo_data: true,
            ..Default::default()
        })
        .await
    }

    pub async fn start_with(config: Config) -> Org {
        let emu = Emulator::start(config).await.expect("emulator starts");
        let t = emu.issue_token("tests");
        Org {
            token: t["access_token"].as_str().expect("token").to_string(),
            refresh: t["refresh_token"].as_str().expect("refresh").to_string(),
            emu,
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.base_url(), path)
    }

    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json_of(self.req(Method::GET, path).send().await.expect("send")).await
    }

    pub async fn send(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        json_of(
            self.req(method, path)
                .json(&body)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    pub async fn create(&self, object: &str, body: Value) -> String {
        let (s, v) = self
            .send(Method::POST, &format!("{V}/sobjects/{object}"), body)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().expect("id").to_string()
    }

    pub async fn query(&self, soql: &str) -> (StatusCode, Value) {
        self.soql("query", soql).await
    }

    /// `queryAll`: deleted rows too.
    pub async fn query_all(&self, soql: &str) -> Value {
        self.soql("queryAll", soql).await.1
    }

    async fn soql(&self, resource: &str, soql: &str) -> (StatusCode, Value) {
        let url =
            reqwest::Url::parse_with_params(&self.url(&format!("{V}/{resource}")), &[("q", soql)])
                .expect("url");
        json_of(
            self.http
                .get(url)
                .bearer_auth(&self.token)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    pub async fn control_get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(self.url(&format!("/__emulator{path}")))
            .send()
            .await
            .expect("send");
        assert!(r.status().is_success(), "control {path}: {}", r.status());
        r.json().await.expect("json")
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.url(&format!("/__emulator{path}")))
            .json(&body)
            .send()
            .await
            .expect("send");
        assert!(r.status().is_success(), "control {path}: {}", r.status());
        r.json().await.expect("json")
    }
}

pub async fn json_of(r: Response) -> (StatusCode, Value) {
    let s = r.status();
    let text = r.text().await.expect("body");
    (
        s,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        },
    )
}

/// The errorCode of a Salesforce error body.
pub fn code(v: &Value) -> &str {
    v[0]["errorCode"].as_str().unwrap_or("")
}

// ---- Bulk API 2.0 jobs ----

pub async fn job(org: &Org, spec: Value) -> String {
    let (s, info) = org
        .send(Method::POST, &format!("{V}/jobs/ingest"), spec)
        .await;
    assert_eq!(s, StatusCode::OK, "{info}");
    assert_eq!(info["state"], "Open");
    assert!(info["contentUrl"].as_str().unwrap().ends_with("/batches"));
    info["id"].as_str().unwrap().to_string()
}

pub async fn upload(org: &Org, id: &str, csv: &str) -> StatusCode {
    org.req(Method::PUT, &format!("{V}/jobs/ingest/{id}/batches"))
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

pub async fn close_and_wait(org: &Org, id: &str) -> Value {
    let (s, _) = org
        .send(
            Method::PATCH,
            &format!("{V}/jobs/ingest/{id}"),
            json!({"state": "UploadComplete"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    for _ in 0..600 {
        let (_, info) = org.get(&format!("{V}/jobs/ingest/{id}")).await;
        if matches!(
            info["state"].as_str(),
            Some("JobComplete" | "Failed" | "Aborted")
        ) {
            return info;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} did not finish");
}

pub async fn results(org: &Org, id: &str, kind: &str) -> Vec<csv::StringRecord> {
    let r = org
        .req(Method::GET, &format!("{V}/jobs/ingest/{id}/{kind}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().await.unwrap();
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect()
}

pub async fn run(org: &Org, spec: Value, csv: &str) -> (String, Value) {
    let id = job(org, spec).await;
    assert_eq!(upload(org, &id, csv).await, StatusCode::CREATED);
    let info = close_and_wait(org, &id).await;
    (id, info)
}
