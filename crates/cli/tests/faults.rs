//! An upsert (and a Bulk insert) through a hostile network and a busy org: HTTP 500s, 503s
//! with Retry-After, connections reset before and after the org handled
//! the request, row locks, and every session expiring mid-run. Every row
//! must end in exactly one result file, no record twice, values exact.
//! CI runs 10,000 rows; `SYNCSTUDIO_FAULT_ROWS=100000` runs the full size.

mod common;
use common::*;

use std::collections::{BTreeSet, HashMap};
use std::process::Stdio;

#[test]
fn an_upsert_under_faults_writes_every_row_once_and_exactly() {
    under_faults("rest", "composite", "upsert");
}

/// The same over Bulk API 2.0, with the faults on every jobs endpoint:
/// create, upload, close, status and the three result files. An upload
/// whose answer was lost is never sent again to the same job (that would
/// add its rows twice): the job is aborted and the part sent in a new one.
/// Rows a job failed with UNABLE_TO_LOCK_ROW go in a later job.
#[test]
fn a_bulk_upsert_under_faults_writes_every_row_once_and_exactly() {
    under_faults("bulk", "jobs", "upsert");
}

/// A Bulk insert under the same faults: its rows are packed as they are
/// read, and those a row lock held go in a later job as records.
#[test]
fn a_bulk_insert_under_faults_writes_every_row_once_and_exactly() {
    under_faults("bulk", "jobs", "insert");
}

