//! `syncstudio import` and `runs` as a user runs them against the
//! playground: the run line first, the JSON summary last, result files
//! where every input row lands exactly once, the records in the org.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn summary(o: &std::process::Output) -> serde_json::Value {
    let out = text(&o.stdout);
    assert!(out.starts_with("run "), "the run line first: {out}");
    serde_json::from_str(out.lines().last().unwrap()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn column(path: &str, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let at = r.headers().unwrap().iter().position(|h| h == name).unwrap();
    r.records().map(|x| x.unwrap()[at].to_string()).collect()
}

fn query(home: &Path, soql: &str) -> Vec<String> {
    let o = syncstudio(home, &["query", "Play", soql]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout)
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn insert_with_bad_rows_then_upsert_update_delete_and_runs() {
    let home = temp("import");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    seed_erp_id(&org.url, &["Contact"]);
    // Semicolons, a BOM, CRLF, labels for headers, a multi-line cell, a
    // blank line, and three bad rows: no last name, ragged, a bad date.
    let file = home.join("contacts.csv");
    std::fs::write(
        &file,
        "\u{feff}First Name;Last Name;Email;Birthdate;ERP Id;Description\r\n\
         Ada;Lovelace;ada@example.com;1815-12-10;C-1;\"first\r\nprogrammer\"\r\n\
         Alan;Turing;alan@example.com;1912-06-23;C-2;\r\n\
         \r\n\
         Grace;;grace@example.com;1906-12-09;C-3;\r\n\
         Edsger;Dijkstra;;1930-05-11;C-4;extra;cell\r\n\
         Barbara;Liskov;barbara@example.com;1939-13-07;C-5;\r\n\
         Donald;Knuth;don@example.com;1938-01-10;C-6;\r\n",
    )
    .unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "insert",
            "--file",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "some rows failed: {}",
        text(&o.stderr)
    );
    let s = summary(&o);
    assert_eq!(s["status"], "completed_with_errors");
    assert_eq!(
        (
            s["rows"].as_u64(),
            s["succeeded"].as_u64(),
            s["failed"].as_u64()
        ),
        (Some(6), Some(3), Some(3))
    );
    assert_eq!(s["created"], 3);
    assert_eq!(s["operation"], "insert");
    assert_eq!(s["object"], "Contact");
    assert!(s["api_calls"].as_u64().unwrap() >= 1);
    let ok = s["success_file"].as_str().unwrap();
    let bad = s["error_file"].as_str().unwrap();
    assert_eq!(sf_rows(ok), [2, 4, 9], "sf__Row is the line in the file");
    assert_eq!(sf_rows(bad), [6, 7, 8]);
    let errors = column(bad, "sf__Error");
    assert!(
        errors[0].contains("LastName: required on create"),
        "{errors:?}"
    );
    assert!(errors[1].contains("line 7 has 7 cells"), "{errors:?}");
    assert!(errors[2].contains("not a date"), "{errors:?}");
    assert_eq!(
        column(ok, "Last Name"),
        ["Lovelace", "Turing", "Knuth"],
        "the input row as written"
    );
    let ids = column(ok, "sf__Id");
    assert!(ids.iter().all(|i| i.starts_with("003")));
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT LastName, Birthdate, Description FROM Contact WHERE ERP_Id__c != null ORDER BY LastName",
            "--format",
            "json",
        ],
    );
    let in_org: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = in_org
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["LastName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Knuth", "Lovelace", "Turing"]);
    assert_eq!(in_org[1]["Birthdate"], "1815-12-10");
    assert_eq!(
        in_org[1]["Description"], "first\r\nprogrammer",
        "a multi-line cell arrives whole"
    );

    // Upsert by external id: two updated, one created.
    let upsert = home.join("upsert.csv");
    std::fs::write(
        &upsert,
        "ERP_Id__c,LastName,Title\nC-1,Lovelace,Countess\nC-2,Turing,Dr\nC-7,Hopper,Rear Admiral\n",
    )
    .unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "upsert",
            "--external-id",
            "ERP_Id__c",
            "--file",
            upsert.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let up = summary(&o);
    assert_eq!(
        (up["created"].as_u64(), up["updated"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        column(up["success_file"].as_str().unwrap(), "sf__Created"),
        ["false", "false", "true"]
    );

    // Update by Id with --insert-nulls blanks a field; delete by Id.
    let update = home.join("update.csv");
    std::fs::write(&update, format!("Id,Title\n{},\n", ids[0])).unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "update",
            "--insert-nulls",
            "--file",
            update.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("completed: 1 rows, 1 succeeded"),
        "{}",
        text(&o.stdout)
    );
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            &format!("SELECT Title FROM Contact WHERE Id = '{}'", ids[0]),
            "--format",
            "json",
        ],
    );
    let title: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        title[0]["Title"],
        serde_json::Value::Null,
        "--insert-nulls blanked Countess"
    );
    let delete = home.join("delete.csv");
    std::fs::write(
        &delete,
        format!(
            "Id,Note\n{},gone\n{},gone\n003Dn0000009999,never there\n",
            ids[1], ids[2]
        ),
    )
    .unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "delete",
            "--file",
            delete.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let del = summary(&o);
    assert_eq!(
        (del["deleted"].as_u64(), del["failed"].as_u64()),
        (Some(2), Some(1))
    );

    // The record of every run, the same objects as the imports printed.
    let list = syncstudio(&home, &["runs", "list", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 4);
    assert_eq!(runs[0], del, "newest first");
    let show = syncstudio(
        &home,
        &[
            "runs",
            "show",
            s["run"].as_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&show.stdout).unwrap(),
        s
    );
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn file_and_mapping_problems_stop_before_a_run() {
    let home = temp("import-refused");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let file = home.join("a.csv");
    for (content, args, want) in [
        ("", vec![], "empty"),
        ("Name,Colour\nAcme,red\n", vec![], "\"Colour\""),
        ("Name\nAcme\n", vec!["--object", "Nope__c"], "not an object"),
        (
            "Name\nAcme\n",
            vec!["--time-zone", "Mars/Olympus"],
            "not a time zone",
        ),
        ("Name,Name\nA,B\n", vec![], "twice"),
    ] {
        std::fs::write(&file, content).unwrap();
        let mut all = vec![
            "import",
            "Play",
            "--operation",
            "insert",
            "--file",
            file.to_str().unwrap(),
        ];
        if !args.contains(&"--object") {
            all.extend(["--object", "Account"]);
        }
        all.extend(args.iter().copied());
        let o = syncstudio(&home, &all);
        assert_eq!(o.status.code(), Some(2), "{content:?}");
        assert!(
            one_line(&o).contains(want),
            "{content:?}: {}",
            text(&o.stderr)
        );
        assert!(o.stdout.is_empty(), "no run for {content:?}");
    }
    let runs = syncstudio(&home, &["runs", "list", "--format", "json"]);
    assert_eq!(text(&runs.stdout).trim(), "[]");
    // A mapping file names fields, skips columns and sets constants.
    std::fs::write(&file, "Company Name,Colour\nMapped Inc,red\n").unwrap();
    let map = home.join("map.json");
    std::fs::write(&map, r#"{"columns": {"Company Name": "Name", "Colour": null}, "constants": {"Industry": "Technology"}}"#).unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Account",
            "--operation",
            "insert",
            "--file",
            file.to_str().unwrap(),
            "--map",
            map.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        query(
            &home,
            "SELECT Industry FROM Account WHERE Name = 'Mapped Inc'"
        ),
        ["Technology"]
    );
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_stopped_import_accounts_for_every_row_and_a_killed_one_is_interrupted() {
    let (home, org, file) = leads_to_stop("import-stop", 1_000);
    // Each collection call takes 400 ms.
    control(
        &org.url,
        "POST",
        "faults",
        serde_json::json!({"route": "composite", "kind": "latency", "latencyMs": 400}),
    );
    for (signal, status) in [("-INT", "cancelled"), ("-KILL", "interrupted")] {
        stop_import(&home, &file, 1_000, &["--batch-size", "50"], signal, status);
    }
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

/// A Bulk insert cancelled between jobs: its rows are packed as read, and
/// those not sent go to the error file, to be sent by a resume.
#[test]
fn a_cancelled_bulk_insert_accounts_for_every_row() {
    let rows = 60_000;
    let (home, org, file) = leads_to_stop("import-stop-bulk", rows);
    // Each Bulk call takes 100 ms.
    control(
        &org.url,
        "POST",
        "faults",
        serde_json::json!({"route": "jobs", "kind": "latency", "latencyMs": 100}),
    );
    stop_import(&home, &file, rows, &["--api", "bulk"], "-INT", "cancelled");
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

/// A playground connected as `Play`, and a CSV of `rows` Leads of the
/// company "Stop Co".
fn leads_to_stop(tag: &str, rows: u64) -> (PathBuf, Playground, PathBuf) {
    let home = temp(tag);
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let file = home.join("leads.csv");
    let mut csv = String::from("LastName,Company\n");
    for i in 0..rows {
        csv.push_str(&format!("Lead {i},Stop Co\n"));
    }
    std::fs::write(&file, csv).unwrap();
    (home, org, file)
}

/// Imports `file` (Leads of "Stop Co"), stops the run with `signal` once
/// some rows are written and checks it ended `status`; a cancelled run
/// has every row in exactly one result file, the org exactly the rows
/// reported sent, and its resume sends the rest.
fn stop_import(home: &Path, file: &Path, rows: u64, args: &[&str], signal: &str, status: &str) {
    let extra = [&["--format", "json"][..], args].concat();
    let Started {
        mut child,
        mut out,
        run,
    } = start_run(
        home,
        &import_args("Lead", "insert", file, &extra),
        Stdio::piped(),
    );
    // Stop it once some rows are written (however slow the machine).
    let ok = home.join("runs").join(&run).join("success.csv");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&ok)
        .map(|t| t.lines().count())
        .unwrap_or(0)
        < 2
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no row written"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    child.wait().unwrap();
    let show = syncstudio(home, &["runs", "show", &run, "--format", "json"]);
    let s: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(s["status"], status, "{rest}");
    if status == "cancelled" {
        assert_eq!(s["rows"], rows);
        let sent: BTreeSet<u64> = sf_rows(s["success_file"].as_str().unwrap())
            .into_iter()
            .collect();
        let not_sent: BTreeSet<u64> = sf_rows(s["error_file"].as_str().unwrap())
            .into_iter()
            .collect();
        assert!(!sent.is_empty() && !not_sent.is_empty());
        assert!(sent.is_disjoint(&not_sent));
        assert_eq!(
            (sent.len() + not_sent.len()) as u64,
            rows,
            "every row in exactly one file"
        );
        let count = syncstudio(
            home,
            &[
                "query",
                "Play",
                "SELECT COUNT() FROM Lead WHERE Company = 'Stop Co'",
            ],
        );
        assert_eq!(
            text(&count.stdout).trim(),
            sent.len().to_string(),
            "the org holds exactly the rows reported sent"
        );
        assert!(column(s["error_file"].as_str().unwrap(), "sf__Error")[0].contains("not sent"));
        // A cancelled run can be resumed: the rows not sent go now.
        let o = syncstudio(home, &["runs", "resume", &run, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let done = summary(&o);
        assert_eq!(
            (done["status"].as_str(), done["succeeded"].as_u64()),
            (Some("completed"), Some(rows))
        );
        let count = syncstudio(
            home,
            &[
                "query",
                "Play",
                "SELECT COUNT() FROM Lead WHERE Company = 'Stop Co'",
            ],
        );
        assert_eq!(text(&count.stdout).trim(), rows.to_string());
    }
}

#[test]
fn large_files_go_through_bulk_api_and_results_find_their_rows() {
    let home = temp("import-bulk");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    // 3,000 rows: over the REST threshold, so `--api auto` picks Bulk API
    // 2.0. Every 500th has an e-mail Salesforce refuses (not checked here).
    let file = home.join("bulk.csv");
    let mut csv = String::from("FirstName,LastName,Email\n");
    for i in 0..3_000 {
        let email = if i % 500 == 7 {
            "not-an-email".to_string()
        } else {
            format!("p{i}@example.com")
        };
        csv.push_str(&format!("P,Bulk {i:04},{email}\n"));
    }
    std::fs::write(&file, csv).unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "insert",
            "--file",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let s = summary(&o);
    assert_eq!(
        (
            s["rows"].as_u64(),
            s["succeeded"].as_u64(),
            s["failed"].as_u64()
        ),
        (Some(3000), Some(2994), Some(6))
    );
    assert!(
        s["api_calls"].as_u64().unwrap() < 30,
        "a bulk job, not 15 collection calls: {s}"
    );
    let ok = s["success_file"].as_str().unwrap();
    let lines = sf_rows(ok);
    let names = column(ok, "LastName");
    let ids = column(ok, "sf__Id");
    // Each id is the record made from its own row.
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Id, LastName FROM Contact WHERE FirstName = 'P'",
            "--format",
            "json",
        ],
    );
    let in_org: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let by_id: std::collections::HashMap<&str, &str> = in_org
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["Id"].as_str().unwrap(), r["LastName"].as_str().unwrap()))
        .collect();
    assert_eq!(by_id.len(), 2994);
    for ((line, name), id) in lines.iter().zip(&names).zip(&ids) {
        assert_eq!(by_id.get(id.as_str()), Some(&name.as_str()), "line {line}");
        assert_eq!(*name, format!("Bulk {:04}", line - 2));
    }
    let errors = column(s["error_file"].as_str().unwrap(), "sf__Error");
    assert!(
        errors.iter().all(|e| e.contains("INVALID_EMAIL_ADDRESS")),
        "{errors:?}"
    );
    assert_eq!(
        sf_rows(s["error_file"].as_str().unwrap()),
        [9, 509, 1009, 1509, 2009, 2509]
    );

    // Hard delete needs Bulk API 2.0: refused over REST, done over Bulk.
    let del = home.join("del.csv");
    std::fs::write(&del, format!("Id\n{}\n{}\n", ids[0], ids[1])).unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "hard-delete",
            "--api",
            "rest",
            "--file",
            del.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line(&o).contains("needs Bulk API 2.0"));
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "hard-delete",
            "--file",
            del.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(summary(&o)["deleted"], 2);
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            &format!(
                "SELECT COUNT() FROM Contact WHERE Id IN ('{}', '{}')",
                ids[0], ids[1]
            ),
            "--all",
        ],
    );
    assert_eq!(text(&o.stdout).trim(), "0", "gone, not in the recycle bin");
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_dry_run_predicts_what_the_import_then_does() {
    let home = temp("import-dry");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    control(
        &org.url,
        "POST",
        "seed",
        serde_json::json!({"fields": {
            "Contact": [{"name": "ERP_Id__c", "type": "string", "length": 20, "externalId": true, "unique": true}],
            "Account": [{"name": "ERP_Id__c", "type": "string", "length": 20, "externalId": true, "unique": true}]
        }}),
    );
    let setup = home.join("setup.csv");
    std::fs::write(&setup, "Name,ERP_Id__c\nParent Co,A-1\n").unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Account",
            "--operation",
            "insert",
            "--file",
            setup.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    std::fs::write(
        &setup,
        "ERP_Id__c,LastName,Title,Account.ERP_Id__c\nD-1,Same,Keep,A-1\nD-2,Changing,Old,A-1\n",
    )
    .unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "insert",
            "--file",
            setup.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));

    let file = home.join("upsert.csv");
    std::fs::write(
        &file,
        "ERP_Id__c,LastName,Title,Account.ERP_Id__c,Birthdate\n\
         D-1,Same,Keep,A-1,\n\
         D-2,Changing,New,A-1,\n\
         D-3,Fresh,New,A-1,\n\
         D-4,Orphan,New,A-404,\n\
         D-5,Bad date,New,A-1,someday\n",
    )
    .unwrap();
    let args = |dry: bool| {
        let mut a = vec![
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "upsert",
            "--external-id",
            "ERP_Id__c",
            "--only-changed",
            "--format",
            "json",
            "--file",
            file.to_str().unwrap(),
        ];
        if dry {
            a.push("--dry-run");
        }
        a
    };
    let before = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT LastName, Title FROM Contact WHERE ERP_Id__c != null ORDER BY LastName",
        ],
    );
    let dry = syncstudio(&home, &args(true));
    assert_eq!(dry.status.code(), Some(1), "{}", text(&dry.stderr));
    let predicted = summary(&dry);
    let after_dry = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT LastName, Title FROM Contact WHERE ERP_Id__c != null ORDER BY LastName",
        ],
    );
    assert_eq!(before.stdout, after_dry.stdout, "a dry run writes nothing");
    let counts = |s: &serde_json::Value| {
        ["created", "updated", "unchanged", "failed", "succeeded"].map(|k| s[k].as_u64().unwrap())
    };
    assert_eq!(counts(&predicted), [1, 1, 1, 2, 3]);
    let errors = column(predicted["error_file"].as_str().unwrap(), "sf__Error").join("\n");
    assert!(
        errors.contains("no Account has ERP_Id__c = \"A-404\""),
        "{errors}"
    );
    assert!(errors.contains("not a date"), "{errors}");
    assert!(predicted["forecast_api_calls"].as_u64().unwrap() >= 1);
    assert!(predicted["api_calls_left"].as_u64().unwrap() > 0);

    let real = syncstudio(&home, &args(false));
    assert_eq!(real.status.code(), Some(1));
    let done = summary(&real);
    assert_eq!(counts(&done), counts(&predicted), "the prediction held");
    assert_eq!(
        done["api_calls"], predicted["forecast_api_calls"],
        "over REST the forecast is the calls the run makes"
    );
    let sorted = |p: &serde_json::Value| {
        let mut r = sf_rows(p.as_str().unwrap());
        r.sort();
        r
    };
    assert_eq!(sorted(&done["error_file"]), [5, 6]);
    assert_eq!(sorted(&predicted["error_file"]), [5, 6]);
    let titles = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT LastName, Title FROM Contact WHERE ERP_Id__c != null ORDER BY LastName",
        ],
    );
    assert_eq!(
        text(&titles.stdout),
        "LastName,Title\nChanging,New\nFresh,New\nSame,Keep\n"
    );

    // --missing-parent null: the orphan is written with no account, in the
    // check and in the run alike.
    let orphans = home.join("orphans.csv");
    std::fs::write(
        &orphans,
        "ERP_Id__c,LastName,Account.ERP_Id__c\nD-6,Orphan Two,A-405\nD-7,Adopted,A-1\n",
    )
    .unwrap();
    let args = |dry: bool| {
        let mut a = vec![
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "insert",
            "--missing-parent",
            "null",
            "--format",
            "json",
            "--file",
            orphans.to_str().unwrap(),
        ];
        if dry {
            a.push("--dry-run");
        }
        a
    };
    let dry = syncstudio(&home, &args(true));
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    assert_eq!(counts(&summary(&dry)), [2, 0, 0, 0, 2]);
    let real = syncstudio(
        &home,
        &args(true)
            .into_iter()
            .filter(|a| *a != "--dry-run")
            .collect::<Vec<_>>(),
    );
    assert_eq!(real.status.code(), Some(0), "{}", text(&real.stderr));
    assert_eq!(counts(&summary(&real)), [2, 0, 0, 0, 2]);
    assert_eq!(
        summary(&real)["api_calls"],
        summary(&dry)["forecast_api_calls"],
        "the parents looked up and the write"
    );
    let accounts = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT LastName, Account.Name FROM Contact WHERE ERP_Id__c IN ('D-6', 'D-7') ORDER BY LastName",
        ],
    );
    assert_eq!(
        text(&accounts.stdout),
        "LastName,Account.Name\nAdopted,Parent Co\nOrphan Two,\n"
    );

    // Over Bulk API 2.0 the forecast is the least the run makes: one status
    // poll a job, where a busy org takes a few.
    let titles = home.join("titles.csv");
    std::fs::write(&titles, "ERP_Id__c,Title\nD-1,Bulk\nD-2,Bulk\nD-3,Bulk\n").unwrap();
    let bulk = |dry: bool| {
        let mut a = vec![
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "upsert",
            "--external-id",
            "ERP_Id__c",
            "--api",
            "bulk",
            "--format",
            "json",
            "--file",
            titles.to_str().unwrap(),
        ];
        if dry {
            a.push("--dry-run");
        }
        syncstudio(&home, &a)
    };
    let forecast = summary(&bulk(true))["forecast_api_calls"].as_u64().unwrap();
    let real = bulk(false);
    assert_eq!(real.status.code(), Some(0), "{}", text(&real.stderr));
    let used = summary(&real)["api_calls"].as_u64().unwrap();
    // The lookup for undo's before-images, then one job.
    assert_eq!(forecast, 1 + 7);
    assert!(
        (forecast..forecast + 10).contains(&used),
        "forecast {forecast}, used {used}"
    );
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn retry_sends_the_failed_rows_again_from_a_fixed_error_file() {
    let home = temp("import-retry");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let file = home.join("accounts.csv");
    let long = "L".repeat(300);
    std::fs::write(
        &file,
        format!("Name;Employees;Industry\nGood One;10;Technology\nBad Count;ten;Technology\n{long};5;Retail\nGood Two;20;\n"),
    )
    .unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Account",
            "--operation",
            "insert",
            "--file",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let first = summary(&o);
    assert_eq!(first["failed"], 2);
    // Retried as they are, they fail again; the run is linked and keeps
    // the lines of the first file.
    let o = syncstudio(
        &home,
        &[
            "runs",
            "retry",
            first["run"].as_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let again = summary(&o);
    assert_eq!(
        (again["rows"].as_u64(), again["failed"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(sf_rows(again["error_file"].as_str().unwrap()), [3, 4]);
    // Fixed by hand (the error file as a spreadsheet would save it).
    let fixed = home.join("fixed.csv");
    let edited = std::fs::read_to_string(first["error_file"].as_str().unwrap())
        .unwrap()
        .replace(",ten,", ",10,")
        .replace(&long, "Bad Length");
    std::fs::write(&fixed, edited).unwrap();
    let o = syncstudio(
        &home,
        &[
            "runs",
            "retry",
            first["run"].as_str().unwrap(),
            "--file",
            fixed.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let done = summary(&o);
    assert_eq!(
        (done["rows"].as_u64(), done["created"].as_u64()),
        (Some(2), Some(2))
    );
    let ok = done["success_file"].as_str().unwrap();
    assert_eq!(sf_rows(ok), [3, 4], "lines of the first file");
    let mut header = csv::Reader::from_path(ok).unwrap();
    let header: Vec<String> = header
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "Name",
            "Employees",
            "Industry",
            "sf__Row",
            "sf__Id",
            "sf__Created"
        ],
        "no sf__ column twice"
    );
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Name FROM Account WHERE Name LIKE 'Bad%' ORDER BY Name",
        ],
    );
    assert_eq!(text(&o.stdout), "Name\nBad Count\nBad Length\n");
    let o = syncstudio(&home, &["runs", "retry", done["run"].as_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line(&o).contains("no failed rows"));
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

/// Bulk jobs run in no set order, and the next job is sent while the org
/// still works on the one before: unless it writes a record that job
/// writes. A key that comes back later in the file ends with the later
/// row's values, as when the rows are sent one job after another.
#[test]
fn a_key_written_again_later_in_a_bulk_upsert_ends_with_the_later_row() {
    let home = temp("import-bulk-order");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    seed_erp_id(&org.url, &["Contact"]);
    // Each job waits a random while in the org's queue: jobs sent
    // together run in any order.
    control(
        &org.url,
        "POST",
        "settings",
        serde_json::json!({"bulkQueueMs": 1000}),
    );
    let keys = 8_000;
    let file = home.join("twice.csv");
    let mut csv = String::from("ERP_Id__c,LastName\n");
    for pass in ["First", "Second"] {
        for k in 0..keys {
            csv.push_str(&format!("K-{k},{pass} {k}\n"));
        }
    }
    std::fs::write(&file, csv).unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "upsert",
            "--external-id",
            "ERP_Id__c",
            "--api",
            "bulk",
            "--file",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = summary(&o);
    assert_eq!(
        (s["created"].as_u64(), s["updated"].as_u64()),
        (Some(keys), Some(keys)),
        "{s}"
    );
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT ERP_Id__c, LastName FROM Contact WHERE ERP_Id__c != null",
            "--format",
            "json",
        ],
    );
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len() as u64, keys);
    for r in rows {
        let k = &r["ERP_Id__c"].as_str().unwrap()[2..];
        assert_eq!(r["LastName"], format!("Second {k}"), "{r}");
    }
}
