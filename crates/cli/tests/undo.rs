//! `runs undo` puts the org back as it was before an import, field by
//! field, for every operation; a record changed since is a conflict.

mod common;
use common::*;

use std::path::Path;

fn snapshot(home: &Path) -> serde_json::Value {
    let o = syncstudio(
        home,
        &[
            "query",
            "Play",
            "SELECT Id, LastName, Title, Email, AccountId, ERP_Id__c FROM Contact ORDER BY Id",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn import(home: &Path, op: &str, csv: &str, extra: &[&str]) -> serde_json::Value {
    let file = home.join(format!("{op}-{}.csv", rand_tag()));
    std::fs::write(&file, csv).unwrap();
    let mut args = vec![
        "import",
        "Play",
        "--object",
        "Contact",
        "--operation",
        op,
        "--file",
        file.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = syncstudio(home, &args);
    assert_eq!(o.status.code(), Some(0), "{op}: {}", text(&o.stderr));
    serde_json::from_str(text(&o.stdout).lines().last().unwrap()).unwrap()
}

fn rand_tag() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn undo(home: &Path, run: &serde_json::Value, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec![
        "runs",
        "undo",
        run["run"].as_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = syncstudio(home, &args);
    let out = text(&o.stdout);
    assert!(out.starts_with("run "), "{out}{}", text(&o.stderr));
    (
        o.status.code(),
        serde_json::from_str(out.lines().last().unwrap()).unwrap(),
    )
}

#[test]
fn undo_restores_the_org_after_every_operation_and_reports_conflicts() {
    let home = temp("undo");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    seed_erp_id(&org.url, &["Contact"]);
    let all = snapshot(&home);
    let ids: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .take(6)
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    let accounts: serde_json::Value = serde_json::from_slice(
        &syncstudio(
            &home,
            &[
                "query",
                "Play",
                "SELECT Id FROM Account LIMIT 2",
                "--format",
                "json",
            ],
        )
        .stdout,
    )
    .unwrap();
    let other_account = accounts[1]["Id"].as_str().unwrap();

    // Insert, then undo: the new records are gone.
    let before = snapshot(&home);
    let run = import(
        &home,
        "insert",
        "LastName,Email\nNew One,one@example.com\nNew Two,two@example.com\n",
        &[],
    );
    assert_ne!(snapshot(&home), before);
    let (code, u) = undo(&home, &run, &[]);
    assert_eq!((code, u["deleted"].as_u64()), (Some(0), Some(2)));
    assert_eq!(snapshot(&home), before, "after undoing an insert");

    // Update (a blanked field and a lookup moved), then undo.
    let run = import(
        &home,
        "update",
        &format!(
            "Id,Title,Email,AccountId\n{},Chief,,{other_account}\n{},Boss,boss@example.com,\n",
            ids[0], ids[1]
        ),
        &["--insert-nulls"],
    );
    assert_ne!(snapshot(&home), before);
    let (code, u) = undo(&home, &run, &[]);
    assert_eq!((code, u["updated"].as_u64()), (Some(0), Some(2)), "{u}");
    assert_eq!(snapshot(&home), before, "after undoing an update");

    // Give two records external ids (a baseline), then upsert: two updates
    // and a creation, undone.
    import(
        &home,
        "update",
        &format!("Id,ERP_Id__c\n{},E-1\n{},E-2\n", ids[2], ids[3]),
        &[],
    );
    let baseline = snapshot(&home);
    let run = import(
        &home,
        "upsert",
        "ERP_Id__c,LastName,Title\nE-1,Renamed,Dr\nE-2,Other,Prof\nE-3,Brand New,\n",
        &["--external-id", "ERP_Id__c"],
    );
    assert_eq!(
        (run["created"].as_u64(), run["updated"].as_u64()),
        (Some(1), Some(2))
    );
    let (code, u) = undo(&home, &run, &[]);
    assert_eq!(
        (code, u["updated"].as_u64(), u["deleted"].as_u64()),
        (Some(0), Some(2), Some(1)),
        "{u}"
    );
    assert_eq!(snapshot(&home), baseline, "after undoing an upsert");

    // Delete, then undo: back from the recycle bin (SOAP undelete).
    let run = import(
        &home,
        "delete",
        &format!("Id\n{}\n{}\n", ids[4], ids[5]),
        &[],
    );
    assert_eq!(run["deleted"], 2);
    let (code, u) = undo(&home, &run, &[]);
    assert_eq!((code, u["created"].as_u64()), (Some(0), Some(2)), "{u}");
    assert_eq!(snapshot(&home), baseline, "after undoing a delete");

    // Someone edits a record after the import: undo leaves it, and says so.
    let run = import(
        &home,
        "update",
        &format!("Id,Title\n{},Ours\n{},Ours\n", ids[0], ids[1]),
        &[],
    );
    import(
        &home,
        "update",
        &format!("Id,Title\n{},Theirs\n", ids[0]),
        &[],
    );
    let (code, u) = undo(&home, &run, &[]);
    assert_eq!(
        (code, u["updated"].as_u64(), u["failed"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{u}"
    );
    let conflict = std::fs::read_to_string(u["error_file"].as_str().unwrap()).unwrap();
    assert!(
        conflict.contains("CONFLICT") && conflict.contains(&ids[0]),
        "{conflict}"
    );
    let title = |id: &str| -> serde_json::Value {
        let o = syncstudio(
            &home,
            &[
                "query",
                "Play",
                &format!("SELECT Title FROM Contact WHERE Id = '{id}'"),
                "--format",
                "json",
            ],
        );
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()[0]["Title"].clone()
    };
    assert_eq!(title(&ids[0]), "Theirs");
    let (code, _) = undo(&home, &run, &["--force"]);
    assert_eq!(code, Some(0));
    assert_eq!(snapshot(&home), baseline, "forced, everything back");
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn only_imports_that_wrote_can_be_undone() {
    let home = temp("undo-refused");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let file = home.join("a.csv");
    std::fs::write(&file, "Name\nDry Co\n").unwrap();
    let o = syncstudio(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Account",
            "--operation",
            "insert",
            "--dry-run",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let run = run_line(&o);
    let o = syncstudio(&home, &["runs", "undo", &run]);
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line(&o).contains("dry run"));
    let o = syncstudio(&home, &["runs", "undo", "no-such-run"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line(&o).contains("no run"));
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}
