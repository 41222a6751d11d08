//! The `syncstudio playground` contract that scripts and other suites rely
//! on: the first stdout line, the data folder, exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn start(args: &[&str], home: &std::path::Path) -> (Child, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_syncstudio"))
        .arg("playground")
        .args(args)
        .env("SYNCSTUDIO_HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn syncstudio");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = vec![];
    for _ in 0..3 {
        let mut line = String::new();
        out.read_line(&mut line).expect("read");
        lines.push(line.trim_end().to_string());
    }
    let url = lines[0]
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {:?}", lines[0]))
        .to_string();
    (child, url, lines)
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    // SIGTERM, as a service manager would send.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    child.wait().expect("wait")
}

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("syncstudio-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn token(client: &reqwest::blocking::Client, url: &str) -> String {
    let t: serde_json::Value = client
        .post(format!("{url}/services/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "cli-test"),
            ("username", "admin@playground.syncstudio"),
            ("password", "playground"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    t["access_token"].as_str().unwrap().to_string()
}

#[test]
fn first_line_demo_data_seed_and_data_folder() {
    let home = temp("run");
    let data = home.join("org");
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/seed.json"
    );
    let (child, url, lines) = start(
        &[
            "--port",
            "0",
            "--data",
            data.to_str().unwrap(),
            "--seed",
            seed,
        ],
        &home,
    );
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(lines[1].contains("admin@playground.syncstudio"));
    let client = reqwest::blocking::Client::new();
    let t = token(&client, &url);
    let q = |soql: &str| -> serde_json::Value {
        client
            .get(format!("{url}/services/data/v62.0/query"))
            .query(&[("q", soql)])
            .bearer_auth(&t)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    assert_eq!(
        q("SELECT COUNT() FROM Account")["totalSize"],
        302,
        "demo data plus the seed's two"
    );
    let inv =
        q("SELECT Number__c, Account__r.ERP_Id__c, Status__c FROM Invoice__c ORDER BY Number__c");
    assert_eq!(inv["records"][0]["Account__r"]["ERP_Id__c"], "ERP-0001");
    assert_eq!(
        inv["records"][0]["Status__c"], "Draft",
        "picklist default applied"
    );
    let created: serde_json::Value = client
        .post(format!("{url}/services/data/v62.0/sobjects/Invoice__c"))
        .bearer_auth(&t)
        .json(&serde_json::json!({"Name": "Kept", "Number__c": "INV-KEPT"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(created["success"], true);
    assert!(stop(child).success(), "a clean stop exits 0");
    assert!(data.join("org.json").exists());
    assert!(
        home.join("logs/syncstudio.log").exists(),
        "logs go to SYNCSTUDIO_HOME/logs"
    );

    // Restarted on the same folder (no seed): same records, no second demo load.
    let (child, url, _) = start(&["--port", "0", "--data", data.to_str().unwrap()], &home);
    let t = token(&client, &url);
    let count: serde_json::Value = client
        .get(format!("{url}/services/data/v62.0/query"))
        .query(&[("q", "SELECT COUNT() FROM Invoice__c")])
        .bearer_auth(&t)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(count["totalSize"], 3);
    stop(child);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn tls_prints_its_certificate() {
    let home = temp("tls");
    let (child, url, lines) = start(&["--tls", "--no-demo"], &home);
    assert!(url.starts_with("https://127.0.0.1:"));
    let cert = lines
        .iter()
        .find_map(|l| l.strip_prefix("tls certificate: "))
        .expect("certificate line");
    assert!(
        std::fs::read_to_string(cert)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    stop(child);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn cannot_run_exits_2_with_one_line() {
    let home = temp("bad");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let cases: Vec<Vec<String>> = vec![
        vec!["playground".into(), "--port".into(), port],
        vec![
            "playground".into(),
            "--seed".into(),
            "/nonexistent/seed.json".into(),
        ],
    ];
    for args in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_syncstudio"))
            .args(&args)
            .env("SYNCSTUDIO_HOME", &home)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        assert!(last.starts_with("syncstudio: "), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing on stdout");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_syncstudio"))
        .args(["playground", "--port", "notaport"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "bad arguments");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_second_playground_on_the_same_data_folder_refuses_naming_the_first() {
    let home = temp("lock");
    let data = home.join("org");
    let (first, url, _) = start(
        &["--port", "0", "--no-demo", "--data", data.to_str().unwrap()],
        &home,
    );
    let second = Command::new(env!("CARGO_BIN_EXE_syncstudio"))
        .args([
            "playground",
            "--port",
            "0",
            "--data",
            data.to_str().unwrap(),
        ])
        .env("SYNCSTUDIO_HOME", &home)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("in use by another playground")
            && stderr.contains(&format!("pid {}", first.id()))
            && stderr.contains(&url),
        "{stderr}"
    );
    assert!(second.stdout.is_empty());
    // The lock goes with the process, even one killed outright.
    let mut first = first;
    first.kill().unwrap();
    first.wait().unwrap();
    let (again, _, _) = start(&["--port", "0", "--data", data.to_str().unwrap()], &home);
    stop(again);
    let _ = std::fs::remove_dir_all(&home);
}

/// The playground survives any WHERE clause: a nesting too deep to parse
/// is refused like Salesforce refuses it, and the org keeps its records.
#[test]
fn hostile_where_clauses_do_not_stop_the_org() {
    let home = temp("hostile-where");
    let (child, url, _) = start(&["--port", "0"], &home);
    let client = reqwest::blocking::Client::new();
    let t = token(&client, &url);
    let query = |soql: &str| {
        client
            .get(format!("{url}/services/data/v62.0/query"))
            .query(&[("q", soql)])
            .bearer_auth(&t)
            .send()
            .unwrap()
    };
    // A URI holds at most 64 KB, so these stay under it; the Bulk API
    // below takes a far deeper one in its body.
    let chain = (0..2_000)
        .map(|i| format!("Name != 'n{i}'"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let deep_parens = |n: usize| {
        format!(
            "SELECT Id FROM Account WHERE {}Name = 'a'{}",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    for (soql, status, code) in [
        (deep_parens(5_000), 400, Some("QUERY_TOO_COMPLICATED")),
        (
            format!(
                "SELECT Id FROM Account WHERE {}Name = 'a'",
                "NOT ".repeat(5_000)
            ),
            400,
            Some("QUERY_TOO_COMPLICATED"),
        ),
        (
            format!("SELECT COUNT() FROM Account WHERE {chain}"),
            200,
            None,
        ),
    ] {
        let r = query(&soql);
        assert_eq!(r.status().as_u16(), status);
        let body: serde_json::Value = r.json().unwrap();
        match code {
            Some(code) => assert_eq!(body[0]["errorCode"], code),
            None => assert_eq!(body["totalSize"], 300),
        }
    }
    let job = client
        .post(format!("{url}/services/data/v62.0/jobs/query"))
        .bearer_auth(&t)
        .json(&serde_json::json!({"operation": "query", "query": deep_parens(40_000)}))
        .send()
        .unwrap();
    assert_eq!(job.status().as_u16(), 400);
    let body: serde_json::Value = job.json().unwrap();
    assert_eq!(body[0]["errorCode"], "QUERY_TOO_COMPLICATED");
    let r = query("SELECT COUNT() FROM Account");
    assert_eq!(r.json::<serde_json::Value>().unwrap()["totalSize"], 300);
    stop(child);
    let _ = std::fs::remove_dir_all(&home);
}
