//! `syncstudio flows import | export | list | enable | disable` against the
//! playground: a flow file is checked (its shape and what it names in the
//! org) before it is saved, and comes back out as it went in.

mod common;
use common::*;

use serde_json::{Value, json};

fn example(connection: &str) -> Value {
    json!({
        "version": 1,
        "name": "Contacts to the ERP",
        "nodes": [
            {"id": "t", "type": "salesforce.trigger", "params": {
                "connection": connection, "object": "Contact",
                "on": "created_or_updated", "every_seconds": 60,
                "fields": ["Id", "FirstName", "LastName", "Email", "SystemModstamp"],
                "where": "Email != null", "start": "now"}},
            {"id": "f", "type": "filter", "params": {"condition": "record.LastName != 'Test' and record.Email is not none"}},
            {"id": "post", "type": "http.request", "params": {
                "method": "POST", "url": "https://erp.example.com/contacts",
                "headers": {"Content-Type": "application/json"},
                "body": "{\"id\": \"{{ record.Id }}\", \"email\": \"{{ record.Email }}\"}"}}
        ],
        "edges": [{"from": "t", "to": "f"}, {"from": "f", "to": "post"}],
        "layout": {"t": {"x": 0.0, "y": 0.0}, "f": {"x": 240.0, "y": 0.0}}
    })
}

fn import(home: &std::path::Path, flow: &Value) -> std::process::Output {
    let file = home.join("flow.json");
    std::fs::write(&file, serde_json::to_string_pretty(flow).unwrap()).unwrap();
    syncstudio(home, &["flows", "import", file.to_str().unwrap()])
}

fn listed(home: &std::path::Path) -> Value {
    let o = syncstudio(home, &["flows", "list", "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn a_flow_is_checked_saved_listed_enabled_and_exported_as_written() {
    let home = temp("flows");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());

    let o = import(&home, &example("Play"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("3 nodes, starts on Contact created_or_updated every 60 s"));
    assert!(
        text(&o.stdout)
            .contains("enable it with `syncstudio flows enable \"Contacts to the ERP\"`")
    );
    let list = listed(&home);
    assert_eq!(list[0]["name"], "Contacts to the ERP");
    assert_eq!(list[0]["enabled"], false, "a flow starts disabled");

    let o = syncstudio(&home, &["flows", "enable", "Contacts to the ERP"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(listed(&home)[0]["enabled"], true);

    // Saved again (edited in git), it stays enabled.
    let mut edited = example("Play");
    edited["nodes"][0]["params"]["every_seconds"] = json!(30);
    assert!(import(&home, &edited).status.success());
    let list = listed(&home);
    assert_eq!(
        (list.as_array().unwrap().len(), &list[0]["enabled"]),
        (1, &json!(true))
    );
    assert!(list[0]["start"].as_str().unwrap().ends_with("every 30 s"));

    let out = home.join("out.json");
    let o = syncstudio(
        &home,
        &[
            "flows",
            "export",
            "Contacts to the ERP",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let back: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(back, edited, "the file comes back as it went in");

    let o = syncstudio(&home, &["flows", "disable", "Contacts to the ERP"]);
    assert!(o.status.success());
    assert_eq!(listed(&home)[0]["enabled"], false);
}

#[test]
fn what_the_org_lacks_is_named_with_its_node_and_nothing_is_saved() {
    let home = temp("flows-org");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let cases: Vec<(Value, &str)> = vec![
        (
            example("Nowhere"),
            "node t: there is no connection named \"Nowhere\"",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][0]["params"]["fields"] = json!(["Id", "Emial"]);
                f["nodes"][1]["params"]["condition"] = json!("true");
                f["nodes"][2]["params"]["body"] = json!("{{ record.Id }}");
                f
            },
            "node t: Contact has no field \"Emial\"",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][0]["params"]["object"] = json!("Contract__x");
                f
            },
            "node t: the org has no object \"Contract__x\"",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][0]["params"]["where"] = json!("Email !!= null");
                f
            },
            "node t: where \"Email !!= null\" is not a SOQL condition the org takes",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][2] = json!({"id": "post", "type": "salesforce.upsert", "params": {
                    "connection": "Play", "object": "Account", "external_id": "Name",
                    "fields": {"Name": "{{ record.LastName }}", "CreatedDate": "{{ record.Id }}"}}});
                f
            },
            "node post: Account.Name is not an external id field",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][2] = json!({"id": "post", "type": "salesforce.create", "params": {
                    "connection": "Play", "object": "Account",
                    "fields": {"Name": "{{ record.LastName }}", "CreatedDate": "{{ record.Id }}"}}});
                f
            },
            "node post: Account.CreatedDate cannot be written",
        ),
    ];
    for (flow, expected) in cases {
        let o = import(&home, &flow);
        assert_eq!(o.status.code(), Some(2), "{expected}");
        let err = text(&o.stderr);
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    assert_eq!(listed(&home), json!([]), "nothing saved");
    let o = syncstudio(&home, &["flows", "export", "Nothing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no flow named \"Nothing\""));
}

