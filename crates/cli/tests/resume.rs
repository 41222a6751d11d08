//! `kill -9` at moments spread over an import, then `runs resume`:
//! nothing lost (every row in exactly one result file) and nothing twice
//! (no record made twice), over REST and over Bulk API 2.0.

mod common;
use common::*;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Moments spread over `span_ms`, the same every run (a fixed LCG).
fn moments(n: usize, span_ms: u64) -> Vec<u64> {
    let mut x: u64 = 0x5eed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % span_ms
        })
        .collect()
}

/// Starts an import, kills it with SIGKILL `after_ms` after its run line,
/// resumes it until done, and answers the final summary and whether the
/// kill landed mid-run.
fn kill_then_resume(home: &Path, args: &[&str], after_ms: u64) -> (serde_json::Value, bool) {
    let (s, interrupted, _) = kill_then_resume_in_flight(home, args, after_ms);
    (s, interrupted)
}

/// `kill_then_resume`, also answering whether rows were in flight at the kill.
fn kill_then_resume_in_flight(
    home: &Path,
    args: &[&str],
    after_ms: u64,
) -> (serde_json::Value, bool, bool) {
    let Started { mut child, run, .. } =
        start_run(home, &[args, &["--format", "json"]].concat(), Stdio::null());
    std::thread::sleep(Duration::from_millis(after_ms));
    let _ = child.kill();
    child.wait().unwrap();
    let show = |home: &Path| -> serde_json::Value {
        serde_json::from_slice(
            &syncstudio(home, &["runs", "show", &run, "--format", "json"]).stdout,
        )
        .unwrap()
    };
    let mut s = show(home);
    let interrupted = s["status"] == "interrupted";
    // Whether rows were being sent when it died (a REST request or a Bulk
    // job unanswered): the case a resume must settle without resending.
    let in_flight = std::fs::read_to_string(home.join("runs").join(&run).join("in_flight.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| {
            v["parts"].as_array().is_some_and(|p| {
                p.iter().any(|p| {
                    ["ranges", "lines"]
                        .iter()
                        .any(|k| p[k].as_array().is_some_and(|l| !l.is_empty()))
                })
            })
        });
    if interrupted {
        let o = syncstudio(home, &["runs", "resume", &run, "--format", "json"]);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "resume after {after_ms} ms: {}",
            text(&o.stderr)
        );
        s = show(home);
    }
    assert!(
        matches!(
            s["status"].as_str(),
            Some("completed" | "completed_with_errors")
        ),
        "after {after_ms} ms: {s}"
    );
    (s, interrupted, interrupted && in_flight)
}

fn check_partition(s: &serde_json::Value, rows: u64) -> (BTreeSet<u64>, BTreeSet<u64>) {
    let ok: Vec<u64> = sf_rows(s["success_file"].as_str().unwrap());
    let bad: Vec<u64> = sf_rows(s["error_file"].as_str().unwrap());
    let unknown: Vec<u64> = sf_rows(s["unknown_file"].as_str().unwrap_or(""));
    let all: Vec<u64> = ok.iter().chain(&bad).chain(&unknown).copied().collect();
    let set: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(
        all.len(),
        set.len(),
        "a row in two result files, or twice in one: {s}"
    );
    assert_eq!(
        set,
        (2..rows + 2).collect::<BTreeSet<u64>>(),
        "every row, once: {s}"
    );
    assert_eq!(s["rows"].as_u64(), Some(rows));
    (ok.into_iter().collect(), unknown.into_iter().collect())
}

