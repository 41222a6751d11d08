//! The trigger's promise under load: writers create, update, delete and
//! undelete contacts at random, many sharing a stamp's second, visible to
//! queries only 1.5 s after their stamp (open transactions), on an org
//! whose clock is two hours ahead of this machine's (or behind); five flows (one per
//! trigger kind) post each change to a local sink through `flows serve`,
//! which is killed with SIGKILL midway and stopped with SIGTERM later,
//! each time restarted. Then every record's last change has reached the
//! flows that should see it, no (record, change) was sent twice except the
//! one a kill may have left in flight, and nothing was reported that did
//! not happen. `FLOWS_RANDOM_SECS` sets how long the writers write
//! (default 12), `FLOWS_RANDOM_SEED` replays a run.

mod common;
use common::*;

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Everything the sink was sent: (flow, Idempotency-Key, body, when).
type Sent = Arc<Mutex<Vec<(String, String, Value, Instant)>>>;

fn sink() -> (String, Sent) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent: Sent = Arc::default();
    let kept = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let kept = kept.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).unwrap_or(0) == 0 {
                    return;
                }
                let flow = request
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string();
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
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                kept.lock().unwrap().push((flow, key, body, Instant::now()));
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
            });
        }
    });
    (url, sent)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Create,
    Update,
    Delete,
    Restore,
}

/// What the writers did to one record.
#[derive(Debug, Clone)]
struct Written {
    alive: bool,
    busy: bool,
    last: Op,
    ever_deleted: bool,
    /// How many times it was deleted, and undeleted.
    deletions: usize,
    restores: usize,
}

/// Whether every flow has had time to see a record's last deletion (or
/// undelete): its own flow has reported it and 3 s have passed (every
/// flow polls in that time). A delete and an undelete inside one polling
/// interval leave only an edit behind, an undelete and an edit only the
/// undelete: the writers leave a record alone until its change was seen,
/// however slow the polls are on a loaded machine.
fn seen_by_all(sent: &Sent, flow: &str, id: &str, times: usize) -> bool {
    let sent = sent.lock().unwrap();
    let reports: Vec<&Instant> = sent
        .iter()
        .filter(|(f, _, b, _)| f == flow && b["id"] == json!(id))
        .map(|(_, _, _, at)| at)
        .collect();
    reports.len() >= times
        && reports
            .last()
            .is_some_and(|at| at.elapsed() > Duration::from_secs(3))
}