/// A local HTTP endpoint standing in for the ERP: it keeps every request's
/// `Idempotency-Key` and body, and answers 500 to bodies that ask for it.
struct Sink {
    url: String,
    got: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    /// While set, every request is answered 503.
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

fn sink() -> Sink {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
    let kept = got.clone();
    let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let is_down = down.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut key, mut length) = (String::new(), 0usize);
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                let lower = header.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("idempotency-key:") {
                    key = v.trim().to_string();
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let body = String::from_utf8(body).unwrap();
            let status = if is_down.load(std::sync::atomic::Ordering::SeqCst) {
                "503 Service Unavailable"
            } else if body.contains("Fail") {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            kept.lock().unwrap().push((key, body));
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
            );
        }
    });
    Sink { url, got, down }
}

fn run_once(home: &std::path::Path) -> (Option<i32>, Value) {
    let o = syncstudio(
        home,
        &[
            "flows",
            "run",
            "Contacts to the ERP",
            "--once",
            "--format",
            "json",
        ],
    );
    let out = text(&o.stdout);
    let last = out
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output: {}", text(&o.stderr)));
    (o.status.code(), serde_json::from_str(last).unwrap())
}

fn import_contacts(home: &std::path::Path, csv: &str, op: &str) {
    let file = home.join(format!("{op}.csv"));
    std::fs::write(&file, csv).unwrap();
    let o = syncstudio(
        home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            op,
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// The trigger fires once per change, from the moment the flow is enabled:
/// records already there are passed over, a second poll of the same window
/// sends nothing again, an edit fires again with a new Idempotency-Key, a
/// filter stops a record without failing it, and a failing endpoint fails
/// its record (after retries) without holding up the others.
#[test]
fn a_flow_fires_once_per_change_through_its_nodes() {
    let home = temp("flows-run");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let erp = sink();
    let log = home.join("log.csv");
    let mut flow = example("Play");
    flow["nodes"][2]["params"]["url"] = json!(format!("{}/contacts", erp.url));
    flow["nodes"][2]["params"]["body"] = json!(
        "{\"id\": \"{{ record.Id }}\", \"email\": \"{{ record.Email }}\", \"name\": {{ record.LastName | tojson }}}"
    );
    flow["nodes"].as_array_mut().unwrap().push(json!({"id": "log", "type": "csv.append", "params": {
        "path": log.to_str().unwrap(), "columns": {"id": "{{ record.Id }}", "status": "{{ nodes.post.status }}"}}}));
    flow["edges"]
        .as_array_mut()
        .unwrap()
        .push(json!({"from": "post", "to": "log"}));
    assert!(import(&home, &flow).status.success());
    assert!(
        syncstudio(&home, &["flows", "enable", "Contacts to the ERP"])
            .status
            .success()
    );

    // Enabled: what is in the org already does not fire; what changes
    // from the moment of enabling does, even before the first poll.
    import_contacts(&home, "LastName,Email\nEarly,early@example.com\n", "insert");
    let (code, early) = run_once(&home);
    assert_eq!(
        (code, early["rows"].as_u64()),
        (Some(0), Some(1)),
        "{early}"
    );
    erp.got.lock().unwrap().clear();
    std::fs::remove_file(&log).unwrap();
    let (code, idle) = run_once(&home);
    assert_eq!((code, &idle["run"]), (Some(0), &Value::Null), "{idle}");

    import_contacts(
        &home,
        "FirstName,LastName,Email\nAnn,Ash,ann@example.com\nBo,Birch,\nCy,Test,cy@example.com\nDi,Fail,di@example.com\nEd,Elm,ed@example.com\n",
        "insert",
    );
    let (code, first) = run_once(&home);
    // Birch has no Email (the trigger's where); Test is stopped by the
    // filter; Fail's endpoint answers 500 three times.
    assert_eq!(code, Some(1), "{first}");
    assert_eq!(
        (
            first["rows"].as_u64(),
            first["succeeded"].as_u64(),
            first["failed"].as_u64()
        ),
        (Some(4), Some(3), Some(1)),
        "{first}"
    );
    let bodies = |erp: &Sink| -> Vec<String> {
        erp.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    };
    let sent = bodies(&erp);
    assert_eq!(
        sent.iter()
            .filter(|b| b.contains("ann@example.com"))
            .count(),
        1
    );
    assert_eq!(
        sent.iter().filter(|b| b.contains("ed@example.com")).count(),
        1
    );
    assert_eq!(
        sent.iter().filter(|b| b.contains("di@example.com")).count(),
        3,
        "retried"
    );
    assert!(
        !sent.iter().any(|b| b.contains("cy@example.com")),
        "filtered out"
    );
    let errors = std::fs::read_to_string(first["error_file"].as_str().unwrap()).unwrap();
    assert!(
        errors.contains("post") && errors.contains("500"),
        "{errors}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        logged.lines().count(),
        3,
        "a header and Ann's and Ed's rows: {logged}"
    );

    // The same window polled again: nothing twice.
    let (code, again) = run_once(&home);
    assert_eq!((code, &again["run"]), (Some(0), &Value::Null), "{again}");
    assert_eq!(bodies(&erp).len(), sent.len());

    // An edit fires again, under a new key.
    let q = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Id FROM Contact WHERE LastName = 'Ash'",
            "--format",
            "json",
        ],
    );
    let ann: Value = serde_json::from_slice(&q.stdout).unwrap();
    let ann_id = ann[0]["Id"].as_str().unwrap().to_string();
    import_contacts(&home, &format!("Id,Title\n{ann_id},Buyer\n"), "update");
    let (code, edit) = run_once(&home);
    assert_eq!(
        (code, edit["rows"].as_u64(), edit["updated"].as_u64()),
        (Some(0), Some(1), Some(1)),
        "{edit}"
    );
    let got = erp.got.lock().unwrap().clone();
    let ann_keys: Vec<&String> = got
        .iter()
        .filter(|(_, b)| b.contains("ann@example.com"))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(ann_keys.len(), 2);
    assert!(ann_keys[0] != ann_keys[1] && ann_keys.iter().all(|k| k.len() == 64));

    let o = syncstudio(
        &home,
        &[
            "runs",
            "list",
            "--flow",
            "Contacts to the ERP",
            "--format",
            "json",
        ],
    );
    let runs: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        runs.as_array().unwrap().len(),
        3,
        "one run per poll that fired (early, first, edit)"
    );
}