/// How many records carry each LastName starting with `prefix`.
fn names(home: &Path, prefix: &str) -> HashMap<String, u64> {
    let o = syncstudio(
        home,
        &[
            "query",
            "Play",
            &format!("SELECT LastName FROM Lead WHERE LastName LIKE '{prefix}%'"),
            "--format",
            "json",
        ],
    );
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut n = HashMap::new();
    for r in rows.as_array().unwrap() {
        *n.entry(r["LastName"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    n
}

#[test]
fn kill_9_then_resume_over_rest_loses_nothing_and_sends_nothing_twice() {
    let home = temp("resume-rest");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    seed_erp_id(&org.url, &["Lead"]);
    control(
        &org.url,
        "POST",
        "faults",
        serde_json::json!({"route": "composite", "kind": "latency", "latencyMs": 40}),
    );
    const ROWS: u64 = 600;
    let mut landed = 0;
    for (i, after) in moments(10, 600).into_iter().enumerate() {
        let prefix = format!("R{i}x");
        let file = home.join(format!("{prefix}.csv"));
        // Upserts are sent again safely, and inserts that carry an external
        // id are looked up by it: every row must end up written once. An
        // insert without one may leave its request in flight unknown.
        let (op, keyed) = match i % 3 {
            0 => ("upsert", true),
            1 => ("insert", true),
            _ => ("insert", false),
        };
        let mut csv = String::from(if keyed {
            "ERP_Id__c,LastName,Company\n"
        } else {
            "LastName,Company\n"
        });
        for n in 0..ROWS {
            if keyed {
                csv.push_str(&format!("{prefix}{n},"));
            }
            csv.push_str(&format!("{prefix}{n},Resume Co\n"));
        }
        std::fs::write(&file, csv).unwrap();
        let mut args = vec![
            "import",
            "Play",
            "--object",
            "Lead",
            "--operation",
            op,
            "--api",
            "rest",
            "--batch-size",
            "25",
            "--file",
            file.to_str().unwrap(),
        ];
        if op == "upsert" {
            args.extend(["--external-id", "ERP_Id__c"]);
        }
        let (s, interrupted) = kill_then_resume(&home, &args, after);
        landed += usize::from(interrupted);
        let (ok, unknown) = check_partition(&s, ROWS);
        let in_org = names(&home, &prefix);
        assert!(
            in_org.values().all(|&c| c == 1),
            "a record made twice ({op}, killed after {after} ms)"
        );
        for line in &ok {
            assert!(
                in_org.contains_key(&format!("{prefix}{}", line - 2)),
                "line {line} reported written but missing"
            );
        }
        if keyed {
            assert!(
                unknown.is_empty(),
                "{op} with an external id: sent again or found, never left unknown"
            );
            assert_eq!(in_org.len() as u64, ROWS);
        } else {
            // Only the one request in flight can be unknown.
            assert!(unknown.len() <= 25, "{} unknown", unknown.len());
            assert!(
                in_org.len() as u64 >= ok.len() as u64
                    && in_org.len() as u64 <= ok.len() as u64 + unknown.len() as u64
            );
        }
    }
    assert!(landed >= 5, "only {landed} of 10 kills landed mid-run");
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn kill_9_then_resume_over_bulk_reads_the_open_job_back() {
    let home = temp("resume-bulk");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    // Each Bulk call takes 150 ms, so a kill lands inside a job.
    control(
        &org.url,
        "POST",
        "faults",
        serde_json::json!({"route": "jobs", "kind": "latency", "latencyMs": 150}),
    );
    const ROWS: u64 = 25_000;
    let mut landed = 0;
    for (i, after) in moments(10, 3_000).into_iter().enumerate() {
        let prefix = format!("B{i}x");
        let file = home.join(format!("{prefix}.csv"));
        let mut csv = String::from("LastName,Company\n");
        for n in 0..ROWS {
            csv.push_str(&format!("{prefix}{n},Bulk Resume Co\n"));
        }
        std::fs::write(&file, csv).unwrap();
        let args = [
            "import",
            "Play",
            "--object",
            "Lead",
            "--operation",
            "insert",
            "--api",
            "bulk",
            "--file",
            file.to_str().unwrap(),
        ];
        let (s, interrupted) = kill_then_resume(&home, &args, after);
        landed += usize::from(interrupted);
        let (ok, unknown) = check_partition(&s, ROWS);
        assert!(
            unknown.is_empty(),
            "an open Bulk job is read back, not guessed: {s}"
        );
        let in_org = names(&home, &prefix);
        assert!(
            in_org.values().all(|&c| c == 1),
            "a record made twice (killed after {after} ms)"
        );
        assert_eq!(
            in_org.len(),
            ok.len(),
            "exactly the rows reported written (killed after {after} ms)"
        );
    }
    assert!(landed >= 5, "only {landed} of 10 kills landed mid-run");
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

/// Title of each Lead whose LastName starts with `prefix`, by LastName.
fn titles(home: &Path, prefix: &str) -> HashMap<String, String> {
    let o = syncstudio(
        home,
        &[
            "query",
            "Play",
            &format!("SELECT LastName, Title FROM Lead WHERE LastName LIKE '{prefix}%'"),
            "--format",
            "json",
        ],
    );
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["LastName"].as_str().unwrap().to_string(),
                r["Title"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn an_upsert_killed_mid_send_then_resumed_is_undone_to_what_the_org_held() {
    let home = temp("resume-undo");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    seed_erp_id(&org.url, &["Lead"]);
    // (api, rows already in the org, rows the upsert adds, kill moments,
    // later and later until two kills have landed with rows in flight: how
    // soon the first job is out depends on the machine)
    let cases = [
        (
            "bulk",
            9_000u64,
            3_000u64,
            [1_500u64, 2_000, 2_500, 3_000, 3_500, 4_000, 5_000, 6_500],
        ),
        (
            "rest",
            400,
            200,
            [150, 300, 450, 600, 750, 900, 1_050, 1_200],
        ),
    ];
    for (api, existing, added, kills) in cases {
        let mut landed_in_flight = 0;
        for (i, after) in kills.into_iter().enumerate() {
            if landed_in_flight == 2 {
                break;
            }
            let prefix = format!("U{api}{i}x");
            let mut csv = String::from("ERP_Id__c,LastName,Company,Title\n");
            for n in 0..existing {
                csv.push_str(&format!("{prefix}{n},{prefix}{n},Undo Co,Before {n}\n"));
            }
            let file = home.join(format!("{prefix}-before.csv"));
            std::fs::write(&file, &csv).unwrap();
            let o = syncstudio(
                &home,
                &[
                    "import",
                    "Play",
                    "--object",
                    "Lead",
                    "--operation",
                    "insert",
                    "--api",
                    "bulk",
                    "--file",
                    file.to_str().unwrap(),
                ],
            );
            assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
            let held = titles(&home, &prefix);
            assert_eq!(held.len() as u64, existing);

            let mut csv = String::from("ERP_Id__c,LastName,Company,Title\n");
            for n in 0..existing + added {
                csv.push_str(&format!("{prefix}{n},{prefix}{n},Undo Co,After\n"));
            }
            let file = home.join(format!("{prefix}-upsert.csv"));
            std::fs::write(&file, &csv).unwrap();
            // Slow answers, so a kill lands while rows are in flight: over
            // Bulk, slow status polls and result reads (a job's results are
            // read while the next job is sent), so the org has written a
            // job's rows before the import learns it.
            let fault = if api == "bulk" {
                serde_json::json!({"route": "jobs", "method": "GET", "kind": "latency", "latencyMs": 800})
            } else {
                serde_json::json!({"route": "composite", "kind": "latency", "latencyMs": 40})
            };
            control(&org.url, "POST", "faults", fault);
            let args = [
                "import",
                "Play",
                "--object",
                "Lead",
                "--operation",
                "upsert",
                "--external-id",
                "ERP_Id__c",
                "--api",
                api,
                "--batch-size",
                "25",
                "--file",
                file.to_str().unwrap(),
            ];
            let (s, _, in_flight) = kill_then_resume_in_flight(&home, &args, after);
            control(&org.url, "DELETE", "faults", serde_json::json!({}));
            landed_in_flight += usize::from(in_flight);
            let (_, unknown) = check_partition(&s, existing + added);
            assert!(unknown.is_empty(), "{s}");
            assert_eq!(s["created"].as_u64(), Some(added), "{api}, {after} ms: {s}");
            assert_eq!(
                s["updated"].as_u64(),
                Some(existing),
                "{api}, {after} ms: {s}"
            );

            let run = s["run"].as_str().unwrap();
            let o = syncstudio(&home, &["runs", "undo", run, "--format", "json"]);
            assert_eq!(o.status.code(), Some(0), "undo: {}", text(&o.stderr));
            assert_eq!(
                titles(&home, &prefix),
                held,
                "{api}, killed after {after} ms: undo puts back every title and removes what the upsert made"
            );
        }
        assert!(
            landed_in_flight >= 2,
            "{api}: only {landed_in_flight} kills landed with rows in flight"
        );
    }
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}
