//! The CLI as a hostile tester runs it: malformed SOQL, outputs that cannot
//! be written or are closed early, files that must not be clobbered, stops
//! mid-export, caps, revoked sign-ins. Each case exits 0, or 2 with one
//! line on stderr that names the cause and the next step; none panics.

mod common;
use common::*;

use sf_emulator::browser::Choice;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A playground with one signed-in connection named `Play`.
fn signed_in(tag: &str) -> (std::path::PathBuf, Playground) {
    let home = temp(tag);
    let org = playground(&home);
    let added = add_quick(&home, "Play", &org.url, &[]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    (home, org)
}

#[test]
fn malformed_soql_is_refused_in_one_line_and_the_org_survives() {
    let (home, org) = signed_in("soql");
    // Deep, yet short enough for a REST query's URI (JSON needs one).
    let deep_parens = format!(
        "SELECT Id FROM Account WHERE {}Name = 'x'{}",
        "(".repeat(2_000),
        ")".repeat(2_000)
    );
    let deep_nots = format!(
        "SELECT Id FROM Account WHERE {}Name = 'x'",
        "NOT ".repeat(2_000)
    );
    for (soql, want) in [
        ("SELECT FROM Account", "MALFORMED_QUERY"),
        ("SELECT  FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELECT", "MALFORMED_QUERY"),
        ("FROM Account SELECT Id", "MALFORMED_QUERY"),
        ("SELECT \u{e9} FROM \u{e7}", "MALFORMED_QUERY"),
        (deep_parens.as_str(), "QUERY_TOO_COMPLICATED"),
        (deep_nots.as_str(), "QUERY_TOO_COMPLICATED"),
    ] {
        for format in ["csv", "json"] {
            let o = syncstudio(&home, &["query", "Play", soql, "--format", format]);
            assert_eq!(o.status.code(), Some(2), "{soql:.60}");
            let line = one_line(&o);
            assert!(
                line.contains(want) && line.contains("Fix the query"),
                "{soql:.60}: {line}"
            );
            assert!(o.stdout.is_empty(), "nothing on stdout for a failed query");
        }
    }
    // The playground is still there, with its records.
    let count = syncstudio(&home, &["query", "Play", "SELECT COUNT() FROM Account"]);
    assert_eq!(text(&count.stdout).trim(), "300", "{}", text(&count.stderr));
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_full_disk_is_one_line_and_a_closed_pipe_is_quiet() {
    let (home, org) = signed_in("output");
    for args in [
        vec!["connections", "list"],
        vec!["connections", "test", "Play"],
        vec!["query", "Play", "SELECT Id, Name FROM Contact"],
        vec![
            "query",
            "Play",
            "SELECT Id FROM Contact",
            "--format",
            "json",
        ],
        vec!["query", "Play", "SELECT COUNT() FROM Contact"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = Command::new(BIN)
            .args(&args)
            .env("SYNCSTUDIO_HOME", &home)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let line = one_line(&o);
        assert!(line.contains("No space left on device"), "{args:?}: {line}");
    }
    // `| head -1`: the reader leaves after one line; the command stops
    // quietly with status 0.
    for args in [
        vec!["connections", "list"],
        vec![
            "query",
            "Play",
            "SELECT Id, FirstName, LastName, Email, Phone, Title, Account.Name, Account.BillingCity FROM Contact",
            "--format",
            "json",
        ],
    ] {
        let mut child = Command::new(BIN)
            .args(&args)
            .env("SYNCSTUDIO_HOME", &home)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(
            err.is_empty(),
            "{args:?}: quiet on a closed pipe, got {err}"
        );
    }
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn out_files_are_never_clobbered_nor_mixed() {
    let (home, org) = signed_in("out");
    let dir = home.join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    // The user's own files next to the export, with the names a naive
    // temporary file would take.
    for own in ["a.partial", "a.csv.partial", ".a.csv.partial"] {
        std::fs::write(dir.join(own), "mine").unwrap();
    }
    // Two exports with the same stem at once, to different formats.
    let csv_out = dir.join("a.csv");
    let json_out = dir.join("a.json");
    let spawn = |soql: &str, format: &str, out: &Path| {
        Command::new(BIN)
            .args(["query", "Play", soql, "--format", format, "--out"])
            .arg(out)
            .env("SYNCSTUDIO_HOME", &home)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn("SELECT Id, Name FROM Contact", "csv", &csv_out);
    let b = spawn("SELECT Id FROM Account", "json", &json_out);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    assert!(
        text(&a.stderr).contains("600 rows written"),
        "{}",
        text(&a.stderr)
    );
    let mut csv = csv::Reader::from_path(&csv_out).unwrap();
    assert_eq!(csv.headers().unwrap(), vec!["Id", "Name"]);
    assert_eq!(csv.records().map(Result::unwrap).count(), 600);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 300);
    for own in ["a.partial", "a.csv.partial", ".a.csv.partial"] {
        assert_eq!(std::fs::read_to_string(dir.join(own)).unwrap(), "mine");
    }
    assert_eq!(
        files_in(&dir),
        [
            ".a.csv.partial",
            "a.csv",
            "a.csv.partial",
            "a.json",
            "a.partial"
        ],
        "no temporary file left behind"
    );
    // A failed export leaves the old file as it was and nothing else.
    std::fs::write(&csv_out, "old").unwrap();
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Nope FROM Account",
            "--out",
            csv_out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&csv_out).unwrap(), "old");
    assert_eq!(files_in(&dir).len(), 5);
    // `--out -` is stdout; a failed query writes nothing there, not even
    // the CSV header.
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Id FROM Account LIMIT 2",
            "--out",
            "-",
        ],
    );
    assert_eq!(text(&o.stdout).lines().count(), 3, "{}", text(&o.stderr));
    assert!(!home.join("-").exists());
    let o = syncstudio(&home, &["query", "Play", "SELECT Id, Nope FROM Account"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "header written for a failed query");
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_stopped_export_leaves_nothing_behind() {
    let (home, org) = signed_in("stop");
    // Every query page takes 3 s, so the stop lands mid-export.
    control(
        &org.url,
        "POST",
        "faults",
        serde_json::json!({"route": "query", "kind": "latency", "latencyMs": 3000}),
    );
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let out = home.join("slow.csv");
        let child = Command::new(BIN)
            .args(["query", "Play", "SELECT Id FROM Contact", "--out"])
            .arg(&out)
            .env("SYNCSTUDIO_HOME", &home)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the temporary file to appear, then stop the command.
        let started = Instant::now();
        while !files_in(&home).iter().any(|f| f.ends_with(".partial")) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no temporary file"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("stopped"), "{}", text(&o.stderr));
        assert!(!out.exists());
        assert!(
            !files_in(&home).iter().any(|f| f.ends_with(".partial")),
            "{:?}",
            files_in(&home)
        );
    }
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn soql_from_a_file_or_stdin_and_too_long_for_a_url() {
    let (home, org) = signed_in("longsoql");
    let file = home.join("q.soql");
    std::fs::write(&file, "SELECT Id\nFROM Account\nLIMIT 3\n").unwrap();
    let o = syncstudio(&home, &["query", "Play", "--file", file.to_str().unwrap()]);
    assert_eq!(text(&o.stdout).lines().count(), 4, "{}", text(&o.stderr));
    let o = syncstudio_with_stdin(
        &home,
        &["query", "Play", "-"],
        "SELECT Id FROM Account LIMIT 2",
    );
    assert_eq!(text(&o.stdout).lines().count(), 3, "{}", text(&o.stderr));
    let o = syncstudio_with_stdin(&home, &["query", "Play", "--file", "-"], "  \n");
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line(&o).contains("the query is empty"));

    // A generated IN list of 3,000 ids: about 60 KB of SOQL.
    let ids = syncstudio(
        &home,
        &["query", "Play", "SELECT Id FROM Contact LIMIT 2000"],
    );
    let ids: Vec<String> = text(&ids.stdout)
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 600);
    let mut list: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
    list.extend((0..2400).map(|n| format!("'003Dn{n:010}'")));
    let long = format!("SELECT Id FROM Contact WHERE Id IN ({})", list.join(", "));
    assert!(long.len() > 40_000);
    std::fs::write(&file, &long).unwrap();
    let started = Instant::now();
    let o = syncstudio(&home, &["query", "Play", "--file", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(out.lines().next(), Some("\"Id\""));
    assert_eq!(out.lines().count(), 601);
    // JSON needs the REST query, whose URL cannot hold it: refused at once,
    // for its length, never "cannot reach" after retries.
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "--file",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let line = one_line(&o);
    assert!(
        line.contains("characters long") && line.contains("--format csv"),
        "{line}"
    );
    assert!(!line.contains("cannot reach"));
    assert!(started.elapsed() < Duration::from_secs(60));
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn stderr_is_one_line_and_the_log_has_the_rest() {
    let (home, org) = signed_in("logs");
    let o = syncstudio(&home, &["query", "Play", "SELECT Nope FROM Account"]);
    let line = one_line(&o);
    assert!(line.starts_with("syncstudio: ") && line.contains("INVALID_FIELD"));
    let log = std::fs::read_to_string(home.join("logs/syncstudio.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("INVALID_FIELD")),
        "the final error is in the log file:\n{log}"
    );
    let o = syncstudio(&home, &["connections", "test", "Play"]);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}",
        text(&o.stderr)
    );
    // -vv shows the log on stderr too, down to each request.
    let o = syncstudio(&home, &["-vv", "connections", "test", "Play"]);
    assert!(o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("DEBUG") && err.contains("limits"), "{err}");
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn the_daily_cap_holds_across_runs() {
    let home = temp("cap");
    let org = playground(&home);
    let refused = add_quick(&home, "Zero", &org.url, &["--daily-cap", "0"]);
    assert_eq!(refused.status.code(), Some(2));
    let added = add_quick(&home, "Capped", &org.url, &["--daily-cap", "8"]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let used_before = control(&org.url, "GET", "", serde_json::Value::Null)["apiUsed"]
        .as_u64()
        .unwrap();
    let mut stopped = None;
    for run in 0..12 {
        let o = syncstudio(
            &home,
            &["query", "Capped", "SELECT Id FROM Account LIMIT 1"],
        );
        if !o.status.success() {
            stopped = Some((run, one_line(&o)));
            break;
        }
    }
    let (run, line) = stopped.expect("a run stopped at the cap");
    assert!(run > 0, "the first runs went through");
    assert!(line.contains("stopped before the daily API cap"), "{line}");
    assert!(line.contains("of 8 calls"), "{line}");
    let used = control(&org.url, "GET", "", serde_json::Value::Null)["apiUsed"]
        .as_u64()
        .unwrap();
    assert!(
        used <= 8,
        "the org counted {used} calls (from {used_before}), over the cap of 8"
    );
    let list = text(&syncstudio(&home, &["connections", "list"]).stdout);
    let capped = list.lines().find(|l| l.starts_with("Capped")).unwrap();
    assert!(capped.contains(" 8"), "the cap is listed: {list}");
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_revoked_sign_in_says_how_to_grant_again_and_grant_mends_it() {
    let home = temp("grant");
    let org = playground(&home);
    let port = free_port().to_string();
    let added = with_browser_sign_in(
        &home,
        &[
            "connections",
            "add",
            "Play",
            "--login-url",
            &org.url,
            "--client-id",
            "c",
            "--callback-port",
            &port,
        ],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    // Revoke the refresh token at the org, as an admin would: its access
    // tokens end with it.
    let studio = studio::Studio::open(&home).unwrap();
    let row = studio.connection("Play").unwrap();
    drop(studio);
    let secret = studio::secrets::load(&row.id).unwrap().unwrap();
    reqwest::blocking::Client::new()
        .post(format!("{}/services/oauth2/revoke", org.url))
        .form(&[("token", secret.refresh_token.as_deref().unwrap())])
        .send()
        .unwrap();
    let o = syncstudio(&home, &["connections", "test", "Play"]);
    assert_eq!(o.status.code(), Some(2));
    let line = one_line(&o);
    assert!(line.contains("syncstudio connections grant Play"), "{line}");
    assert!(!line.to_lowercase().contains("click"), "{line}");
    let list = text(&syncstudio(&home, &["connections", "list"]).stdout);
    assert!(list.contains("needs_grant"), "{list}");
    let grant = with_browser_sign_in(&home, &["connections", "grant", "Play"]);
    assert!(grant.status.success(), "{}", text(&grant.stderr));
    let o = syncstudio(&home, &["connections", "test", "Play"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn add_checks_names_versions_and_reads_the_secret_from_stdin() {
    let home = temp("addchecks");
    let org = playground(&home);
    let o = add_quick(&home, "Old", &org.url, &["--api-version", "20.0"]);
    assert_eq!(o.status.code(), Some(2));
    let line = one_line(&o);
    assert!(line.contains("does not offer API version 20.0"), "{line}");
    assert!(line.contains("31.0 to 62.0"), "{line}");
    let o = add_quick(&home, "Bell\u{7}Name", &org.url, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line(&o).contains("control characters"));
    // Trimmed alike when added and when named later.
    let o = add_quick(&home, "  Spaced  ", &org.url, &["--api-version", "61"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = syncstudio(&home, &["connections", "test", " Spaced"]);
    assert!(
        text(&o.stdout).starts_with("ok Spaced as"),
        "{}",
        text(&o.stderr)
    );
    // A secret on the command line and on stdin at once is refused.
    let o = syncstudio_with_stdin(
        &home,
        &[
            "connections",
            "add",
            "Both",
            "--login-url",
            &org.url,
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "--client-secret-stdin",
            "--client-credentials",
        ],
        "s\n",
    );
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_failing_browser_is_reported_at_once_and_the_sign_in_waits() {
    let home = temp("browserfail");
    let org = playground(&home);
    let port = free_port().to_string();
    let mut add = Command::new(BIN)
        .args([
            "connections",
            "add",
            "Late",
            "--login-url",
            &org.url,
            "--client-id",
            "c",
            "--callback-port",
            &port,
        ])
        .env("SYNCSTUDIO_HOME", &home)
        .env("SYNCSTUDIO_BROWSER", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(add.stderr.take().unwrap());
    let (mut url, mut failed) = (None, false);
    let started = Instant::now();
    while url.is_none() || !failed {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            break;
        }
        failed |= line.contains("browser command failed");
        if line.starts_with(&org.url) {
            url = Some(line.trim().to_string());
        }
    }
    assert!(failed && started.elapsed() < Duration::from_secs(10));
    play(&url.expect("the URL to open by hand"), Choice::Allow);
    assert!(add.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn an_untrusted_certificate_names_ssl_cert_file() {
    let home = temp("tls");
    let mut child = Command::new(BIN)
        .args(["playground", "--port", "0", "--tls", "--data"])
        .arg(home.join("org"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let started = Instant::now();
    let o = Command::new(BIN)
        .args([
            "connections",
            "add",
            "Tls",
            "--login-url",
            &url,
            "--client-id",
            "c",
            "--client-credentials",
            "--client-secret",
            "s",
        ])
        .env("SYNCSTUDIO_HOME", &home)
        .env_remove("SSL_CERT_FILE")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let line = one_line(&o);
    assert!(line.contains("SSL_CERT_FILE"), "{line}");
    assert!(!line.contains("cannot reach"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(10), "not retried");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn remove_says_plainly_when_salesforce_could_not_revoke() {
    let (home, org) = signed_in("remove-offline");
    drop(org); // the org is gone: nothing can be revoked there
    let o = syncstudio(&home, &["connections", "remove", "Play"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), "removed Play");
    let err = one_line(&o);
    assert!(
        err.contains("could not revoke") && err.contains("may keep working"),
        "{err}"
    );
    let list = text(&syncstudio(&home, &["connections", "list"]).stdout);
    assert_eq!(
        list.lines().count(),
        1,
        "forgotten here all the same: {list}"
    );
    let _ = std::fs::remove_dir_all(&home);
}