fn serve(home: &std::path::Path) -> std::process::Child {
    std::process::Command::new(BIN)
        .args(["flows", "serve"])
        .env("SYNCSTUDIO_HOME", home)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the sink to hold a body containing `what`.
fn wait_for(erp: &Sink, what: &str) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !erp
        .got
        .lock()
        .unwrap()
        .iter()
        .any(|(_, b)| b.contains(what))
    {
        assert!(
            std::time::Instant::now() < until,
            "{what} never reached the ERP"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `flows serve` runs enabled flows at their interval; a second runner
/// leaves a flow held by the first (and says so) and takes it over once
/// the first stops on SIGTERM.
#[test]
fn serve_runs_enabled_flows_and_one_runner_holds_a_flow() {
    use std::io::Read;
    let home = temp("flows-serve");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let erp = sink();
    let mut flow = example("Play");
    flow["nodes"][0]["params"]["every_seconds"] = json!(1);
    flow["nodes"][2]["params"]["url"] = json!(format!("{}/contacts", erp.url));
    assert!(import(&home, &flow).status.success());
    assert!(
        syncstudio(&home, &["flows", "enable", "Contacts to the ERP"])
            .status
            .success()
    );

    let mut first = serve(&home);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    import_contacts(&home, "LastName,Email\nOne,one@example.com\n", "insert");
    wait_for(&erp, "one@example.com");

    // A one-off poll is refused while a runner holds the flow.
    let o = syncstudio(&home, &["flows", "run", "Contacts to the ERP", "--once"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        one_line(&o).contains("is run by syncstudio flows serve (pid"),
        "{}",
        text(&o.stderr)
    );

    let mut second = serve(&home);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let pid = first.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = first.wait().unwrap();
    assert!(status.success(), "a graceful stop: {status:?}");
    let mut said = String::new();
    first
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    assert!(said.contains("stopped"), "{said}");

    import_contacts(&home, "LastName,Email\nTwo,two@example.com\n", "insert");
    wait_for(&erp, "two@example.com");
    let pid = second.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(second.wait().unwrap().success());
    let mut said = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    assert!(
        said.contains("is run by syncstudio flows serve (pid"),
        "the second says who holds it: {said}"
    );
    let got = erp.got.lock().unwrap();
    assert_eq!(
        got.iter()
            .filter(|(_, b)| b.contains("one@example.com"))
            .count(),
        1
    );
    assert_eq!(
        got.iter()
            .filter(|(_, b)| b.contains("two@example.com"))
            .count(),
        1
    );
}

/// `flows test` takes the latest matching record through the flow and
/// shows what each action would send, sending and writing nothing.
#[test]
fn test_shows_what_each_node_would_send_and_sends_nothing() {
    let home = temp("flows-test");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let erp = sink();
    let mut flow = example("Play");
    flow["nodes"][2]["params"]["url"] = json!(format!("{}/contacts/{{{{ record.Id }}}}", erp.url));
    assert!(import(&home, &flow).status.success());
    import_contacts(
        &home,
        "LastName,Email\nLatest,latest@example.com\n",
        "insert",
    );
    let o = syncstudio(
        &home,
        &["flows", "test", "Contacts to the ERP", "--format", "json"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["record"]["LastName"], "Latest");
    let id = t["record"]["Id"].as_str().unwrap();
    let post = t["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "post")
        .unwrap();
    let would = &post["output"]["would_send"];
    assert_eq!(would["method"], "POST");
    assert_eq!(would["url"], format!("{}/contacts/{id}", erp.url));
    assert!(
        would["body"]
            .as_str()
            .unwrap()
            .contains("latest@example.com")
    );
    assert_eq!(
        would["headers"]["Idempotency-Key"].as_str().unwrap().len(),
        64
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(erp.got.lock().unwrap().is_empty(), "nothing sent");
    // The trigger's state is untouched: enabling starts from now as ever.
    let (_, first) = run_once(&home);
    assert_eq!(first["run"], Value::Null, "{first}");
}

/// Steps and Salesforce actions together: a Contact's last name is looked
/// up among Accounts (Get Records), a branch updates the Account found or
/// creates one, a `set` node computes the text, and a REST request reads
/// the result back.
#[test]
fn steps_and_salesforce_actions_write_what_the_record_says() {
    let home = temp("flows-actions");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let flow = json!({
        "version": 1,
        "name": "Contacts to the ERP",
        "nodes": [
            {"id": "t", "type": "salesforce.trigger", "params": {
                "connection": "Play", "object": "Contact", "on": "created",
                "every_seconds": 5, "fields": ["LastName", "Email"]}},
            {"id": "text", "type": "set", "params": {"fields": {"about": "Contact {{ record.LastName }} <{{ record.Email }}>"}}},
            {"id": "find", "type": "salesforce.query", "params": {
                "connection": "Play", "object": "Account", "fields": ["Id", "Name"],
                "conditions": [{"field": "Name", "op": "=", "value": "{{ record.LastName }} Ltd's"}],
                "limit": 1}},
            {"id": "known", "type": "branch", "params": {"condition": "nodes.find.totalSize > 0"}},
            {"id": "touch", "type": "salesforce.update", "params": {
                "connection": "Play", "object": "Account", "id": "{{ nodes.find.records[0].Id }}",
                "fields": {"Description": "{{ nodes.text.about }}"}}},
            {"id": "make", "type": "salesforce.create", "params": {
                "connection": "Play", "object": "Account",
                "fields": {"Name": "{{ record.LastName }} Ltd's", "Description": "{{ nodes.text.about }}"}}},
            {"id": "read", "type": "salesforce.request", "params": {
                "connection": "Play", "method": "GET", "path": "sobjects/Account/{{ nodes.make.id }}",
                "query": {"fields": "Name,Description"}}}
        ],
        "edges": [
            {"from": "t", "to": "text"}, {"from": "text", "to": "find"}, {"from": "find", "to": "known"},
            {"from": "known", "to": "touch", "branch": "then"},
            {"from": "known", "to": "make", "branch": "else"},
            {"from": "make", "to": "read"}
        ]
    });
    let o = import(&home, &flow);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(run_once(&home).1["run"], Value::Null);
    import_contacts(&home, "LastName,Email\nOak,oak@example.com\n", "insert");
    // Tried first: the read runs (no Account yet), the write is only shown.
    let o = syncstudio(
        &home,
        &["flows", "test", "Contacts to the ERP", "--format", "json"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let tried: Value = serde_json::from_slice(&o.stdout).unwrap();
    let node = |id: &str| {
        tried["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(node("find")["output"]["totalSize"], 0, "{tried}");
    assert_eq!(
        node("make")["output"]["would_create"]["fields"]["Name"],
        "Oak Ltd's",
        "{tried}"
    );
    assert_eq!(node("touch"), Value::Null, "the else side only");
    let (code, first) = run_once(&home);
    assert_eq!(code, Some(0), "{first}");
    let accounts = |home: &std::path::Path| -> Value {
        let q = syncstudio(
            home,
            &[
                "query",
                "Play",
                "SELECT Name, Description FROM Account WHERE Name LIKE 'Oak%'",
                "--format",
                "json",
            ],
        );
        serde_json::from_slice(&q.stdout).unwrap()
    };
    assert_eq!(
        accounts(&home),
        json!([{"Name": "Oak Ltd's", "Description": "Contact Oak <oak@example.com>"}])
    );
    let outcomes = std::fs::read_to_string(
        std::path::Path::new(first["success_file"].as_str().unwrap())
            .with_file_name("outcomes.csv"),
    )
    .unwrap();
    assert!(
        outcomes.contains(",read,ok,") && !outcomes.contains(",touch,"),
        "{outcomes}"
    );

    // A second Oak finds the Account and updates it instead.
    import_contacts(&home, "LastName,Email\nOak,second@example.com\n", "insert");
    let (code, second) = run_once(&home);
    assert_eq!(code, Some(0), "{second}");
    assert_eq!(
        accounts(&home),
        json!([{"Name": "Oak Ltd's", "Description": "Contact Oak <second@example.com>"}])
    );
}

/// `salesforce.delete` by id alone; a record it cannot delete fails that
/// record with Salesforce's reason.
#[test]
fn delete_by_id_removes_the_record_and_names_why_when_it_cannot() {
    let home = temp("flows-delete");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let flow = json!({
        "version": 1, "name": "Contacts to the ERP",
        "nodes": [
            {"id": "t", "type": "salesforce.trigger", "params": {
                "connection": "Play", "object": "Contact", "on": "created",
                "every_seconds": 5, "fields": ["LastName"]}},
            {"id": "drop", "type": "salesforce.delete", "params": {
                "connection": "Play",
                "id": "{% if record.LastName == 'Bogus' %}003000000000000AAA{% else %}{{ record.Id }}{% endif %}"}}
        ],
        "edges": [{"from": "t", "to": "drop"}]
    });
    assert!(import(&home, &flow).status.success());
    assert_eq!(run_once(&home).1["run"], Value::Null);
    import_contacts(&home, "LastName\nTemp\nBogus\n", "insert");
    let (code, s) = run_once(&home);
    assert_eq!(
        (code, s["succeeded"].as_u64(), s["failed"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{s}"
    );
    let q = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT LastName FROM Contact WHERE LastName IN ('Temp', 'Bogus')",
            "--format",
            "json",
        ],
    );
    let left: Value = serde_json::from_slice(&q.stdout).unwrap();
    assert_eq!(left, json!([{"LastName": "Bogus"}]));
    let errors = std::fs::read_to_string(s["error_file"].as_str().unwrap()).unwrap();
    // Bogus's line: the node, and Salesforce's code and message.
    let line = errors.lines().nth(1).unwrap_or_default();
    let reason = line.split(",drop,").nth(1).unwrap_or_default();
    assert!(
        reason.contains(": ")
            && reason
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase()),
        "{errors}"
    );
}

/// A `start` in the past fires what changed since then, once, even when it
/// is further back than the org's 30 days of getUpdated.
#[test]
fn a_start_long_ago_fires_what_is_there_once() {
    let home = temp("flows-start");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let mut flow = example("Play");
    flow["nodes"][0]["params"]["start"] = json!("2020-01-01T00:00:00Z");
    flow["nodes"][2] = json!({"id": "post", "type": "csv.append", "params": {
        "path": home.join("all.csv").to_str().unwrap(), "columns": {"id": "{{ record.Id }}"}}});
    assert!(import(&home, &flow).status.success());
    import_contacts(&home, "LastName,Email\nPast,past@example.com\n", "insert");
    let (code, first) = run_once(&home);
    assert_eq!(code, Some(0), "{first}");
    let fired = first["rows"].as_u64().unwrap();
    assert!(fired >= 1, "{first}");
    let (code, again) = run_once(&home);
    assert_eq!((code, &again["run"]), (Some(0), &Value::Null), "{again}");
    let written = std::fs::read_to_string(home.join("all.csv")).unwrap();
    assert_eq!(
        written.lines().count() as u64,
        fired + 1,
        "each once, under a header"
    );
}

fn run_named(home: &std::path::Path, name: &str) -> Value {
    let o = syncstudio(home, &["flows", "run", name, "--once", "--format", "json"]);
    assert!(o.status.code() == Some(0), "{}", text(&o.stderr));
    serde_json::from_str(text(&o.stdout).lines().last().unwrap()).unwrap()
}

/// A flow whose trigger writes one column per record to a CSV file.
fn logging_flow(
    name: &str,
    on: &str,
    condition: &str,
    log: &std::path::Path,
    (column, template): (&str, &str),
) -> Value {
    json!({
        "version": 1, "name": name,
        "nodes": [
            {"id": "t", "type": "salesforce.trigger", "params": {
                "connection": "Play", "object": "Contact", "on": on, "every_seconds": 1,
                "fields": ["Id", "LastName"], "where": condition}},
            {"id": "log", "type": "csv.append", "params": {
                "path": log.to_str().unwrap(), "columns": {column: template}}}
        ],
        "edges": [{"from": "t", "to": "log"}]
    })
}

/// Runs an import or undo and hands back its run id (its first line).
fn run_id(home: &std::path::Path, args: &[&str]) -> String {
    let o = syncstudio(home, args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    run_line(&o)
}

/// `deleted` fires once per deletion and `restored` once per undelete, even
/// of a record deleted before the flow was enabled; `updated` fires for an
/// edit but never for an undelete.
#[test]
fn deletions_and_undeletes_fire_their_own_triggers_once() {
    let home = temp("flows-deleted");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let file = home.join("people.csv");
    std::fs::write(
        &file,
        "LastName,Email\nAsh,a@example.com\nBirch,b@example.com\nCedar,c@example.com\nDogwood,d@example.com\n",
    )
    .unwrap();
    let insert = [
        "import",
        "Play",
        "--object",
        "Contact",
        "--operation",
        "insert",
        "--file",
    ];
    let inserted = run_id(&home, &[&insert[..], &[file.to_str().unwrap()]].concat());
    let ids: Vec<(String, String)> = {
        let o = syncstudio(&home, &["runs", "show", &inserted, "--format", "json"]);
        let s: Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut r = csv::Reader::from_path(s["success_file"].as_str().unwrap()).unwrap();
        r.records()
            .map(|r| r.unwrap())
            .map(|r| (r[0].to_string(), r[3].to_string()))
            .collect()
    };
    let id = |name: &str| ids.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let delete = |names: &[&str]| -> String {
        let f = home.join("delete.csv");
        let body: String = names.iter().map(|n| format!("{}\n", id(n))).collect();
        std::fs::write(&f, format!("Id\n{body}")).unwrap();
        run_id(
            &home,
            &[
                "import",
                "Play",
                "--object",
                "Contact",
                "--operation",
                "delete",
                "--file",
                f.to_str().unwrap(),
            ],
        )
    };
    // Dogwood is in the recycle bin well before any flow starts (outside
    // the first window: only the recycle bin says it was deleted).
    let dogwood_deleted = delete(&["Dogwood"]);
    control(&org.url, "POST", "clock", json!({"advanceSecs": 180}));

    for (name, on) in [
        ("Gone", "deleted"),
        ("Back", "restored"),
        ("Edits", "updated"),
    ] {
        let flow = logging_flow(
            name,
            on,
            "Email != null",
            &home.join(format!("{name}.csv")),
            ("name", "{{ record.LastName }}"),
        );
        let o = import(&home, &flow);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(
            run_named(&home, name)["run"],
            Value::Null,
            "starts from now"
        );
    }
    let fired = |name: &str| -> Vec<String> {
        std::fs::read_to_string(home.join(format!("{name}.csv")))
            .unwrap_or_default()
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    let poll_all = || {
        for name in ["Gone", "Back", "Edits"] {
            run_named(&home, name);
        }
    };

    let ash_and_birch = delete(&["Ash", "Birch"]);
    run_id(&home, &["runs", "undo", &dogwood_deleted]);
    let edit = home.join("edit.csv");
    std::fs::write(&edit, format!("Id,Title\n{},Buyer\n", id("Cedar"))).unwrap();
    run_id(
        &home,
        &[
            "import",
            "Play",
            "--object",
            "Contact",
            "--operation",
            "update",
            "--file",
            edit.to_str().unwrap(),
        ],
    );
    poll_all();
    assert_eq!(fired("Gone"), ["Ash", "Birch"]);
    assert_eq!(
        fired("Back"),
        ["Dogwood"],
        "deleted before the flow started"
    );
    assert_eq!(fired("Edits"), ["Cedar"], "an undelete is not an edit");

    run_id(&home, &["runs", "undo", &ash_and_birch]);
    poll_all();
    poll_all();
    assert_eq!(fired("Gone"), ["Ash", "Birch"]);
    assert_eq!(fired("Back"), ["Dogwood", "Ash", "Birch"]);
    assert_eq!(fired("Edits"), ["Cedar"]);
    let s = run_named(&home, "Back");
    assert_eq!(s["run"], Value::Null, "nothing fires twice: {s}");
}

/// A scheduled flow runs its steps once a tick with `record.scheduled_at`,
/// as a run each; `flows serve` keeps its interval; a bad cron line is
/// refused with the reason.
#[test]
fn a_scheduled_flow_runs_its_steps_each_tick() {
    let home = temp("flows-schedule");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let log = home.join("counts.csv");
    let mut flow = json!({
        "version": 1, "name": "Count contacts",
        "nodes": [
            {"id": "s", "type": "schedule", "params": {"every_seconds": 1}},
            {"id": "q", "type": "salesforce.query", "params": {
                "connection": "Play", "soql": "SELECT Id FROM Contact WHERE LastName = 'Tally'"}},
            {"id": "log", "type": "csv.append", "params": {
                "path": log.to_str().unwrap(),
                "columns": {"at": "{{ record.scheduled_at }}", "count": "{{ nodes.q.totalSize }}"}}}
        ],
        "edges": [{"from": "s", "to": "q"}, {"from": "q", "to": "log"}]
    });
    let o = import(&home, &flow);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("starts on every 1 s"),
        "{}",
        text(&o.stdout)
    );

    let counts = || -> Vec<String> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap_or_default().to_string())
            .collect()
    };
    let tested = syncstudio(&home, &["flows", "test", "Count contacts"]);
    assert!(tested.status.success(), "{}", text(&tested.stderr));
    assert!(counts().is_empty(), "test writes nothing");

    let first = run_named(&home, "Count contacts");
    assert_eq!(
        (first["status"].as_str(), first["rows"].as_u64()),
        (Some("completed"), Some(1)),
        "{first}"
    );
    import_contacts(&home, "LastName\nTally\nTally\n", "insert");
    run_named(&home, "Count contacts");
    assert_eq!(counts(), ["0", "2"]);

    assert!(
        syncstudio(&home, &["flows", "enable", "Count contacts"])
            .status
            .success()
    );
    let mut serving = serve(&home);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while counts().len() < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &serving.id().to_string()])
        .status();
    serving.wait().unwrap();
    let at: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert!(at.len() >= 4, "{at:?}");
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = at
        .iter()
        .map(|t| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f%z").unwrap())
        .collect();
    // Enabling starts the schedule afresh (a tick at once); serve then
    // keeps the interval.
    assert!(
        times[2..]
            .windows(2)
            .all(|w| w[1] - w[0] >= chrono::Duration::milliseconds(1000)),
        "one tick a second, never sooner: {at:?}"
    );

    flow["nodes"][0]["params"] = json!({"cron": "61 * * * *"});
    let o = import(&home, &flow);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("node s: cron \"61 * * * *\" is not a cron line"),
        "{}",
        text(&o.stderr)
    );
}

/// The window moves only as far as the org covered *before* the query a
/// poll has read: a record that commits between a poll's query and its
/// getUpdated call is read by the next poll, not passed over.
#[test]
fn a_record_that_commits_during_a_poll_is_read_by_the_next() {
    let home = temp("flows-commit-race");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    control(
        &org.url,
        "POST",
        "clock",
        json!({"now": "2026-11-30T10:00:50Z", "freeze": true}),
    );
    let log = home.join("fired.csv");
    let flow = logging_flow(
        "Race",
        "created",
        "LastName LIKE 'W%'",
        &log,
        ("name", "{{ record.LastName }}"),
    );
    assert!(import(&home, &flow).status.success());
    assert!(
        syncstudio(&home, &["flows", "enable", "Race"])
            .status
            .success()
    );
    import_contacts(&home, "LastName\nWseen\n", "insert");
    // Wlate is in an open transaction: visible 5 s after its stamp.
    control(
        &org.url,
        "POST",
        "settings",
        json!({"visibilityDelaySecs": 5}),
    );
    import_contacts(&home, "LastName\nWlate\n", "insert");
    // The poll's getUpdated waits 1.5 s; meanwhile Wlate commits and the
    // org's minute turns.
    control(
        &org.url,
        "POST",
        "faults",
        json!({"rules": [{"route": "sobjects", "method": "GET", "kind": "latency", "latencyMs": 1500, "times": 1}]}),
    );
    let poll = std::process::Command::new(BIN)
        .args(["flows", "run", "Race", "--once", "--format", "json"])
        .env("SYNCSTUDIO_HOME", &home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    control(
        &org.url,
        "POST",
        "clock",
        json!({"now": "2026-11-30T10:01:10Z"}),
    );
    let first = poll.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", text(&first.stderr));
    let fired = || -> Vec<String> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    assert_eq!(fired(), ["Wseen"], "Wlate was not visible to the query");
    let o = syncstudio(&home, &["flows", "run", "Race", "--once"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(fired(), ["Wseen", "Wlate"]);
}

/// A record whose action failed is retried from its run: sent under the
/// same Idempotency-Key, once the endpoint is back; a record edited since
/// is not sent again (the trigger takes its edit through).
#[test]
fn failed_records_are_retried_from_their_run_under_the_same_key() {
    let home = temp("flows-retry");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let erp = sink();
    let mut flow = example("Play");
    flow["nodes"][2]["params"]["url"] = json!(format!("{}/contacts", erp.url));
    assert!(import(&home, &flow).status.success());
    assert!(
        syncstudio(&home, &["flows", "enable", "Contacts to the ERP"])
            .status
            .success()
    );
    import_contacts(
        &home,
        "LastName,Email\nAsh,ash@example.com\nBirch,birch@example.com\n",
        "insert",
    );
    erp.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let (code, failed) = run_once(&home);
    assert_eq!(
        (code, failed["failed"].as_u64()),
        (Some(1), Some(2)),
        "{failed}"
    );
    let run = failed["run"].as_str().unwrap().to_string();
    let keys_of = |who: &str| -> Vec<String> {
        erp.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, b)| b.contains(who))
            .map(|(k, _)| k.clone())
            .collect()
    };
    let tried = keys_of("ash@example.com");
    assert_eq!(tried.len(), 3, "three tries before giving up");

    // Birch is edited meanwhile; the endpoint comes back.
    let q = syncstudio(
        &home,
        &[
            "query",
            "Play",
            "SELECT Id FROM Contact WHERE LastName = 'Birch'",
            "--format",
            "json",
        ],
    );
    let birch: Value = serde_json::from_slice(&q.stdout).unwrap();
    let birch = birch[0]["Id"].as_str().unwrap().to_string();
    import_contacts(&home, &format!("Id,Title\n{birch},Buyer\n"), "update");
    erp.down.store(false, std::sync::atomic::Ordering::SeqCst);

    let o = syncstudio(&home, &["runs", "retry", &run, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.lines().next().unwrap().starts_with("run "), "{out}");
    let retried: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        (
            retried["rows"].as_u64(),
            retried["succeeded"].as_u64(),
            retried["unchanged"].as_u64()
        ),
        (Some(2), Some(2), Some(1)),
        "{retried}"
    );
    let ash = keys_of("ash@example.com");
    assert_eq!(ash.len(), 4);
    assert!(ash.iter().all(|k| *k == tried[0]), "the same key: {ash:?}");
    let ok = std::fs::read_to_string(retried["success_file"].as_str().unwrap()).unwrap();
    assert!(
        ok.contains(&format!("{birch},")) && ok.contains("superseded"),
        "{ok}"
    );

    // The trigger takes Birch's edit through; Ash is not sent again.
    let (code, next) = run_once(&home);
    assert_eq!((code, next["rows"].as_u64()), (Some(0), Some(1)), "{next}");
    assert_eq!(keys_of("birch@example.com").len(), 4);
    assert_eq!(keys_of("ash@example.com").len(), 4);
}

/// More changes between two polls than a query page holds (2,000): every
/// page is read, each record fires once.
#[test]
fn a_poll_reads_every_page_of_changes() {
    let home = temp("flows-pages");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let log = home.join("fired.csv");
    let flow = logging_flow(
        "Pages",
        "created",
        "LastName LIKE 'Page%'",
        &log,
        ("id", "{{ record.Id }}"),
    );
    assert!(import(&home, &flow).status.success());
    assert!(
        syncstudio(&home, &["flows", "enable", "Pages"])
            .status
            .success()
    );
    let rows: String = (0..4500).map(|i| format!("Page{i}\n")).collect();
    import_contacts(&home, &format!("LastName\n{rows}"), "insert");
    let o = syncstudio(
        &home,
        &["flows", "run", "Pages", "--once", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s: Value = serde_json::from_str(text(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(s["rows"].as_u64(), Some(4500), "{s}");
    let fired: std::collections::HashSet<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    assert_eq!(fired.len(), 4500);
    let o = syncstudio(
        &home,
        &["flows", "run", "Pages", "--once", "--format", "json"],
    );
    assert_eq!(text(&o.stdout).trim(), r#"{"run":null,"rows":0}"#);
}
