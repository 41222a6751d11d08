//! Bulk API 2.0: ingest (CSV split into jobs under the 150 MB upload limit,
//! gzipped, polled with backoff, results streamed out) and query (locator
//! pages streamed to a writer).

use crate::client::{Client, Replay};
use crate::error::{Error, Result};
use bytes::Bytes;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

/// Stay well under Salesforce's 150 MB per upload (it counts the bytes
/// after base64 encoding for some clients).
pub const UPLOAD_LIMIT: usize = 100 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Ingest {
    pub object: String,
    /// insert, update, upsert, delete or hardDelete.
    pub operation: String,
    pub external_id_field: Option<String>,
    /// How long to wait for each job.
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobOutcome {
    pub id: String,
    pub state: String,
    pub processed: u64,
    pub failed: u64,
    pub error_message: Option<String>,
}

/// Splits CSV bytes into parts of at most `limit` bytes, each starting with
/// the header row, on record boundaries (quoted newlines respected).
pub fn split_csv(data: &[u8], limit: usize) -> Result<Vec<Vec<u8>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(data);
    reader
        .headers()
        .map_err(|e| Error::Invalid(format!("CSV header: {e}")))?;
    let header_end = reader.position().byte() as usize;
    let header = &data[..header_end];
    let mut parts = vec![];
    let mut start = header_end;
    let mut record = csv::ByteRecord::new();
    loop {
        let before = reader.position().byte() as usize;
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| Error::Invalid(format!("CSV: {e}")))?;
        let after = reader.position().byte() as usize;
        if header.len() + (before - start) > 0
            && header.len() + (after - start) > limit
            && before > start
        {
            parts.push([header, &data[start..before]].concat());
            start = before;
        }
        if !more {
            break;
        }
    }
    if start < data.len() || parts.is_empty() {
        parts.push([header, &data[start..]].concat());
    }
    Ok(parts)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::fast(),
    );
    enc.write_all(data).expect("in-memory gzip");
    enc.finish().expect("in-memory gzip")
}

impl Client {
    async fn job_info(&self, kind: &str, id: &str) -> Result<Value> {
        Ok(self
            .request(Method::GET, &format!("jobs/{kind}/{id}"), &[], None)
            .await?
            .unwrap_or(Value::Null))
    }