/// A job closed by the org whose answer was lost: the close sent again
/// finds the job past Open (409). The org processed the job, so its rows
/// are written, not reported unsent (a resume would then insert them
/// twice).
#[test]
fn a_bulk_insert_whose_close_answer_is_lost_writes_every_row_once() {
    let rows = 20_000;
    let (home, org, o) = insert_closing_under(
        "faults-lost-close",
        rows,
        serde_json::json!([
            {"route": "jobs", "method": "PATCH", "kind": "resetAfter", "times": 1}
        ]),
    );
    every_row_once(&home, &o, rows);
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

/// A job closed by the org whose answer was lost, and every close sent
/// again after it dropped before the org saw it: the run cannot tell
/// whether the job was closed, so the job stays in flight (not its rows
/// reported unsent) and the resume reads it back: every row once.
#[test]
fn a_bulk_insert_whose_close_is_never_answered_is_read_back_on_resume() {
    let rows = 20_000;
    let (home, org, o) = insert_closing_under(
        "faults-unanswered-close",
        rows,
        serde_json::json!([
            {"route": "jobs", "method": "PATCH", "kind": "resetAfter", "times": 1},
            {"route": "jobs", "method": "PATCH", "kind": "reset", "times": 20}
        ]),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("rows are in Bulk jobs not read back yet"),
        "the user is told the job is not settled: {}",
        text(&o.stderr)
    );
    let run = run_line(&o);
    control(&org.url, "DELETE", "faults", serde_json::Value::Null);
    let o = syncstudio(&home, &["runs", "resume", &run, "--format", "json"]);
    every_row_once(&home, &o, rows);
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

/// A job whose close never reached the org stays open; the resume aborts
/// it and sends its rows in a new job, whose close is lost too: that job
/// stays in flight in its turn (not its rows reported unknown), and the
/// next resume sends them: every row once.
#[test]
fn a_job_sent_again_by_a_resume_whose_close_is_lost_is_read_back_by_the_next() {
    let rows = 20_000;
    // Each close is sent five times (four retries), all dropped unseen.
    let closes_lost =
        serde_json::json!({"route": "jobs", "method": "PATCH", "kind": "reset", "times": 5});
    let (home, org, o) = insert_closing_under(
        "faults-close-lost-twice",
        rows,
        serde_json::json!([closes_lost]),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let run = run_line(&o);
    // The resume's abort of the open job goes through; its new job's
    // closes are lost.
    control(
        &org.url,
        "POST",
        "faults",
        serde_json::json!({"rules": [
            {"route": "jobs", "method": "PATCH", "kind": "pass", "times": 1},
            closes_lost
        ]}),
    );
    let o = syncstudio(&home, &["runs", "resume", &run, "--format", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_eq!(
        summary_of(&o)["unknown"],
        0,
        "nothing guessed: {}",
        text(&o.stdout)
    );
    control(&org.url, "DELETE", "faults", serde_json::Value::Null);
    let o = syncstudio(&home, &["runs", "resume", &run, "--format", "json"]);
    every_row_once(&home, &o, rows);
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

/// A Bulk insert of `rows` contacts ("Closed N") with `rules` injected.
fn insert_closing_under(
    tag: &str,
    rows: u64,
    rules: serde_json::Value,
) -> (std::path::PathBuf, Playground, std::process::Output) {
    let (home, org, file) = connected_with_contacts(tag, "LastName,Email", rows, |n| {
        format!("Closed {n},c{n}@example.com")
    });
    control(
        &org.url,
        "POST",
        "faults",
        serde_json::json!({ "rules": rules }),
    );
    let o = syncstudio(
        &home,
        &import_args(
            "Contact",
            "insert",
            &file,
            &["--api", "bulk", "--format", "json"],
        ),
    );
    (home, org, o)
}

fn summary_of(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(text(&o.stdout).lines().last().unwrap_or("null")).unwrap()
}

/// The run `o` printed succeeded with every row created: each in the
/// success file once, and in the org once.
fn every_row_once(home: &std::path::Path, o: &std::process::Output, rows: u64) {
    let s = summary_of(o);
    assert_eq!(o.status.code(), Some(0), "{s} {}", text(&o.stderr));
    assert_eq!(
        (s["succeeded"].as_u64(), s["created"].as_u64()),
        (Some(rows), Some(rows))
    );
    let ok = sf_rows(s["success_file"].as_str().unwrap());
    assert_eq!(ok.len() as u64, rows, "each row once in the success file");
    assert_eq!(
        ok.iter().copied().collect::<BTreeSet<_>>(),
        (2..rows + 2).collect::<BTreeSet<_>>()
    );
    let o = syncstudio(
        home,
        &[
            "query",
            "Play",
            "SELECT Id FROM Contact WHERE LastName LIKE 'Closed %'",
            "--format",
            "json",
        ],
    );
    let in_org: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        in_org.as_array().unwrap().len() as u64,
        rows,
        "each row once in the org"
    );
}

/// A playground connected as `Play`, and a CSV of `rows` contacts under
/// `header` (row n as `line` writes it) in a home of its own.
fn connected_with_contacts(
    tag: &str,
    header: &str,
    rows: u64,
    line: impl Fn(u64) -> String,
) -> (std::path::PathBuf, Playground, std::path::PathBuf) {
    let home = temp(tag);
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let file = home.join("contacts.csv");
    let mut csv = format!("{header}\n");
    for n in 0..rows {
        csv.push_str(&line(n));
        csv.push('\n');
    }
    std::fs::write(&file, csv).unwrap();
    (home, org, file)
}

fn under_faults(api: &str, route: &str, operation: &str) {
    let rows: u64 = std::env::var("SYNCSTUDIO_FAULT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let (home, org, file) = connected_with_contacts(
        &format!("faults-{api}-{operation}"),
        "ERP_Id__c,LastName,Email",
        rows,
        |n| format!("F-{n},Fault {n},f{n}@example.com"),
    );
    seed_erp_id(&org.url, &["Contact"]);
    control(
        &org.url,
        "POST",
        "faults",
        serde_json::json!({"rules": [
            {"route": route, "kind": "error500", "probability": 0.05},
            {"route": route, "kind": "error503", "probability": 0.02, "retryAfter": 1},
            {"route": route, "kind": "reset", "probability": 0.01},
            {"route": route, "kind": "resetAfter", "probability": 0.01}
        ]}),
    );
    // Row locks: a collection's or a job's row that failed on one is sent
    // again.
    control(
        &org.url,
        "POST",
        "lock-row",
        serde_json::json!({"object": "Contact", "probability": 0.01}),
    );
    let mut extra = vec!["--api", api, "--format", "json"];
    if operation == "upsert" {
        extra.extend(["--external-id", "ERP_Id__c"]);
    }
    let Started {
        mut child, mut out, ..
    } = start_run(
        &home,
        &import_args("Contact", operation, &file, &extra),
        Stdio::piped(),
    );
    // Every session expires while the run is under way.
    std::thread::sleep(std::time::Duration::from_millis(300));
    control(&org.url, "POST", "tokens/expire", serde_json::Value::Null);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let s: serde_json::Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
    assert!(matches!(status.code(), Some(0 | 1)), "{s}");
    control(&org.url, "DELETE", "faults", serde_json::Value::Null);
    control(&org.url, "DELETE", "lock-row", serde_json::Value::Null);

    // Every row in exactly one result file.
    let ok = sf_rows(s["success_file"].as_str().unwrap());
    let bad = sf_rows(s["error_file"].as_str().unwrap());
    let unknown = sf_rows(s["unknown_file"].as_str().unwrap_or(""));
    let all: Vec<u64> = ok.iter().chain(&bad).chain(&unknown).copied().collect();
    assert_eq!(
        all.iter().copied().collect::<BTreeSet<_>>(),
        (2..rows + 2).collect::<BTreeSet<_>>()
    );
    assert_eq!(all.len() as u64, rows, "no row twice");
    assert!(
        unknown.is_empty(),
        "an upsert is safe to send again, a Bulk job is read back: nothing unknown"
    );
    assert!(
        bad.len() as u64 * 1000 <= rows,
        "{} rows failed under retryable faults",
        bad.len()
    );
    // No record twice, and each holds exactly its row's values.
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT ERP_Id__c, LastName, Email FROM Contact WHERE ERP_Id__c != null",
            "--format",
            "json",
        ],
    );
    let in_org: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for r in in_org.as_array().unwrap() {
        let ext = r["ERP_Id__c"].as_str().unwrap();
        *seen.entry(ext.to_string()).or_default() += 1;
        let n = &ext[2..];
        assert_eq!(r["LastName"], format!("Fault {n}"));
        assert_eq!(r["Email"], format!("f{n}@example.com"));
    }
    assert!(seen.values().all(|&c| c == 1), "a record made twice");
    assert_eq!(seen.len(), ok.len(), "exactly the rows reported written");
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}
