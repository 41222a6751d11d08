//! `syncstudio connections` and `syncstudio query` as a user runs them,
//! against `syncstudio playground` and the real keychain (scripts/test.sh
//! provides a Secret Service).

use sf_emulator::browser::Choice;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::*;

fn contains_bytes(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = vec![];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            hits.extend(contains_bytes(&p, needle));
        } else if std::fs::read(&p)
            .unwrap_or_default()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
        {
            hits.push(p);
        }
    }
    hits
}

#[test]
fn add_in_the_browser_query_test_and_remove() {
    let home = temp("flow");
    let org = playground(&home);
    // The "browser" writes the URL it was opened with; the test plays the user.
    let url_file = home.join("opened-url.txt");
    let script = home.join("browser.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", url_file.display()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let port = free_port().to_string();
    let add = Command::new(BIN)
        .args([
            "connections",
            "add",
            "Play",
            "--login-url",
            &org.url,
            "--client-id",
            "syncstudio-cli",
            "--callback-port",
            &port,
        ])
        .env("SYNCSTUDIO_HOME", &home)
        .env("SYNCSTUDIO_BROWSER", &script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !url_file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the browser was never opened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(50));
    let url = std::fs::read_to_string(&url_file).unwrap();
    assert!(
        url.starts_with(&format!("{}/services/oauth2/authorize?", org.url)),
        "{url}"
    );
    assert!(url.contains("code_challenge_method=S256"));
    play(&url, Choice::Allow);
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success(), "{}", text(&added.stderr));
    let mut stdout_seen = text(&added.stdout);

    let list = syncstudio(&home, &["connections", "list"]);
    let listed = text(&list.stdout);
    assert!(listed.starts_with("NAME"), "{listed}");
    assert!(
        listed.contains("Play")
            && listed.contains("admin@playground.syncstudio")
            && listed.contains("connected"),
        "{listed}"
    );
    stdout_seen += &listed;

    let test = syncstudio(&home, &["connections", "test", "Play"]);
    assert!(test.status.success(), "{}", text(&test.stderr));
    assert!(text(&test.stdout).starts_with("ok Play as admin@playground.syncstudio"));
    stdout_seen += &text(&test.stdout);

    let csv = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Id, Name, Account.Name FROM Contact WHERE AccountId != null ORDER BY Name LIMIT 5",
        ],
    );
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let out = text(&csv.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Id,Name,Account.Name");
    assert_eq!(lines.len(), 6);
    assert!(
        lines[1].starts_with("003") && lines[1].split(',').nth(2).is_some_and(|a| !a.is_empty())
    );
    stdout_seen += &out;

    let json_out = home.join("contacts.json");
    let json = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Id, Account.Name FROM Contact LIMIT 2500",
            "--format",
            "json",
            "--out",
            json_out.to_str().unwrap(),
        ],
    );
    assert!(json.status.success(), "{}", text(&json.stderr));
    let rows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 600);
    assert!(rows[0].get("attributes").is_none());
    assert!(!home.join("contacts.partial").exists());
    assert!(text(&json.stderr).contains("600 rows written"));

    let count = syncstudio(&home, &["query", "Play", "SELECT COUNT() FROM Account"]);
    assert_eq!(text(&count.stdout).trim(), "300");

    let all = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Id FROM Account WHERE IsDeleted = true",
            "--all",
        ],
    );
    assert!(all.status.success());

    // Could not run: exit 2 and one line that says why.
    for (args, want) in [
        (
            vec!["query", "Play", "SELEC Id FROM Account"],
            "MALFORMED_QUERY",
        ),
        (
            vec!["query", "Nope", "SELECT Id FROM Account"],
            "no connection named \"Nope\"",
        ),
        (vec!["connections", "test", "Nope"], "no connection named"),
    ] {
        let o = syncstudio(&home, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = text(&o.stderr);
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("syncstudio: ") && last.contains(want),
            "{args:?}: {err}"
        );
        assert!(o.stdout.is_empty());
    }
    let failed_out = home.join("never.csv");
    let o = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Nope FROM Account",
            "--out",
            failed_out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !failed_out.exists() && !home.join("never.partial").exists(),
        "no half-written file"
    );

    // No token byte in the database, the logs or anything printed.
    let studio = studio::Studio::open(&home).unwrap();
    let row = studio.connection("Play").unwrap();
    let secret = studio::secrets::load(&row.id).unwrap().unwrap();
    for token in [
        secret.access_token.clone().unwrap(),
        secret.refresh_token.clone().unwrap(),
    ] {
        assert!(
            contains_bytes(&home, &token).is_empty(),
            "a token was written to {:?}",
            contains_bytes(&home, &token)
        );
        assert!(!stdout_seen.contains(&token));
    }

    let rm = syncstudio(&home, &["connections", "remove", "Play"]);
    assert!(rm.status.success(), "{}", text(&rm.stderr));
    assert_eq!(text(&rm.stdout).trim(), "removed Play");
    assert!(
        studio::secrets::load(&row.id).unwrap().is_none(),
        "keychain entry deleted"
    );
    assert_eq!(
        text(&syncstudio(&home, &["connections", "list"]).stdout)
            .lines()
            .count(),
        1,
        "only the header is left"
    );
    let _ = std::fs::remove_dir_all(&home);
}