    /// Polls a job with backoff (25 ms doubling to 5 s) until it ends: a
    /// small job is often done within milliseconds, and every job of an
    /// import waits here.
    async fn wait_job(&self, kind: &str, id: &str, timeout: Duration) -> Result<Value> {
        let started = std::time::Instant::now();
        // Every 25 ms for the first 200 ms (a small job is done by then),
        // then less and less often.
        let step = Duration::from_millis(25);
        let mut delay = step;
        loop {
            let info = self.job_info(kind, id).await?;
            if matches!(
                info["state"].as_str(),
                Some("JobComplete" | "Failed" | "Aborted")
            ) {
                return Ok(info);
            }
            if started.elapsed() > timeout {
                return Err(Error::Timeout(timeout));
            }
            tokio::time::sleep(delay).await;
            if started.elapsed() > 8 * step {
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }

    /// Creates a job. Sent again when its answer is lost: a job that was
    /// created twice leaves one empty job behind, never processed (an
    /// ingest job runs only once its data is uploaded and it is closed; a
    /// query job's rows are never read).
    async fn open_job(&self, path: &str, body: &Value) -> Result<Value> {
        let body = Bytes::from(serde_json::to_vec(body).expect("json"));
        let r = self
            .execute(
                Method::POST,
                path,
                &[],
                Some((body, "application/json")),
                &[],
                Replay::Safe,
            )
            .await?;
        let bytes = r.bytes().await.map_err(|e| Error::Network {
            url: path.to_string(),
            message: e.to_string(),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Protocol(format!("{path}: {e}")))
    }

    /// Opens an ingest job; its id is known (and can be saved) before any
    /// data is sent.
    pub async fn bulk_create_job(&self, spec: &Ingest, line_ending: &str) -> Result<String> {
        let mut body = json!({"object": spec.object, "operation": spec.operation, "contentType": "CSV", "lineEnding": line_ending});
        if let Some(ext) = &spec.external_id_field {
            body["externalIdFieldName"] = json!(ext);
        }
        let job = self.open_job("jobs/ingest", &body).await?;
        job["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::Protocol("job without id".into()))
    }

    /// Uploads a job's CSV (gzipped), under the upload limit.
    pub async fn bulk_upload(&self, job_id: &str, csv_part: &[u8]) -> Result<()> {
        let upload = Bytes::from(gzip(csv_part));
        self.execute(
            Method::PUT,
            &format!("jobs/ingest/{job_id}/batches"),
            &[],
            Some((upload, "text/csv")),
            &[("content-encoding", "gzip")],
            // A second upload to a job adds its rows again.
            Replay::Once("a Bulk API 2.0 upload"),
        )
        .await?;
        Ok(())
    }

    /// Tells Salesforce the upload is complete (`UploadComplete`) or gives
    /// the job up (`Aborted`).
    pub async fn bulk_set_state(&self, job_id: &str, state: &str) -> Result<()> {
        self.request(
            Method::PATCH,
            &format!("jobs/ingest/{job_id}"),
            &[],
            Some(&json!({"state": state})),
        )
        .await?;
        Ok(())
    }

    /// Closes a job's upload (`UploadComplete`), after which the org
    /// processes it. A close whose answer was lost is sent again, and then
    /// finds the job past Open (409): the org is asked, and a job it has
    /// closed is closed.
    pub async fn bulk_close(&self, job_id: &str) -> Result<()> {
        match self.bulk_set_state(job_id, "UploadComplete").await {
            Err(refused @ Error::Api { status: 409, .. }) => {
                let info = self.job_info("ingest", job_id).await?;
                match info["state"].as_str() {
                    Some("UploadComplete" | "InProgress" | "JobComplete" | "Failed") => Ok(()),
                    _ => Err(refused),
                }
            }
            closed => closed,
        }
    }

    /// Waits for a job to end and answers how it went.
    pub async fn bulk_wait(&self, job_id: &str, timeout: Duration) -> Result<JobOutcome> {
        let info = self.wait_job("ingest", job_id, timeout).await?;
        Ok(JobOutcome {
            id: job_id.to_string(),
            state: info["state"].as_str().unwrap_or_default().to_string(),
            processed: info["numberRecordsProcessed"].as_u64().unwrap_or(0),
            failed: info["numberRecordsFailed"].as_u64().unwrap_or(0),
            error_message: info["errorMessage"].as_str().map(str::to_string),
        })
    }

    /// Loads CSV through Bulk API 2.0: one job per part under the upload
    /// limit. Answers each job's outcome; `results` reads their rows.
    pub async fn bulk_ingest(&self, spec: &Ingest, csv_data: &[u8]) -> Result<Vec<JobOutcome>> {
        let line_ending = if csv_data.windows(2).any(|w| w == b"\r\n") {
            "CRLF"
        } else {
            "LF"
        };
        let mut outcomes = vec![];
        for part in split_csv(csv_data, UPLOAD_LIMIT)? {
            let id = self.bulk_create_job(spec, line_ending).await?;
            self.bulk_upload(&id, &part).await?;
            self.bulk_close(&id).await?;
            outcomes.push(self.bulk_wait(&id, spec.timeout).await?);
        }
        Ok(outcomes)
    }

    /// Streams a job's `successfulResults`, `failedResults` or
    /// `unprocessedrecords` CSV to `out`; answers the bytes written.
    pub async fn bulk_results(
        &self,
        job_id: &str,
        kind: &str,
        out: &mut (dyn Write + Send),
    ) -> Result<u64> {
        let r = self
            .execute(
                Method::GET,
                &format!("jobs/ingest/{job_id}/{kind}"),
                &[],
                None,
                &[],
                Replay::Safe,
            )
            .await?;
        let mut body = r.bytes_stream();
        let mut n = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::Network {
                url: kind.into(),
                message: e.to_string(),
            })?;
            out.write_all(&chunk)
                .map_err(|e| Error::Invalid(e.to_string()))?;
            n += chunk.len() as u64;
        }
        Ok(n)
    }

    /// Runs a Bulk API 2.0 query and streams its CSV to `out` (one header
    /// row); answers the number of rows.
    pub async fn bulk_query(
        &self,
        soql: &str,
        all: bool,
        out: &mut (dyn Write + Send),
        timeout: Duration,
    ) -> Result<u64> {
        let job = self
            .open_job(
                "jobs/query",
                &json!({"operation": if all { "queryAll" } else { "query" }, "query": soql}),
            )
            .await?;
        let id = job["id"]
            .as_str()
            .ok_or_else(|| Error::Protocol("query job without id".into()))?
            .to_string();
        let info = self.wait_job("query", &id, timeout).await?;
        if info["state"] != "JobComplete" {
            return Err(Error::Protocol(format!(
                "query job {id} ended {}: {}",
                info["state"], info["errorMessage"]
            )));
        }
        let mut locator: Option<String> = None;
        let mut rows = 0u64;
        let mut first = true;
        loop {
            let mut query = vec![("maxRecords", "50000".to_string())];
            if let Some(l) = &locator {
                query.push(("locator", l.clone()));
            }
            let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = self
                .execute(
                    Method::GET,
                    &format!("jobs/query/{id}/results"),
                    &q,
                    None,
                    &[],
                    Replay::Safe,
                )
                .await?;
            let next = r
                .headers()
                .get("sforce-locator")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            rows += r
                .headers()
                .get("sforce-numberofrecords")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let mut body = r.bytes_stream();
            let mut skipping_header = !first;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| Error::Network {
                    url: "bulk query results".into(),
                    message: e.to_string(),
                })?;
                let mut slice = &chunk[..];
                if skipping_header {
                    match slice.iter().position(|&b| b == b'\n') {
                        Some(p) => {
                            slice = &slice[p + 1..];
                            skipping_header = false;
                        }
                        None => continue,
                    }
                }
                out.write_all(slice)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
            }
            first = false;
            match next.as_deref() {
                Some("null") | None => break,
                Some(l) => locator = Some(l.to_string()),
            }
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_the_header_and_whole_records() {
        let data = b"Name,Notes\nA,\"line\nbreak\"\nB,x\nC,y\n";
        let parts = split_csv(data, 24).unwrap();
        assert!(parts.len() > 1);
        let mut names = vec![];
        for p in &parts {
            let mut r = csv::Reader::from_reader(&p[..]);
            assert_eq!(r.headers().unwrap(), vec!["Name", "Notes"]);
            names.extend(r.records().map(|x| x.unwrap()[0].to_string()));
        }
        assert_eq!(names, vec!["A", "B", "C"]);
        assert_eq!(split_csv(data, 1 << 20).unwrap().len(), 1);
    }
}
