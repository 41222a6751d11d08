//! Many records at once: sObject collections (200 a call, per-record
//! results, `UNABLE_TO_LOCK_ROW` retried record by record), `/composite`,
//! SOSL, and any REST call from a path template.

use crate::client::{Client, Replay};
use crate::error::{Error, Result};
use bytes::Bytes;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const COLLECTION_LIMIT: usize = 200;
const LOCK_RETRIES: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordError {
    #[serde(alias = "errorCode")]
    #[serde(rename = "statusCode")]
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// One record's outcome, in the order the records were given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordResult {
    #[serde(default)]
    pub id: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub created: Option<bool>,
    #[serde(default)]
    pub errors: Vec<RecordError>,
}

impl RecordResult {
    fn locked(&self) -> bool {
        !self.success && self.errors.iter().any(|e| e.code == "UNABLE_TO_LOCK_ROW")
    }
}

/// What a collection call does.
#[derive(Debug, Clone)]
pub enum Collection {
    Create,
    /// Records carry their `Id`.
    Update,
    Upsert {
        external_id_field: String,
    },
}

impl Client {
    /// Writes any number of records of one object through sObject
    /// collections, 200 a call. With `all_or_none`, each call of 200 is all
    /// or nothing.
    pub async fn write_many(
        &self,
        object: &str,
        op: Collection,
        records: &[Value],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let typed: Vec<Value> = records
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if let Value::Object(m) = &mut r {
                    m.entry("attributes")
                        .or_insert_with(|| json!({"type": object}));
                }
                r
            })
            .collect();
        let mut out = Vec::with_capacity(records.len());
        for chunk in typed.chunks(COLLECTION_LIMIT) {
            out.extend(self.write_chunk(object, &op, chunk, all_or_none).await?);
        }
        Ok(out)
    }

    async fn write_chunk(
        &self,
        object: &str,
        op: &Collection,
        chunk: &[Value],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let mut results = self.send_collection(object, op, chunk, all_or_none).await?;
        // Locked rows failed without effect: send just those again.
        for attempt in 0..LOCK_RETRIES {
            let locked: Vec<usize> = (0..results.len())
                .filter(|&i| results[i].locked())
                .collect();
            if locked.is_empty() || all_or_none {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
            let again: Vec<Value> = locked.iter().map(|&i| chunk[i].clone()).collect();
            let retried = self.send_collection(object, op, &again, false).await?;
            for (slot, r) in locked.into_iter().zip(retried) {
                results[slot] = r;
            }
        }
        Ok(results)
    }

    async fn send_collection(
        &self,
        object: &str,
        op: &Collection,
        records: &[Value],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let body = json!({"allOrNone": all_or_none, "records": records});
        let (method, path, replay) = match op {
            Collection::Create => (
                Method::POST,
                "composite/sobjects".to_string(),
                Replay::Once("create of a batch of records"),
            ),
            Collection::Update => (
                Method::PATCH,
                "composite/sobjects".to_string(),
                Replay::Safe,
            ),
            Collection::Upsert { external_id_field } => (
                Method::PATCH,
                format!("composite/sobjects/{object}/{external_id_field}"),
                Replay::Safe,
            ),
        };
        let bytes = Bytes::from(serde_json::to_vec(&body).expect("json"));
        let r = self
            .execute(
                method,
                &path,
                &[],
                Some((bytes, "application/json")),
                &[],
                replay,
            )
            .await?;
        let results: Vec<RecordResult> = r
            .json()
            .await
            .map_err(|e| Error::Protocol(format!("collection answer: {e}")))?;
        if results.len() != records.len() {
            return Err(Error::Protocol(format!(
                "{} results for {} records",
                results.len(),
                records.len()
            )));
        }
        Ok(results)
    }

    /// Deletes by id, 200 a call.
    pub async fn delete_many(
        &self,
        ids: &[String],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(COLLECTION_LIMIT) {
            let joined = chunk.join(",");
            let flag = if all_or_none { "true" } else { "false" };
            let r = self
                .execute(
                    Method::DELETE,
                    "composite/sobjects",
                    &[("ids", &joined), ("allOrNone", flag)],
                    None,
                    &[],
                    Replay::Safe,
                )
                .await?;
            let results: Vec<RecordResult> = r
                .json()
                .await
                .map_err(|e| Error::Protocol(format!("collection answer: {e}")))?;
            out.extend(results);
        }
        Ok(out)
    }

    /// Brings records back from the recycle bin: the SOAP Partner API's
    /// `undelete` (the REST API has none), 200 ids a call, the access token
    /// as the session id. Answers one result per id, in order.
    pub async fn undelete(&self, ids: &[String]) -> Result<Vec<RecordResult>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(COLLECTION_LIMIT) {
            let mut refreshed = false;
            loop {
                let token = self.tokens().access_token;
                let envelope = soap_undelete(&token, chunk);
                let path = format!("/services/Soap/u/{}", self.version());
                let r = self
                    .execute(
                        Method::POST,
                        &path,
                        &[],
                        Some((Bytes::from(envelope), "text/xml; charset=UTF-8")),
                        &[("SOAPAction", "\"\"")],
                        Replay::Safe,
                    )
                    .await?;
                let text = r.text().await.map_err(|e| Error::Network {
                    url: path.clone(),
                    message: e.to_string(),
                })?;
                if let Some(code) = xml_elements(&text, "faultcode").into_iter().next() {
                    let code = code.rsplit(':').next().unwrap_or_default().to_string();
                    if code == "INVALID_SESSION_ID" && !refreshed {
                        refreshed = true;
                        self.refresh_after(&token).await?;
                        continue;
                    }
                    let message = xml_elements(&text, "faultstring")
                        .into_iter()
                        .next()
                        .unwrap_or_default();
                    return Err(Error::Api {
                        status: 500,
                        code,
                        message,
                        fields: vec![],
                    });
                }
                let results = xml_blocks(&text, "result");
                if results.len() != chunk.len() {
                    return Err(Error::Protocol(format!(
                        "undelete answered {} results for {} ids",
                        results.len(),
                        chunk.len()
                    )));
                }
                for block in results {
                    let success = xml_elements(block, "success")
                        .first()
                        .is_some_and(|s| s == "true");
                    let codes = xml_elements(block, "statusCode");
                    let messages = xml_elements(block, "message");
                    out.push(RecordResult {
                        id: xml_elements(block, "id").into_iter().next(),
                        success,
                        created: None,
                        errors: codes
                            .into_iter()
                            .zip(messages.into_iter().chain(std::iter::repeat(String::new())))
                            .map(|(code, message)| RecordError {
                                code,
                                message,
                                fields: vec![],
                            })
                            .collect(),
                    });
                }
                break;
            }
        }
        Ok(out)
    }

    /// `/composite`: up to 25 subrequests, later ones may use `@{ref.id}`.
    /// Answers the `compositeResponse` list.
    pub async fn composite(&self, all_or_none: bool, subrequests: &[Value]) -> Result<Vec<Value>> {
        if subrequests.len() > 25 {
            return Err(Error::Invalid(
                "a composite request takes at most 25 subrequests".into(),
            ));
        }
        let reads_only = subrequests.iter().all(|s| {
            s["method"]
                .as_str()
                .is_none_or(|m| m.eq_ignore_ascii_case("GET"))
        });
        let body = Bytes::from(
            serde_json::to_vec(&json!({"allOrNone": all_or_none, "compositeRequest": subrequests}))
                .expect("json"),
        );
        let replay = if reads_only {
            Replay::Safe
        } else {
            Replay::Once("composite request")
        };
        let r = self
            .execute(
                Method::POST,
                "composite",
                &[],
                Some((body, "application/json")),
                &[],
                replay,
            )
            .await?;
        let v: Value = r
            .json()
            .await
            .map_err(|e| Error::Protocol(format!("composite answer: {e}")))?;
        match v.get("compositeResponse") {
            Some(Value::Array(list)) => Ok(list.clone()),
            _ => Err(Error::Protocol(
                "composite answer without compositeResponse".into(),
            )),
        }
    }

    /// SOSL: the `searchRecords` list.
    pub async fn search(&self, sosl: &str) -> Result<Vec<Value>> {
        let v = self
            .request(Method::GET, "search", &[("q", sosl)], None)
            .await?
            .unwrap_or(Value::Null);
        Ok(v["searchRecords"].as_array().cloned().unwrap_or_default())
    }

    /// Any REST call from a path template: `sobjects/{object}/{id}` with
    /// `path` values (URL-encoded into place), query parameters and a body.
    pub async fn call(
        &self,
        method: Method,
        template: &str,
        path: &[(&str, &str)],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Option<Value>> {
        let mut resolved = template.to_string();
        for (name, value) in path {
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes())
                .collect::<String>()
                .replace('+', "%20");
            resolved = resolved.replace(&format!("{{{name}}}"), &encoded);
        }
        if let Some(start) = resolved.find('{')
            && let Some(len) = resolved[start..].find('}')
        {
            return Err(Error::Invalid(format!(
                "no value for path parameter {}",
                &resolved[start..=start + len]
            )));
        }
        self.request(method, &resolved, query, body).await
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn soap_undelete(session: &str, ids: &[String]) -> String {
    let ids: String = ids
        .iter()
        .map(|id| format!("<urn:ids>{}</urn:ids>", xml_escape(id)))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:urn=\"urn:partner.soap.sforce.com\"><soapenv:Header><urn:SessionHeader><urn:sessionId>{}</urn:sessionId></urn:SessionHeader></soapenv:Header><soapenv:Body><urn:undelete>{ids}</urn:undelete></soapenv:Body></soapenv:Envelope>",
        xml_escape(session)
    )
}

/// The inner XML of every element named `local` (any prefix), outermost.
fn xml_blocks<'a>(xml: &'a str, local: &str) -> Vec<&'a str> {
    let mut out = vec![];
    let mut at = 0;
    while let Some(open) = xml[at..].find('<').map(|i| at + i) {
        let Some(close) = xml[open..].find('>').map(|i| open + i) else {
            break;
        };
        let tag = &xml[open + 1..close];
        let name = tag.split_whitespace().next().unwrap_or_default();
        if !tag.starts_with('/') && !tag.ends_with('/') && name.rsplit(':').next() == Some(local) {
            let end_tag = format!("</{name}>");
            if let Some(end) = xml[close..].find(&end_tag).map(|i| close + i) {
                out.push(&xml[close + 1..end]);
                at = end + end_tag.len();
                continue;
            }
        }
        at = close + 1;
    }
    out
}

/// The text of every element named `local` (any prefix), unescaped.
fn xml_elements(xml: &str, local: &str) -> Vec<String> {
    xml_blocks(xml, local)
        .into_iter()
        .map(|t| {
            t.trim()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}
