//! Emulator throughput on this machine, printed as a table:
//! Bulk API 2.0 ingest, REST query paging, Bulk query results, the memory
//! 1,000,000 records take, and what a 150 MB upload costs in memory. `cargo bench -p sf-emulator --bench throughput`
//! (`ROWS=200000` for a quicker run).

use reqwest::Client;
use serde_json::{Value, json};
use sf_emulator::{Config, Emulator};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const V: &str = "/services/data/v62.0";

fn rss_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn csv_rows(n: usize) -> String {
    let industries = ["Technology", "Banking", "Retail", "Energy", "Healthcare"];
    let cities = ["Austin", "Berlin", "Paris", "Tokyo", "Toronto", "Sydney"];
    let mut out = String::with_capacity(n * 80);
    out.push_str("Name,Industry,NumberOfEmployees,AnnualRevenue,BillingCity,ERP_Id__c\n");
    for i in 0..n {
        let _ = writeln!(
            out,
            "Company {i},{},{},{}.5,{},ERP-{i}",
            industries[i % 5],
            i % 5000,
            i * 10,
            cities[i % 6]
        );
    }
    out
}

/// Polls `jobs/{kind}/{id}` until the job ends.
async fn get_json(http: &Client, url: impl reqwest::IntoUrl, token: &str) -> Value {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Opens an Account insert job and answers its id.
async fn new_insert_job(http: &Client, base: &str, token: &str) -> String {
    let job: Value = http
        .post(format!("{base}{V}/jobs/ingest"))
        .bearer_auth(token)
        .json(&json!({"object": "Account", "operation": "insert", "lineEnding": "LF"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    job["id"].as_str().unwrap().to_string()
}

async fn wait_job(http: &Client, base: &str, token: &str, kind: &str, id: &str) -> Value {
    loop {
        let info = get_json(http, format!("{base}{V}/jobs/{kind}/{id}"), token).await;
        if matches!(
            info["state"].as_str(),
            Some("JobComplete" | "Failed" | "Aborted")
        ) {
            return info;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let seed = serde_json::from_value(json!({
        "fields": {"Account": [{"name": "ERP_Id__c", "type": "string", "length": 40, "externalId": true, "unique": true}]},
        "dailyApiLimit": 100_000_000u64
    }))
    .unwrap();
    let emu = Emulator::start(Config {
        seed: Some(seed),
        ..Default::default()
    })
    .await
    .unwrap();
    let base = emu.base_url().to_string();
    let token = emu.issue_token("bench")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let http = Client::new();
    let mut table: Vec<(String, String, String)> = vec![];

    // 0. A 150 MB upload, streamed by the client: the peak it adds.
    let big_id = new_insert_job(&http, &base, &token).await;
    let block = csv_rows(10_000);
    let body_rows = block.lines().skip(1).collect::<Vec<_>>().join("\n") + "\n";
    let blocks = 149 * 1024 * 1024 / body_rows.len();
    let stream = futures::stream::iter(
        std::iter::once(Ok::<_, std::io::Error>(block.clone()))
            .chain((1..blocks).map(move |_| Ok(body_rows.clone()))),
    );
    let before = rss_mb("VmRSS:");
    // Resets VmHWM to the current RSS (Linux), so the peak is this upload's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let r = http
        .put(format!("{base}{V}/jobs/ingest/{big_id}/batches"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    table.push((
        "Memory: peak added by a 149 MB upload (streamed to disk)".into(),
        format!("{} rows", blocks * 10_000),
        format!("{:.0} MB", rss_mb("VmHWM:") - before),
    ));
    http.delete(format!("{base}{V}/jobs/ingest/{big_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let rss_start = rss_mb("VmRSS:");

    // 1. Bulk API 2.0 ingest.
    let csv = csv_rows(rows);
    let id = new_insert_job(&http, &base, &token).await;
    let upload_started = Instant::now();
    let r = http
        .put(format!("{base}{V}/jobs/ingest/{id}/batches"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let processing_started = Instant::now();
    http.patch(format!("{base}{V}/jobs/ingest/{id}"))
        .bearer_auth(&token)
        .json(&json!({"state": "UploadComplete"}))
        .send()
        .await
        .unwrap();
    let info = wait_job(&http, &base, &token, "ingest", &id).await;
    let processing = processing_started.elapsed();
    let end_to_end = upload_started.elapsed();
    assert_eq!(info["numberRecordsProcessed"].as_u64(), Some(rows as u64));
    assert_eq!(info["numberRecordsFailed"].as_u64(), Some(0));
    table.push((
        "Bulk API 2.0 ingest (insert), processing".into(),
        format!("{rows} rows"),
        format!("{:.0} rows/s", rows as f64 / processing.as_secs_f64()),
    ));
    table.push((
        "Bulk API 2.0 ingest, upload + processing".into(),
        format!("{rows} rows"),
        format!("{:.0} rows/s", rows as f64 / end_to_end.as_secs_f64()),
    ));

    // 2. Memory with every record held.
    let rss_held = rss_mb("VmRSS:");
    table.push((
        "Memory: whole process with the records held".into(),
        format!("{rows} records"),
        format!("{rss_held:.0} MB RSS"),
    ));
    table.push((
        "Memory: growth from the empty org".into(),
        format!("{rows} records"),
        format!("{:.0} MB", rss_held - rss_start),
    ));

    // 3. REST query paging (2,000 a page), bodies read in full.
    let paged = rows.min(200_000);
    let started = Instant::now();
    let url = reqwest::Url::parse_with_params(
        &format!("{base}{V}/query"),
        &[("q", format!("SELECT Id, Name, Industry, NumberOfEmployees, BillingCity FROM Account LIMIT {paged}"))],
    )
    .unwrap();
    let mut page = get_json(&http, url, &token).await;
    let mut seen = page["records"].as_array().unwrap().len();
    while let Some(next) = page["nextRecordsUrl"].as_str() {
        page = get_json(&http, format!("{base}{next}"), &token).await;
        seen += page["records"].as_array().unwrap().len();
    }
    assert_eq!(seen, paged);
    let t = started.elapsed();
    table.push((
        "REST query paging (2,000 a page, JSON parsed)".into(),
        format!("{paged} rows"),
        format!("{:.0} rows/s", paged as f64 / t.as_secs_f64()),
    ));

    // 4. Bulk API 2.0 query results.
    let started = Instant::now();
    let job: Value = http
        .post(format!("{base}{V}/jobs/query"))
        .bearer_auth(&token)
        .json(&json!({"operation": "query", "query": "SELECT Id, Name, Industry, NumberOfEmployees, BillingCity FROM Account"}))
        .send().await.unwrap().json().await.unwrap();
    let qid = job["id"].as_str().unwrap().to_string();
    let info = wait_job(&http, &base, &token, "query", &qid).await;
    assert_eq!(info["state"], "JobComplete");
    let mut locator = String::new();
    let mut total = 0usize;
    loop {
        let mut u = format!("{base}{V}/jobs/query/{qid}/results?maxRecords=100000");
        if !locator.is_empty() {
            u.push_str(&format!("&locator={locator}"));
        }
        let r = http.get(u).bearer_auth(&token).send().await.unwrap();
        let next = r.headers()["sforce-locator"].to_str().unwrap().to_string();
        total += r.headers()["sforce-numberofrecords"]
            .to_str()
            .unwrap()
            .parse::<usize>()
            .unwrap();
        let _ = r.bytes().await.unwrap();
        if next == "null" {
            break;
        }
        locator = next;
    }
    assert_eq!(total, rows);
    let t = started.elapsed();
    table.push((
        "Bulk API 2.0 query results (CSV)".into(),
        format!("{rows} rows"),
        format!("{:.0} rows/s", rows as f64 / t.as_secs_f64()),
    ));
    table.push((
        "Peak memory of the run".into(),
        String::new(),
        format!("{:.0} MB (VmHWM)", rss_mb("VmHWM:")),
    ));

    let w0 = table.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = table.iter().map(|r| r.1.len()).max().unwrap_or(0);
    println!(
        "\nsf-emulator throughput ({} cores)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("| {:w0$} | {:w1$} | result |", "measure", "size");
    println!("|{}|{}|---|", "-".repeat(w0 + 2), "-".repeat(w1 + 2));
    for (a, b, c) in &table {
        println!("| {a:w0$} | {b:w1$} | {c} |");
    }
}