/// Starts `connections add --no-browser` and reads the line it prints.
fn add_without_browser(home: &Path, name: &str, url: &str) -> (Child, String) {
    let port = free_port().to_string();
    let mut add = Command::new(BIN)
        .args([
            "connections",
            "add",
            name,
            "--login-url",
            url,
            "--client-id",
            "syncstudio-cli",
            "--callback-port",
            &port,
            "--no-browser",
        ])
        .env("SYNCSTUDIO_HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(add.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (add, line)
}

#[test]
fn no_browser_prints_the_url_alone_and_waits() {
    let home = temp("nobrowser");
    let org = playground(&home);
    let (add, line) = add_without_browser(&home, "Quiet", &org.url);
    let url = line.trim_end();
    assert!(
        url.starts_with(&org.url) && !url.contains(' '),
        "the URL alone: {line:?}"
    );
    play(url, Choice::Allow);
    assert!(add.wait_with_output().unwrap().status.success());
    let rm = syncstudio(&home, &["connections", "remove", "Quiet"]);
    assert!(rm.status.success());
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn denied_busy_port_and_bad_input_exit_2() {
    let home = temp("denied");
    let org = playground(&home);
    let (add, line) = add_without_browser(&home, "Denied", &org.url);
    play(line.trim_end(), Choice::Deny);
    let out = add.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("access was denied"),
        "{}",
        text(&out.stderr)
    );
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let o = syncstudio(
        &home,
        &[
            "connections",
            "add",
            "Busy",
            "--login-url",
            &org.url,
            "--client-id",
            "c",
            "--callback-port",
            &busy_port,
            "--no-browser",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(&format!("port {busy_port}")),
        "{}",
        text(&o.stderr)
    );
    let o = syncstudio(
        &home,
        &[
            "connections",
            "add",
            "Bad",
            "--login-url",
            "ftp://x",
            "--client-id",
            "c",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("must use https"));
    for (flag, value, reason) in [
        ("--callback-port", "80", "needs privileges"),
        ("--api-version", "sixty", "not an API version"),
    ] {
        let o = syncstudio(
            &home,
            &[
                "connections",
                "add",
                "Refused",
                "--login-url",
                &org.url,
                "--client-id",
                "c",
                "--no-browser",
                flag,
                value,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        assert!(
            o.stdout.is_empty(),
            "no authorization URL for {flag} {value}"
        );
        assert!(text(&o.stderr).contains(reason), "{}", text(&o.stderr));
    }
    let _ = std::fs::remove_dir_all(&home);
}