struct Org {
    url: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl Org {
    fn api(&self, path: &str) -> String {
        format!("{}/services/data/v62.0/{path}", self.url)
    }

    fn create(&self, name: &str) -> String {
        let r: Value = self
            .http
            .post(self.api("sobjects/Contact"))
            .bearer_auth(&self.token)
            .json(&json!({"LastName": name}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        r["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"))
            .to_string()
    }

    fn apply(&self, op: Op, id: &str, n: u64) {
        let r = match op {
            Op::Update => self
                .http
                .patch(self.api(&format!("sobjects/Contact/{id}")))
                .bearer_auth(&self.token)
                .json(&json!({"Title": format!("edit {n}")}))
                .send(),
            Op::Delete => self
                .http
                .delete(self.api(&format!("sobjects/Contact/{id}")))
                .bearer_auth(&self.token)
                .send(),
            Op::Restore => self
                .http
                .post(format!("{}/__emulator/undelete", self.url))
                .json(&json!({"ids": [id]}))
                .send(),
            Op::Create => unreachable!(),
        }
        .unwrap();
        assert!(
            r.status().is_success(),
            "{op:?} {id}: {}",
            r.text().unwrap()
        );
    }
}

fn flow(name: &str, on: &str, sink: &str) -> Value {
    json!({
        "version": 1, "name": name,
        "nodes": [
            {"id": "t", "type": "salesforce.trigger", "params": {
                "connection": "Play", "object": "Contact", "on": on, "every_seconds": 1,
                "fields": ["Id", "LastName"], "where": "LastName LIKE 'R%'"}},
            {"id": "post", "type": "http.request", "params": {
                "method": "POST", "url": format!("{sink}/{name}"),
                "headers": {"Content-Type": "application/json"},
                "body": "{\"id\": \"{{ record.Id }}\", \"stamp\": \"{{ record.SystemModstamp }}\", \"created\": \"{{ record.CreatedDate }}\"}"}}
        ],
        "edges": [{"from": "t", "to": "post"}]
    })
}

fn serve(home: &std::path::Path) -> std::process::Child {
    std::process::Command::new(BIN)
        .args(["flows", "serve"])
        .env("SYNCSTUDIO_HOME", home)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

const KINDS: [(&str, &str); 5] = [
    ("created", "created"),
    ("updated", "updated"),
    ("both", "created_or_updated"),
    ("deleted", "deleted"),
    ("restored", "restored"),
];

#[test]
fn every_change_reaches_its_flows_once_under_concurrent_writers_restarts_and_a_kill() {
    let secs: u64 = std::env::var("FLOWS_RANDOM_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("FLOWS_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("FLOWS_RANDOM_SEED={seed} FLOWS_RANDOM_SECS={secs}");

    let home = temp("flows-random");
    let play = playground(&home);
    assert!(add_quick(&home, "Play", &play.url, &[]).status.success());
    control(
        &play.url,
        "POST",
        "settings",
        json!({"visibilityDelaySecs": 1.5}),
    );
    // The org's clock two hours ahead of this machine's, or behind.
    let skew = if seed.is_multiple_of(2) { 7200 } else { -7200 };
    eprintln!("the org's clock is {skew} s off");
    control(&play.url, "POST", "clock", json!({"advanceSecs": skew}));
    let (sink_url, sent) = sink();
    for (name, on) in KINDS {
        let file = home.join(format!("{name}.json"));
        std::fs::write(&file, flow(name, on, &sink_url).to_string()).unwrap();
        let o = syncstudio(&home, &["flows", "import", file.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let o = syncstudio(&home, &["flows", "enable", name]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let token = control(&play.url, "POST", "tokens", json!({}))["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let org = Arc::new(Org {
        url: play.url.clone(),
        token,
        http: reqwest::blocking::Client::new(),
    });

    let mut runner = serve(&home);
    let written: Arc<Mutex<BTreeMap<String, Written>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_secs(secs);
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (org, written, sent) = (org.clone(), written.clone(), sent.clone());
            std::thread::spawn(move || {
                let mut rng = StdRng::seed_from_u64(seed.wrapping_add(w));
                let mut n = 0u64;
                while Instant::now() < stop_at {
                    n += 1;
                    // Pick an operation a record allows (see seen_by_all).
                    let pick = {
                        let mut w = written.lock().unwrap();
                        let roll = rng.random_range(0..10);
                        let candidates: Vec<String> = w
                            .iter()
                            .filter(|(_, r)| !r.busy)
                            .filter(|(id, r)| match roll {
                                0..=3 => false,
                                4..=8 => {
                                    r.alive
                                        && (r.restores == 0
                                            || seen_by_all(&sent, "restored", id, r.restores))
                                }
                                _ => !r.alive && seen_by_all(&sent, "deleted", id, r.deletions),
                            })
                            .map(|(id, _)| id.clone())
                            .collect();
                        let op = match roll {
                            0..=3 => Op::Create,
                            4..=6 => Op::Update,
                            7..=8 => Op::Delete,
                            _ => Op::Restore,
                        };
                        if op == Op::Create || candidates.is_empty() {
                            (Op::Create, None)
                        } else {
                            let id = candidates[rng.random_range(0..candidates.len())].clone();
                            w.get_mut(&id).unwrap().busy = true;
                            (op, Some(id))
                        }
                    };
                    match pick {
                        (Op::Create, _) => {
                            let id = org.create(&format!("R{w}-{n}"));
                            written.lock().unwrap().insert(
                                id,
                                Written {
                                    alive: true,
                                    busy: false,
                                    last: Op::Create,
                                    ever_deleted: false,
                                    deletions: 0,
                                    restores: 0,
                                },
                            );
                        }
                        (op, Some(id)) => {
                            org.apply(op, &id, n);
                            let mut w = written.lock().unwrap();
                            let r = w.get_mut(&id).unwrap();
                            r.busy = false;
                            r.last = op;
                            match op {
                                Op::Delete => {
                                    r.alive = false;
                                    r.ever_deleted = true;
                                    r.deletions += 1;
                                }
                                Op::Restore => {
                                    r.alive = true;
                                    r.restores += 1;
                                }
                                _ => {}
                            }
                        }
                        _ => unreachable!(),
                    }
                    std::thread::sleep(Duration::from_millis(rng.random_range(5..40)));
                }
            })
        })
        .collect();

    // A third of the way in, the runner is killed and another takes its
    // flows over; two thirds in, that one is stopped and a third started.
    std::thread::sleep(Duration::from_secs(secs / 3));
    runner.kill().unwrap();
    runner.wait().unwrap();
    let mut runner = serve(&home);
    std::thread::sleep(Duration::from_secs(secs / 3));
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &runner.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(runner.wait().unwrap().success(), "a graceful stop");
    let mut runner = serve(&home);
    for w in writers {
        w.join().unwrap();
    }

    // Quiet: every change visible and polled, the sink idle for 4 s.
    let mut last = (0, Instant::now());
    let until = Instant::now() + Duration::from_secs(90);
    while last.1.elapsed() < Duration::from_secs(4) {
        assert!(Instant::now() < until, "the flows never went quiet");
        std::thread::sleep(Duration::from_millis(200));
        let n = sent.lock().unwrap().len();
        if n != last.0 {
            last = (n, Instant::now());
        }
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &runner.id().to_string()])
        .status();
    runner.wait().unwrap();

    // The org's final word on every record the writers touched.
    let records = control(&play.url, "GET", "records/Contact", json!({}));
    let final_state: HashMap<String, (String, String, bool)> = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["Id"].as_str().unwrap().to_string(),
                (
                    r["SystemModstamp"].as_str().unwrap().to_string(),
                    r["CreatedDate"].as_str().unwrap().to_string(),
                    r["IsDeleted"].as_bool().unwrap(),
                ),
            )
        })
        .collect();
    let written = written.lock().unwrap();
    let sent = sent.lock().unwrap();
    let fired = |flow: &str| -> Vec<(String, String)> {
        sent.iter()
            .filter(|(f, _, _, _)| f == flow)
            .map(|(_, _, b, _)| {
                (
                    b["id"].as_str().unwrap().to_string(),
                    b["stamp"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let has =
        |flow: &str, id: &str, stamp: &str| fired(flow).iter().any(|(i, s)| i == id && s == stamp);
    let ops: HashMap<Op, usize> = written.values().fold(HashMap::new(), |mut m, r| {
        *m.entry(r.last).or_default() += 1;
        m
    });
    eprintln!(
        "{} records written, last ops {ops:?}; {} sends",
        written.len(),
        sent.len()
    );

    // Nothing twice, but for what one kill may have left in flight.
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (_, key, _, _) in sent.iter() {
        assert_eq!(key.len(), 64, "every send carries its Idempotency-Key");
        *keys.entry(key).or_default() += 1;
    }
    let again: usize = keys.values().map(|n| n - 1).sum();
    assert!(again <= 1, "{again} (record, change) pairs sent twice");

    // Each record's last change reached the flows that should see it.
    let mut missed = vec![];
    for (id, w) in written.iter() {
        let (stamp, created, deleted) = &final_state[id];
        assert_eq!(*deleted, !w.alive, "{id}: the org and the writers agree");
        let expect: &[&str] = match w.last {
            Op::Create => &["both"],
            Op::Update => &["updated", "both"],
            Op::Delete => &["deleted"],
            Op::Restore => &["restored"],
        };
        for flow in expect {
            if !has(flow, id, stamp) {
                missed.push(format!("{flow}: {id} at {stamp} (last {:?})", w.last));
            }
        }
        if w.last == Op::Restore {
            assert!(
                !has("updated", id, stamp) && !has("both", id, stamp),
                "{id}: an undelete reported as an edit; what was sent for it: {:#?}",
                sent.iter()
                    .filter(|(_, _, b, _)| b["id"] == json!(id))
                    .map(|(f, _, b, _)| format!("{f} {}", b["stamp"]))
                    .collect::<Vec<_>>()
            );
        }
        assert!(
            !has("updated", id, created),
            "{id}: updated fired for the creation itself"
        );
    }
    assert!(missed.is_empty(), "missed {}: {missed:#?}", missed.len());

    // Every creation once; nothing reported that did not happen.
    let created: BTreeSet<String> = fired("created").into_iter().map(|(i, _)| i).collect();
    let made: BTreeSet<String> = written.keys().cloned().collect();
    assert_eq!(
        created, made,
        "the created flow saw exactly the records made"
    );
    for (id, _) in fired("deleted").iter().chain(fired("restored").iter()) {
        assert!(
            written.get(id).is_some_and(|w| w.ever_deleted),
            "{id} was never deleted"
        );
    }
    for (flow, _) in KINDS {
        for (id, _) in fired(flow) {
            assert!(
                written.contains_key(&id),
                "{flow} fired for {id}, never written"
            );
        }
    }
}
