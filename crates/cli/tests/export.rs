//! `syncstudio export` as a user runs it: a query to a CSV file, as a run,
//! through REST or Bulk API 2.0, in the layout asked for.

mod common;
use common::*;

fn last_json(o: &std::process::Output) -> serde_json::Value {
    let out = text(&o.stdout);
    assert!(out.starts_with("run "), "{out}");
    serde_json::from_str(out.lines().last().unwrap()).unwrap()
}

#[test]
fn exports_through_rest_and_bulk_in_any_layout() {
    let home = temp("export");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let soql = "SELECT Id, Name, Account.Name FROM Contact WHERE AccountId != null ORDER BY Name";
    let rest = home.join("rest.csv");
    let o = syncstudio(
        &home,
        &[
            "export",
            "Play",
            "--query",
            soql,
            "--out",
            rest.to_str().unwrap(),
            "--delimiter",
            "semicolon",
            "--line-ending",
            "crlf",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = last_json(&o);
    assert_eq!(
        (
            s["status"].as_str(),
            s["operation"].as_str(),
            s["object"].as_str()
        ),
        (Some("completed"), Some("export"), Some("Contact"))
    );
    let rows = s["rows"].as_u64().unwrap();
    assert!(rows > 100);
    assert_eq!(s["success_file"], rest.to_str().unwrap());
    let body = std::fs::read_to_string(&rest).unwrap();
    assert!(
        body.starts_with("Id;Name;Account.Name\r\n"),
        "{:?}",
        &body[..40]
    );
    assert_eq!(body.matches("\r\n").count() as u64, rows + 1);

    for (api, delimiter, sep) in [("bulk", "comma", ','), ("bulk", "tab", '\t')] {
        let out = home.join(format!("bulk-{delimiter}.csv"));
        let o = syncstudio(
            &home,
            &[
                "export",
                "Play",
                "--query",
                soql,
                "--out",
                out.to_str().unwrap(),
                "--api",
                api,
                "--delimiter",
                delimiter,
                "--format",
                "json",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(last_json(&o)["rows"].as_u64(), Some(rows));
        let mut r = csv::ReaderBuilder::new()
            .delimiter(sep as u8)
            .from_path(&out)
            .unwrap();
        assert_eq!(r.headers().unwrap().len(), 3, "{delimiter}");
        assert_eq!(r.records().count() as u64, rows);
    }

    let failed = home.join("failed.csv");
    let o = syncstudio(
        &home,
        &[
            "export",
            "Play",
            "--query",
            "SELECT Nope FROM Contact",
            "--out",
            failed.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("INVALID_FIELD"),
        "{}",
        text(&o.stderr)
    );
    assert!(!failed.exists());
    let runs: serde_json::Value =
        serde_json::from_slice(&syncstudio(&home, &["runs", "list", "--format", "json"]).stdout)
            .unwrap();
    let statuses: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "completed", "completed", "completed"]);
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}
