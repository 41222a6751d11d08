//! What every CLI suite needs: the binary, a playground, a data folder,
//! and a user who answers the consent page.
#![allow(dead_code)]

use sf_emulator::browser::Choice;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_syncstudio");

pub struct Playground {
    pub child: Child,
    pub url: String,
}

impl Drop for Playground {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn playground(home: &Path) -> Playground {
    let mut child = Command::new(BIN)
        .args(["playground", "--port", "0"])
        .env("SYNCSTUDIO_HOME", home.join("playground"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Playground {
        url: line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_string(),
        child,
    }
}

pub fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("syncstudio-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn syncstudio(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("SYNCSTUDIO_HOME", home)
        .env_remove("SYNCSTUDIO_BROWSER")
        .output()
        .unwrap()
}

/// `import Play --object OBJECT --operation OPERATION --file FILE`, then
/// `extra`: an import into the connection the suites add as `Play`.
pub fn import_args<'a>(
    object: &'a str,
    operation: &'a str,
    file: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "import",
        "Play",
        "--object",
        object,
        "--operation",
        operation,
        "--file",
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args
}

/// The run id a command printed as its first line (`run ID`).
pub fn run_line(o: &Output) -> String {
    text(&o.stdout)
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("run "))
        .unwrap_or_else(|| panic!("the run line, not {:?}", text(&o.stdout)))
        .to_string()
}

/// A run started in the background, once it printed its `run ID` line.
pub struct Started {
    pub child: Child,
    /// The rest of its stdout.
    pub out: BufReader<std::process::ChildStdout>,
    pub run: String,
}

/// Starts `syncstudio ARGS` (stdout piped, stderr to `stderr`) and waits
/// for the run line it prints first.
pub fn start_run(home: &Path, args: &[&str], stderr: Stdio) -> Started {
    let mut child = Command::new(BIN)
        .args(args)
        .env("SYNCSTUDIO_HOME", home)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let run = first
        .trim()
        .strip_prefix("run ")
        .unwrap_or_else(|| panic!("the run line, not {first:?}"))
        .to_string();
    Started { child, out, run }
}

pub fn play(url: &str, choice: Choice) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let page = rt
        .block_on(sf_emulator::browser::grant(url, choice))
        .unwrap();
    assert!(
        page.contains(if choice == Choice::Allow {
            "Access granted"
        } else {
            "not granted"
        }),
        "{page}"
    );
}

pub fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// Runs the CLI with `input` on stdin.
pub fn syncstudio_with_stdin(home: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env("SYNCSTUDIO_HOME", home)
        .env_remove("SYNCSTUDIO_BROWSER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Adds a connection with client credentials (no browser): the quickest
/// way to a signed-in connection for suites about something else.
pub fn add_quick(home: &Path, name: &str, url: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "connections",
        "add",
        name,
        "--login-url",
        url,
        "--client-id",
        "syncstudio-cli",
        "--client-credentials",
        "--client-secret-stdin",
    ];
    args.extend_from_slice(extra);
    syncstudio_with_stdin(home, &args, "cli-secret\n")
}

/// A call to the playground's control API.
pub fn control(url: &str, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let http = reqwest::blocking::Client::new();
    let url = format!("{url}/__emulator/{path}");
    let req = match method {
        "GET" => http.get(&url),
        "DELETE" => http.delete(&url),
        _ => http.post(&url).json(&body),
    };
    req.send().unwrap().json().unwrap()
}

/// The one line a failed command leaves on stderr.
pub fn one_line(o: &Output) -> String {
    let err = text(&o.stderr);
    assert_eq!(
        err.lines().count(),
        1,
        "stderr should be one line, got: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    err.trim_end().to_string()
}

/// Runs a command that prints an authorization URL alone on its first
/// stdout line (`--no-browser`), plays the user allowing it, and waits.
pub fn with_browser_sign_in(home: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--no-browser")
        .env("SYNCSTUDIO_HOME", home)
        .env_remove("SYNCSTUDIO_BROWSER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    play(line.trim_end(), Choice::Allow);
    child.wait_with_output().unwrap()
}

/// The `sf__Row` values of a result file (none when there is no file).
pub fn sf_rows(path: &str) -> Vec<u64> {
    if path.is_empty() || !Path::new(path).exists() {
        return vec![];
    }
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap();
    let at = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "sf__Row")
        .unwrap();
    r.records()
        .map(|x| x.unwrap()[at].parse().unwrap())
        .collect()
}

/// Gives `object` an `ERP_Id__c` external id field.
pub fn seed_erp_id(url: &str, objects: &[&str]) {
    let field = serde_json::json!([{"name": "ERP_Id__c", "type": "string", "length": 20, "externalId": true, "unique": true}]);
    let fields: serde_json::Map<String, serde_json::Value> = objects
        .iter()
        .map(|o| (o.to_string(), field.clone()))
        .collect();
    control(url, "POST", "seed", serde_json::json!({ "fields": fields }));
}
