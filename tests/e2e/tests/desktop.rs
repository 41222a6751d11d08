//! The desktop app end to end, as a user drives it: the real binary under
//! Xvfb through tauri-driver and WebKitWebDriver, against the emulator and
//! the real keychain. Screenshots of each step go to `$E2E_ARTIFACTS`
//! (default `target/e2e`). `scripts/test.sh` builds the app and runs this.

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use sf_emulator::browser::Choice;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// tauri-driver in a process group of its own, stopped with WebKitWebDriver
/// and the app when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// A WebDriver call that answers within `WAIT`, or the test fails saying which.
async fn within<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, call)
        .await
        .unwrap_or_else(|_| panic!("WebDriver did not answer {what} within {WAIT:?}"))
}

struct Session {
    client: Client,
    shots: PathBuf,
    step: usize,
}

impl Session {
    async fn shot(&mut self, name: &str) {
        self.step += 1;
        eprintln!("step {}: {name}", self.step);
        let png = within("screenshot", self.client.screenshot())
            .await
            .expect("screenshot");
        let path = self.shots.join(format!("{:02}-{name}.png", self.step));
        std::fs::write(&path, png).unwrap();
    }

    /// The first element matching `css` once it is displayed.
    async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(e) = within(css, self.client.find(Locator::Css(css))).await
                && within(css, e.is_displayed()).await.unwrap_or(false)
            {
                return e;
            }
            assert!(Instant::now() < deadline, "{css} did not appear");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the text of `css` satisfies `ok`; returns it.
    async fn text_when(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            if let Ok(e) = within(css, self.client.find(Locator::Css(css))).await
                && let Ok(t) = within(css, e.text()).await
            {
                if ok(&t) {
                    return t;
                }
                last = t;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never matched; last text: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A grid row's text. WebKitWebDriver reads no visible text from the
    /// grid's transformed rows; the screenshots show them, and their DOM text
    /// is what is painted.
    async fn grid_row(&self, index: usize) -> String {
        let row = self.find(&format!(".grid-row[data-row='{index}']")).await;
        within("row text", row.prop("textContent"))
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// The visible text of the first element matching `css`.
    async fn text(&self, css: &str) -> String {
        within(css, self.find(css).await.text()).await.unwrap()
    }

    /// The DOM text of the first element matching `css`: WebKitWebDriver
    /// reads no visible text from rows inside a scrolled table, though the
    /// screenshots show them.
    async fn content(&self, css: &str) -> String {
        within(css, self.find(css).await.prop("textContent"))
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// What an input matching `css` holds.
    async fn value(&self, css: &str) -> Option<String> {
        within(css, self.find(css).await.prop("value"))
            .await
            .unwrap()
    }

    /// The wizard's first step: the file's path typed, then Read.
    async fn read_file(&self, path: &Path) {
        self.type_into(
            "input[aria-label='CSV file path']",
            &path.display().to_string(),
        )
        .await;
        self.click_button("Read").await;
    }

    async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect(css);
    }

    async fn click_button(&self, label: &str) {
        let xpath = format!("//button[normalize-space()='{label}']");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(e) = within(label, self.client.find(Locator::XPath(&xpath))).await
                && within(label, e.is_enabled()).await.unwrap_or(false)
                && within(label, e.click()).await.is_ok()
            {
                return;
            }
            assert!(Instant::now() < deadline, "no button {label:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    async fn choose(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
    }
}

/// Line `n` (from 0) of a file, once it has it.
async fn line_of(path: &Path, n: usize) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Some(line) = text.lines().nth(n)
        {
            return line.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the app never opened the browser"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Answers the GTK save dialog the way a user would: type the path, Enter.
fn answer_save_dialog(title: &str, path: &Path) {
    let xdotool = |args: &[&str]| {
        Command::new("xdotool")
            .args(args)
            .output()
            .expect("xdotool runs")
    };
    let must = |args: &[&str]| {
        let out = xdotool(args);
        assert!(
            out.status.success(),
            "xdotool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // Found once it is mapped; it takes focus once it is viewable.
    let window = must(&["search", "--sync", "--onlyvisible", "--name", title]);
    let window = window.lines().last().unwrap().to_string();
    let deadline = Instant::now() + WAIT;
    while !xdotool(&["windowfocus", "--sync", &window])
        .status
        .success()
    {
        assert!(
            Instant::now() < deadline,
            "the save dialog never took focus"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    must(&["key", "--window", &window, "ctrl+a"]);
    must(&[
        "type",
        "--window",
        &window,
        "--delay",
        "20",
        &path.display().to_string(),
    ]);
    std::thread::sleep(Duration::from_millis(300));
    must(&["key", "--window", &window, "Return"]);
}

async fn rest_query(base: &str, token: &str, soql: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{base}/services/data/v62.0/query"))
        .query(&[("q", soql)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The app in a fresh data folder under `scratch`, through tauri-driver;
/// the URLs it opens in "the browser" are appended to `urls`. Screenshots
/// go to `$E2E_ARTIFACTS/<shots>`.
/// The app binary under test: `$SYNCSTUDIO_APP`, or the debug build.
fn app_binary() -> PathBuf {
    std::env::var("SYNCSTUDIO_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target/debug/sync-studio"))
}

async fn open_app(scratch: &Path, urls: &Path, shots: &str) -> (Driver, Session) {
    open_app_at(&app_binary(), scratch, urls, shots).await
}

/// The app's own environment: the data folder, a home of its own (window
/// state, the login entry) and the browser stand-in, all in `scratch`.
fn app_env(command: &mut Command, scratch: &Path, urls: &Path) {
    std::fs::create_dir_all(scratch.join("user")).unwrap();
    command
        .env("SYNCSTUDIO_HOME", scratch.join("home"))
        .env("HOME", scratch.join("user"))
        .env(
            "SYNCSTUDIO_BROWSER",
            format!("printf '%s\\n' >> '{}'", urls.display()),
        );
}

async fn open_app_at(app: &Path, scratch: &Path, urls: &Path, shots: &str) -> (Driver, Session) {
    assert!(app.exists(), "build the app first: {}", app.display());
    let shots = std::env::var("E2E_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target/e2e"))
        .join(shots);
    std::fs::create_dir_all(&shots).unwrap();

    // The app inherits this environment through tauri-driver and WebKitWebDriver.
    // Both ports are held at once, so they cannot come out the same.
    let (port, native_port) = {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        (
            a.local_addr().unwrap().port(),
            b.local_addr().unwrap().port(),
        )
    };
    let mut driver = Command::new("tauri-driver");
    driver.process_group(0).args([
        "--port",
        &port.to_string(),
        "--native-port",
        &native_port.to_string(),
    ]);
    app_env(&mut driver, scratch, urls);
    let driver = Driver(
        driver
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tauri-driver on PATH (cargo install tauri-driver --locked)"),
    );
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "browserName": "wry",
            "tauri:options": { "application": app },
        }))
        .unwrap();
    // fantoccini's rustls needs a provider chosen; WebDriver itself is plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let deadline = Instant::now() + WAIT;
    let client = loop {
        let mut builder = ClientBuilder::rustls().unwrap();
        builder.capabilities(caps.clone());
        let webdriver = format!("http://127.0.0.1:{port}");
        match within("new session", builder.connect(&webdriver)).await {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no WebDriver session: {e}"),
        }
    };
    (
        driver,
        Session {
            client,
            shots,
            step: 0,
        },
    )
}

fn scratch_folder(name: &str) -> PathBuf {
    let scratch = std::env::temp_dir().join(format!("syncstudio-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    scratch
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the desktop app under Xvfb: scripts/test.sh runs it"]
async fn a_user_connects_explores_queries_exports_and_removes() {
    let scratch = scratch_folder("e2e");
    let urls = scratch.join("opened-urls.txt");

    let org = sf_emulator::Emulator::start(sf_emulator::Config {
        demo_data: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let (driver, mut s) = open_app(&scratch, &urls, "").await;

    // An empty list first.
    s.text_when(".panel.empty", |t| t.contains("No connections yet"))
        .await;
    s.shot("connections-empty").await;

    // New connection, with inline validation.
    s.click_button("New connection").await;
    s.type_into("input[name=callbackPort]", "80").await;
    s.text_when(".field-error", |t| t.contains("1024")).await;
    s.type_into("input[name=name]", "E2E Org").await;
    s.choose("select[name=environment]", "mydomain").await;
    s.type_into("input[name=myDomainUrl]", org.base_url()).await;
    s.type_into("input[name=clientId]", "e2e-client").await;
    s.type_into("input[name=callbackPort]", &free_port().to_string())
        .await;
    s.shot("new-connection").await;

    // The user changes their mind in the browser's stead: Cancel.
    s.click_button("Grant access").await;
    line_of(&urls, 0).await;
    s.text_when(".waiting h3", |t| {
        t.contains("Waiting for you to grant access")
    })
    .await;
    s.click_button("Cancel").await;
    s.text_when(".notice", |t| t.contains("Sign-in cancelled"))
        .await;

    // Then denies access on the consent page: the reason, and Try again.
    s.click_button("New connection").await;
    let kept = s.value("input[name=clientId]").await;
    assert_eq!(
        kept.as_deref(),
        Some("e2e-client"),
        "the form keeps what was typed"
    );
    s.click_button("Grant access").await;
    let denied_url = line_of(&urls, 1).await;
    sf_emulator::browser::grant(&denied_url, Choice::Deny)
        .await
        .unwrap();
    let reason = s.text_when(".error-box", |t| !t.is_empty()).await;
    assert!(reason.to_lowercase().contains("denied"), "{reason}");
    s.shot("access-denied").await;
    s.click_button("Try again").await;

    // Grants access at last: the test plays the browser on the URL the app opened.
    s.click_button("Grant access").await;
    let url = line_of(&urls, 2).await;
    assert!(url.starts_with(org.base_url()), "{url}");
    s.text_when(".waiting h3", |t| {
        t.contains("Waiting for you to grant access")
    })
    .await;
    s.shot("waiting-for-browser").await;
    let page = sf_emulator::browser::grant(&url, Choice::Allow)
        .await
        .unwrap();
    assert!(page.to_lowercase().contains("sync studio"), "{page}");

    // Connected, with the user and the API use.
    let status = s
        .text_when("tr[data-connection='E2E Org'] [data-testid=status]", |t| {
            t == "Connected"
        })
        .await;
    assert_eq!(status, "Connected");
    let row = s.text("tr[data-connection='E2E Org']").await;
    assert!(row.contains("admin@playground.syncstudio"), "{row}");
    s.shot("connected").await;

    // Test shows today's API calls against the limit.
    s.click_button("Test").await;
    s.text_when(
        "tr[data-connection='E2E Org'] [data-testid=api-usage]",
        |t| t.contains(" / "),
    )
    .await;

    // Schema explorer: Account's fields.
    s.click("[data-nav=schema]").await;
    s.choose("select[aria-label=Connection]", "E2E Org").await;
    s.type_into("input[aria-label='Search objects']", "acc")
        .await;
    s.click("button[data-object=Account]").await;
    let industry = s
        .text_when("tr[data-field=Industry]", |t| t.contains("picklist"))
        .await;
    assert!(
        industry.contains("Agriculture") || industry.contains("Banking"),
        "{industry}"
    );
    let owner = s.text("tr[data-field=OwnerId]").await;
    assert!(owner.contains("→ User"), "{owner}");
    let name = s.text("tr[data-field=Name]").await;
    assert!(name.contains("Required"), "{name}");
    s.shot("schema-account").await;

    // SOQL console: rows as in the org.
    let soql = "SELECT Id, Name, Industry FROM Account ORDER BY Name";
    let token = org.issue_token("e2e-check")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let expected = rest_query(org.base_url(), &token, soql).await;
    let total = expected["totalSize"].as_u64().unwrap();
    assert!(total > 0);
    s.click("[data-nav=soql]").await;
    s.type_into("textarea[aria-label='SOQL query']", soql).await;
    s.click_button("Run").await;
    let done = s
        .text_when("[data-testid=query-status]", |t| t.contains(" rows in "))
        .await;
    assert!(
        done.starts_with(&format!("{total} rows")),
        "{done} (expected {total})"
    );
    s.shot("soql-rows").await;
    let first_name = expected["records"][0]["Name"].as_str().unwrap();
    let first = s.grid_row(0).await;
    assert!(
        first.contains(first_name),
        "{first:?} should show {first_name}"
    );

    // Export through the save dialog.
    let csv_path = scratch.join("accounts.csv");
    s.click_button("Export CSV…").await;
    let dialog_path = csv_path.clone();
    tokio::task::spawn_blocking(move || answer_save_dialog("Export rows as CSV", &dialog_path))
        .await
        .unwrap();
    let notice = s
        .text_when("[data-testid=export-notice]", |t| t.contains("Exported"))
        .await;
    assert!(notice.contains(&format!("{total} rows")), "{notice}");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Id,Name,Industry"));
    assert_eq!(lines.count() as u64, total);
    assert!(csv.contains(first_name));
    // With no window manager under Xvfb, focus does not come back to the
    // window when the dialog closes (and WebKit stops painting): click it,
    // as a user would.
    s.click("h2").await;
    s.shot("exported").await;
    s.text_when("[data-testid=export-notice]", |t| t.contains("Exported"))
        .await;

    // 50,000 rows stream into the grid, and its end is reachable.
    let contacts: Vec<serde_json::Map<String, serde_json::Value>> = (0..50_000)
        .map(|i| {
            let mut m = serde_json::Map::new();
            m.insert("LastName".into(), format!("Bulk {i:05}").into());
            m
        })
        .collect();
    let mut seed = sf_emulator::Seed::default();
    seed.records.insert("Contact".into(), contacts);
    org.seed(&seed).unwrap();
    s.type_into(
        "textarea[aria-label='SOQL query']",
        "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Bulk %' ORDER BY LastName",
    )
    .await;
    s.click_button("Run").await;
    // Thousands separators follow the system's locale.
    s.text_when("[data-testid=query-status]", |t| {
        t.replace([',', '.', ' ', '\u{a0}', '\u{202f}'], "")
            .starts_with("50000rowsin")
    })
    .await;
    within(
        "scroll",
        s.client.execute(
            "document.querySelector('[data-testid=record-grid]').scrollTop = 1e9; return null;",
            vec![],
        ),
    )
    .await
    .unwrap();
    let last = s.grid_row(49_999).await;
    assert!(
        last.starts_with("50000") && last.ends_with("Bulk 49999"),
        "{last}"
    );
    let painted = within(
        "rows in the page",
        s.client.find_all(Locator::Css(".grid-row")),
    )
    .await
    .unwrap()
    .len();
    assert!(
        painted < 200,
        "only visible rows are in the page, not {painted}"
    );
    s.shot("soql-50000-rows").await;

    // Remove revokes the grant at Salesforce.
    s.click("[data-nav=connections]").await;
    s.click_button("Remove").await;
    s.click_button("Confirm remove").await;
    s.text_when(".panel.empty", |t| t.contains("No connections yet"))
        .await;
    let grants = org.with_org(|o| {
        o.refresh_grants
            .values()
            .filter(|g| g.client_id == "e2e-client")
            .count()
    });
    assert_eq!(grants, 0, "the refresh token should be revoked");
    s.shot("removed").await;

    // Settings: the playground's port (a free one, not the default 7878).
    s.click("[data-nav=settings]").await;
    let folder = s.text("[data-testid=data-folder]").await;
    assert!(folder.ends_with("home"), "{folder}");
    let playground_port = free_port();
    s.type_into("input[name=playgroundPort]", &playground_port.to_string())
        .await;
    s.type_into("input[name=apiVersion]", "sixty").await;
    s.click_button("Save").await;
    s.text_when(".error-box", |t| t.contains("not an API version"))
        .await;
    s.type_into("input[name=apiVersion]", "61").await;
    s.click_button("Save").await;
    s.text_when(".actions .muted", |t| t == "Saved.").await;
    assert_eq!(
        s.value("input[name=apiVersion]").await.as_deref(),
        Some("61.0")
    );
    s.shot("settings").await;

    // Playground: one click starts the built-in org and connects it.
    s.click("[data-nav=playground]").await;
    s.text_when("[data-testid=playground-status]", |t| t == "Stopped")
        .await;
    s.click_button("Start and connect").await;
    s.text_when("tr[data-connection=Playground] [data-testid=status]", |t| {
        t == "Connected"
    })
    .await;
    s.click("[data-nav=playground]").await;
    let running = s.text_when(".panel", |t| t.contains("Running")).await;
    assert!(
        running.contains(&format!("127.0.0.1:{playground_port}")),
        "{running}"
    );
    s.shot("playground-running").await;
    // E2E Org, chosen earlier, is gone: the SOQL console picks the only one.
    s.click("[data-nav=soql]").await;
    assert_eq!(
        s.value("select[aria-label=Connection]").await.as_deref(),
        Some("Playground")
    );
    s.click("[data-nav=playground]").await;
    s.click_button("Stop").await;
    s.text_when("[data-testid=playground-status]", |t| t == "Stopped")
        .await;

    s.client.close().await.unwrap();
    drop(driver);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// New connection → Grant access → the consent page allowed: the
/// connection `name` to `org`, as a user makes it.
async fn connect(s: &Session, org: &sf_emulator::Emulator, urls: &Path, name: &str) {
    s.click_button("New connection").await;
    s.type_into("input[name=name]", name).await;
    s.choose("select[name=environment]", "mydomain").await;
    s.type_into("input[name=myDomainUrl]", org.base_url()).await;
    s.type_into("input[name=clientId]", "e2e-client").await;
    s.type_into("input[name=callbackPort]", &free_port().to_string())
        .await;
    s.click_button("Grant access").await;
    let url = line_of(urls, 0).await;
    sf_emulator::browser::grant(&url, Choice::Allow)
        .await
        .unwrap();
    s.text_when(
        &format!("tr[data-connection='{name}'] [data-testid=status]"),
        |t| t == "Connected",
    )
    .await;
}

/// Each sObject collections request takes 300 ms more: time to see an
/// import's progress and stop it midway.
fn slow_collections(org: &sf_emulator::Emulator) {
    org.add_fault(sf_emulator::FaultRule {
        route: "composite".into(),
        method: None,
        kind: sf_emulator::FaultKind::Latency,
        probability: 1.0,
        times: None,
        retry_after: None,
        latency_ms: Some(300),
    });
}

/// How many records a SOQL count finds in the org.
async fn count(org: &sf_emulator::Emulator, token: &str, soql: &str) -> u64 {
    rest_query(org.base_url(), token, soql).await["totalSize"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the desktop app under Xvfb: scripts/test.sh runs it"]
async fn a_user_imports_checks_undoes_cancels_and_resumes() {
    let scratch = scratch_folder("e2e-import");
    let urls = scratch.join("opened-urls.txt");
    let org = sf_emulator::Emulator::start(sf_emulator::Config {
        demo_data: true,
        ..Default::default()
    })
    .await
    .unwrap();
    // An external id field: rows that carry one and were in flight at a
    // kill are looked up by it, not left unknown.
    let erp_id: sf_emulator::Seed = serde_json::from_value(serde_json::json!({"fields": {"Contact": [
        {"name": "ERP_Id__c", "type": "string", "length": 20, "externalId": true, "unique": true}
    ]}}))
    .unwrap();
    org.seed(&erp_id).unwrap();
    let token = org.issue_token("e2e-check")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // 40 contacts; two have no last name (required), and Notes matches
    // no field by name.
    let small = scratch.join("trade-show.csv");
    let mut text = String::from("First Name,Last Name,Email,Notes\n");
    for i in 0..40 {
        let last = if i == 7 || i == 19 {
            String::new()
        } else {
            format!("Wizard{i:03}")
        };
        text += &format!("Ann{i},{last},ann{i}@example.com,\"note {i}, met at booth\"\n");
    }
    std::fs::write(&small, text).unwrap();

    let (driver, mut s) = open_app(&scratch, &urls, "import").await;
    connect(&s, &org, &urls, "E2E Org").await;

    // 1. The file: its rows, encoding and delimiter as read.
    s.click("[data-nav=imports]").await;
    s.read_file(&small).await;
    s.text_when("[data-testid=row-count]", |t| {
        t.starts_with("40 rows, 4 columns")
    })
    .await;
    let preview = s.content(".preview").await;
    assert!(preview.contains("note 3, met at booth"), "{preview}");
    s.shot("preview").await;

    // 2. Where it goes, 3. the mapping: matched by name, Notes flagged.
    s.choose("select[aria-label=Connection]", "E2E Org").await;
    s.type_into("input[aria-label=Object]", "Contact").await;
    let first = "input[aria-label='Field for First Name']";
    s.find(first).await;
    assert_eq!(s.value(first).await.as_deref(), Some("FirstName"));
    s.text_when("[data-testid=not-imported]", |t| t.contains("Notes"))
        .await;
    s.type_into("input[aria-label='Field for Notes']", "Description")
        .await;
    s.shot("mapping").await;

    // 4. Check: nothing written, the outcome of every row foretold.
    s.click_button("Check").await;
    s.text_when("[data-testid=will-create]", |t| t == "38")
        .await;
    assert_eq!(s.text("[data-testid=will-reject]").await, "2");
    let rejected = s.content("table[aria-label='Rejected rows']").await;
    assert!(rejected.contains("LastName"), "{rejected}");
    assert!(
        rejected.contains("Ann7") && rejected.contains("Ann19"),
        "{rejected}"
    );
    let wizards = "SELECT Id FROM Contact WHERE LastName LIKE 'Wizard%'";
    assert_eq!(
        count(&org, &token, wizards).await,
        0,
        "a check writes nothing"
    );
    s.shot("check").await;

    // 5. Run: the predicted counts come true, values as in the file.
    s.click_button("Run import").await;
    s.text_when("[data-testid=run-status]", |t| t == "Completed with errors")
        .await;
    assert_eq!(s.text("[data-testid=created]").await, "38");
    assert_eq!(s.text("[data-testid=failed]").await, "2");
    assert_eq!(count(&org, &token, wizards).await, 38);
    let one = rest_query(
        org.base_url(),
        &token,
        "SELECT Description FROM Contact WHERE LastName = 'Wizard003'",
    )
    .await;
    assert_eq!(one["records"][0]["Description"], "note 3, met at booth");
    s.shot("imported").await;

    // Undo, after a confirmation that says what it will do.
    s.click_button("Undo import…").await;
    let confirm = s.text("[role=alertdialog]").await;
    assert!(
        confirm.contains("delete the 38 records it created"),
        "{confirm}"
    );
    s.click(".confirm button.danger").await;
    s.text_when("h2", |t| t == "Undo finished").await;
    s.text_when("[data-testid=run-status]", |t| t == "Completed")
        .await;
    assert_eq!(count(&org, &token, wizards).await, 0, "undo deletes them");
    s.shot("undone").await;

    // A bigger file over REST, slowed down: Cancel stops it midway,
    // Resume finishes it with nothing sent twice.
    let rows = 3_000;
    let big = scratch.join("erp.csv");
    let mut text = String::from("FirstName,LastName\n");
    for i in 0..rows {
        text += &format!("Erp{i},Resume{i:05}\n");
    }
    std::fs::write(&big, text).unwrap();
    s.click_button("New import").await;
    s.read_file(&big).await;
    s.text_when("[data-testid=row-count]", |t| {
        t.starts_with("3000 rows") || t.starts_with("3,000 rows")
    })
    .await;
    s.click("details summary").await;
    s.choose("select[aria-label=API]", "Rest").await;
    s.find("input[aria-label='Field for LastName']").await;
    slow_collections(&org);
    s.click_button("Run without checking").await;
    s.text_when("[data-testid=rows-done]", |t| !t.starts_with("0 "))
        .await;
    s.shot("importing").await;
    s.click_button("Cancel").await;
    s.text_when("[data-testid=run-status]", |t| t == "Cancelled")
        .await;
    let resumes = "SELECT Id FROM Contact WHERE LastName LIKE 'Resume%'";
    let sent = count(&org, &token, resumes).await;
    assert!(
        sent > 0 && sent < rows,
        "cancelled midway, with {sent} sent"
    );
    s.shot("cancelled").await;
    org.clear_faults();
    s.click_button("Resume").await;
    s.text_when("[data-testid=run-status]", |t| t == "Completed")
        .await;
    assert_eq!(count(&org, &token, resumes).await, rows, "every row once");
    let all: serde_json::Value =
        reqwest::get(format!("{}/__emulator/records/Contact", org.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let names: std::collections::HashSet<&str> = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["IsDeleted"] == false)
        .filter_map(|r| r["LastName"].as_str())
        .filter(|n| n.starts_with("Resume"))
        .collect();
    assert_eq!(names.len() as u64, rows, "no row lost, none twice");

    // Runs: every import, check and undo, with the speed of the one chosen.
    s.click("[data-nav=runs]").await;
    let list = s.content("table[aria-label=Runs]").await;
    for kind in ["Import", "Check", "Undo"] {
        assert!(list.contains(kind), "{kind} missing from {list}");
    }
    let runs_listed = within(
        "runs",
        s.client
            .find_all(Locator::Css("table[aria-label=Runs] tbody tr")),
    )
    .await
    .unwrap()
    .len();
    assert_eq!(runs_listed, 4, "check, import, undo, the resumed import");
    s.click("table[aria-label=Runs] tbody tr:first-child button")
        .await;
    s.text_when("[data-testid=run-status]", |t| t == "Completed")
        .await;
    s.find("svg.chart").await;
    s.shot("runs").await;

    // The app is killed midway through an import; at the next start it
    // offers Resume, which finishes the run with nothing sent twice.
    let killed = scratch.join("killed.csv");
    let mut text = String::from("ERP_Id__c,FirstName,LastName\n");
    for i in 0..rows {
        text += &format!("K{i},Kill{i},Killed{i:05}\n");
    }
    std::fs::write(&killed, text).unwrap();
    s.click("[data-nav=imports]").await;
    s.click_button("New import").await;
    s.read_file(&killed).await;
    s.find("input[aria-label='Field for LastName']").await;
    slow_collections(&org);
    s.click_button("Run without checking").await;
    s.text_when("[data-testid=rows-done]", |t| !t.starts_with("0 "))
        .await;
    drop(s);
    drop(driver);
    let killed_soql = "SELECT Id FROM Contact WHERE LastName LIKE 'Killed%'";
    let sent = count(&org, &token, killed_soql).await;
    assert!(sent < rows, "killed midway, with {sent} sent");
    org.clear_faults();

    let (driver, mut s) = open_app(&scratch, &urls, "import-restart").await;
    s.text_when(".resume-offer", |t| {
        t.contains("stopped before it finished")
    })
    .await;
    s.shot("resume-offer").await;
    s.click(".resume-offer button.primary").await;
    s.text_when("[data-testid=run-status]", |t| t == "Completed")
        .await;
    assert_eq!(
        count(&org, &token, killed_soql).await,
        rows,
        "every row once"
    );
    s.shot("resumed").await;

    s.client.close().await.unwrap();
    drop(driver);
    let _ = std::fs::remove_dir_all(&scratch);
}

impl Session {
    /// Ticks the checkbox of field `name` in the field list labelled `list`.
    async fn tick_field(&self, list: &str, name: &str) {
        let xpath =
            format!("//*[@aria-label='{list}']//label[.//span[normalize-space()='{name}']]/input");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(e) = within(name, self.client.find(Locator::XPath(&xpath))).await
                && within(name, e.click()).await.is_ok()
            {
                return;
            }
            assert!(Instant::now() < deadline, "no field {name} in {list}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the desktop app under Xvfb: scripts/test.sh runs it"]
async fn a_user_builds_a_flow_on_the_canvas_tests_enables_it_and_sees_its_first_run() {
    let scratch = scratch_folder("e2e-flows");
    let urls = scratch.join("opened-urls.txt");
    let org = sf_emulator::Emulator::start(sf_emulator::Config {
        demo_data: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let token = org.issue_token("e2e-flows")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let out = scratch.join("contacts.csv");
    let (driver, mut s) = open_app(&scratch, &urls, "flows").await;
    connect(&s, &org, &urls, "E2E Org").await;

    s.click("[data-nav=flows]").await;
    s.text_when(".panel.empty", |t| t.contains("No flows yet"))
        .await;
    s.click_button("New flow").await;
    s.type_into("input[aria-label='Flow name']", "Contacts to a file")
        .await;

    // 1. A trigger from the palette, set up from the org's describe: the
    // only connection is chosen already.
    s.click("[data-palette='salesforce.trigger']").await;
    s.find("[data-node='trigger']").await;
    assert_eq!(
        s.value("select[aria-label=Connection]").await.as_deref(),
        Some("E2E Org")
    );
    s.text_when("[data-node='trigger']", |t| t.contains("1 problem"))
        .await;
    s.choose("select[aria-label=Object]", "Contact").await;
    s.tick_field("Fields it reads", "LastName").await;
    s.type_into("input[aria-label='Poll every (seconds)']", "1")
        .await;

    // 2. A CSV step after it; a column's template completed from the
    // trigger's fields.
    s.click("[data-palette='csv.append']").await;
    s.find("[data-node='csv']").await;
    s.type_into("input[aria-label=File]", &out.display().to_string())
        .await;
    s.type_into("input[aria-label='Add to Columns']", "name")
        .await;
    s.click_button("Add").await;
    let name = s.find("input[aria-label='Columns: name']").await;
    name.send_keys("{{ record.Las").await.unwrap();
    s.text_when("[aria-label='Names you can use']", |t| {
        t.contains("record.LastName")
    })
    .await;
    name.send_keys("\u{E004}").await.unwrap(); // Tab takes it.
    name.send_keys(" }}").await.unwrap();
    assert_eq!(
        s.value("input[aria-label='Columns: name']")
            .await
            .as_deref(),
        Some("{{ record.LastName }}")
    );
    s.text_when(".tabs button:first-child", |t| t == "Problems (0)")
        .await;
    s.shot("flow-built").await;

    // 3. Save, then Test: the latest contact goes through and nothing is
    // written.
    s.click_button("Save").await;
    s.text_when(".flow-toolbar [aria-live]", |t| t == "saved")
        .await;
    s.click_button("Test").await;
    s.text_when(".test-result", |t| t.contains("csv ok")).await;
    s.click("[data-node='csv'] .flow-node-head").await;
    s.text_when("[aria-label='What the test showed']", |t| {
        t.contains("What it would send")
    })
    .await;
    s.shot("flow-canvas").await;
    assert!(!out.exists(), "a test writes nothing");

    // 4. Enabled, the app's runner takes the next change through.
    s.click("input[aria-label=Enabled]").await;
    let checked = || async {
        within(
            "enabled",
            s.find("input[aria-label=Enabled]").await.prop("checked"),
        )
        .await
        .unwrap()
    };
    let deadline = Instant::now() + WAIT;
    while checked().await.as_deref() != Some("true") {
        assert!(Instant::now() < deadline, "the flow was not enabled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let made: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/services/data/v62.0/sobjects/Contact",
            org.base_url()
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"LastName": "Canvas", "Email": "canvas@example.com"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = made["id"].as_str().unwrap().to_string();
    s.text_when(".tabs button:nth-child(3)", |t| t == "Runs (1)")
        .await;
    s.click(".tabs button:nth-child(3)").await;
    let run = s.content("table[aria-label='Flow runs'] tbody tr").await;
    assert!(run.contains("Completed"), "{run}");
    assert_eq!(line_of(&out, 1).await, format!("{id},Canvas"));
    s.shot("flow-first-run").await;
    // The run on the Runs screen: each record through each node.
    s.click("table[aria-label='Flow runs'] tbody button").await;
    let outcomes = s
        .content("table[aria-label='Per-record outcomes'] tbody")
        .await;
    assert!(
        outcomes.contains(&id) && outcomes.contains("csv") && outcomes.contains("ok"),
        "{outcomes}"
    );
    s.shot("flow-run-outcomes").await;
    s.click("[data-nav=flows]").await;

    // 5. The list shows it enabled, with its last run.
    s.click_button("← Flows").await;
    s.text_when("tr[data-flow='Contacts to a file']", |t| {
        t.contains("Completed")
    })
    .await;
    let row = s.content("tr[data-flow='Contacts to a file']").await;
    assert!(
        row.contains("Contact created_or_updated every 1 s"),
        "{row}"
    );
    s.shot("flows-list").await;

    // 6. Closing the window with a flow enabled keeps the app in the tray,
    // and the flow running.
    let shown = || {
        Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", "Sync Studio"])
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    assert!(shown(), "xdotool sees the window before it is closed");
    let closed = Command::new("python3")
        .arg(workspace().join("tests/e2e/close_window.py"))
        .status()
        .expect("python3 with python-xlib (scripts/setup.sh)");
    assert!(closed.success());
    let deadline = Instant::now() + WAIT;
    while shown() {
        assert!(Instant::now() < deadline, "the window is still shown");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let later: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/services/data/v62.0/sobjects/Contact",
            org.base_url()
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"LastName": "Tray"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        line_of(&out, 2).await,
        format!("{},Tray", later["id"].as_str().unwrap())
    );

    // 7. Starting the app again (the menu, the login entry) brings the
    // running one back instead of opening a second.
    let mut again = Command::new(app_binary());
    app_env(&mut again, &scratch, &urls);
    let mut again = again.stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = again.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the second launch kept running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "the second launch: {status}");
    while !shown() {
        assert!(
            Instant::now() < deadline,
            "the running window did not come back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.text_when("h2", |t| t == "Flows").await;
    s.shot("back-from-the-tray").await;

    s.client.close().await.unwrap();
    drop(driver);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The window's rectangle as the X server has it (WebDriver's own answer
/// is the webview's idea of it).
fn window_geometry() -> String {
    let out = Command::new("xdotool")
        .args([
            "search",
            "--onlyvisible",
            "--name",
            "Sync Studio",
            "getwindowgeometry",
            "--shell",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or("?")
            .to_string()
    };
    format!(
        "{}x{} at {},{}",
        get("WIDTH"),
        get("HEIGHT"),
        get("X"),
        get("Y")
    )
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the desktop app under Xvfb: scripts/test.sh runs it"]
async fn the_app_tells_about_itself_starts_at_login_and_keeps_its_window_where_it_was() {
    let scratch = scratch_folder("e2e-manners");
    let urls = scratch.join("opened-urls.txt");
    let (driver, mut s) = open_app(&scratch, &urls, "manners").await;
    s.find("nav").await;

    // 1. About: the version, the folders, the licenses, and diagnostics on
    // the clipboard.
    s.click("[data-nav=about]").await;
    let version = s
        .text_when("[data-testid=about-version]", |t| !t.contains('…'))
        .await;
    assert_eq!(version, format!("Version {}", env!("CARGO_PKG_VERSION")));
    let data_folder = s.text("[data-testid=about-data-folder]").await;
    assert_eq!(data_folder, scratch.join("home").display().to_string());
    s.click_button("Copy diagnostics").await;
    s.text_when("dialog.about [role=status]", |t| t.contains("Copied"))
        .await;
    let clipboard = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .output()
        .expect("xclip (scripts/setup.sh)");
    let clipboard = String::from_utf8_lossy(&clipboard.stdout).to_string();
    assert!(
        clipboard.starts_with(&format!("Sync Studio {}", env!("CARGO_PKG_VERSION"))),
        "{clipboard}"
    );
    assert!(clipboard.contains("WebView ") && clipboard.contains(&data_folder));
    assert!(
        clipboard.contains("lines of sync-studio.log")
            && clipboard.contains("first screen painted"),
        "the app's log is in it: {clipboard}"
    );
    s.click("dialog.about summary").await;
    s.type_into("input[aria-label='Filter licenses']", "tauri-plugin-single")
        .await;
    let licenses = s.content(".licenses-table tbody").await;
    assert!(
        licenses.contains("tauri-plugin-single-instance") && licenses.contains("MIT"),
        "{licenses}"
    );
    s.shot("about").await;
    s.click_button("Close").await;

    // 2. Start at login: a login entry that starts the app in the tray.
    s.click("[data-nav=settings]").await;
    let entry = scratch.join("user/.config/autostart/Sync Studio.desktop");
    assert!(!entry.exists());
    s.click("input[name=startAtLogin]").await;
    let deadline = Instant::now() + WAIT;
    while !entry.exists() {
        assert!(
            Instant::now() < deadline,
            "no login entry at {}",
            entry.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = std::fs::read_to_string(&entry).unwrap();
    let exec = text
        .lines()
        .find(|l| l.starts_with("Exec="))
        .unwrap_or_default();
    assert!(
        exec.contains(&app_binary().display().to_string()) && exec.ends_with("--minimized"),
        "{text}"
    );
    s.shot("start-at-login").await;
    s.click("input[name=startAtLogin]").await;
    while entry.exists() {
        assert!(
            Instant::now() < deadline,
            "the login entry stays after unticking"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 3. The window's size and place are kept: moved, resized, closed,
    // opened again.
    within("resize", s.client.set_window_rect(60, 40, 1024, 700))
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while window_geometry() != "1024x700 at 60,40" {
        assert!(
            Instant::now() < deadline,
            "resized to {}",
            window_geometry()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let closed = Command::new("python3")
        .arg(workspace().join("tests/e2e/close_window.py"))
        .status()
        .expect("python3 with python-xlib (scripts/setup.sh)");
    assert!(closed.success());
    let state = scratch.join("user/.config/com.syncstudio.desktop/.window-state.json");
    while !state.exists() {
        assert!(
            Instant::now() < deadline,
            "no window state saved at {}",
            state.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(s);
    drop(driver);

    let (driver, mut s) = open_app(&scratch, &urls, "manners").await;
    s.find("nav").await;
    assert_eq!(
        window_geometry(),
        "1024x700 at 60,40",
        "the size and place it was left at"
    );
    s.shot("reopened-at-its-size").await;
    s.client.close().await.unwrap();
    drop(driver);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Runs a command as root (the CI runs as root; elsewhere through sudo).
fn as_root(args: &[&str]) -> std::process::Output {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let mut command = if is_root {
        Command::new(args[0])
    } else {
        let mut c = Command::new("sudo");
        c.arg(args[0]);
        c
    };
    command
        .args(&args[1..])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
}

/// Every path under `dirs`, for telling what an install left behind.
fn paths_under(dirs: &[&str]) -> std::collections::BTreeSet<String> {
    let out = Command::new("find").args(dirs).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "installs the .deb system-wide: scripts/test.sh runs it after scripts/package.sh"]
async fn the_deb_installs_with_apt_starts_and_uninstalls_leaving_only_the_user_s_data() {
    let deb = PathBuf::from(
        std::env::var("SYNCSTUDIO_DEB").expect("SYNCSTUDIO_DEB: the .deb scripts/package.sh built"),
    );
    let deb = deb.canonicalize().expect("the .deb exists");
    // A copy apt's sandbox user can read (the build folder may not be).
    let scratch = scratch_folder("e2e-package");
    let copy = std::env::temp_dir().join(deb.file_name().unwrap());
    std::fs::copy(&deb, &copy).unwrap();
    // Where the package puts files; a leftover from an earlier run goes first.
    let _ = as_root(&["apt-get", "remove", "-y", "--purge", "sync-studio"]);
    let watched = [
        "/usr/bin",
        "/usr/share/applications",
        "/usr/share/icons/hicolor",
        "/usr/lib",
        "/usr/share/doc",
    ];
    let before = paths_under(&watched);

    // 1. apt installs it, with what it depends on.
    let out = as_root(&[
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
        &copy.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "apt-get install: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let files =
        String::from_utf8_lossy(&as_root(&["dpkg", "-L", "sync-studio"]).stdout).to_string();
    for f in [
        "/usr/bin/sync-studio",
        "/usr/bin/syncstudio",
        "/usr/share/applications/Sync Studio.desktop",
    ] {
        assert!(
            files.lines().any(|l| l == f),
            "{f} is not in the package:\n{files}"
        );
        assert!(Path::new(f).exists(), "{f} was not installed");
    }
    for size in [
        "16x16", "24x24", "32x32", "48x48", "64x64", "128x128", "256x256", "512x512",
    ] {
        let icon = format!("/usr/share/icons/hicolor/{size}/apps/sync-studio.png");
        assert!(Path::new(&icon).exists(), "no {size} icon");
    }
    let entry = std::fs::read_to_string("/usr/share/applications/Sync Studio.desktop").unwrap();
    assert!(
        entry.contains("Exec=sync-studio") && entry.contains("Icon=sync-studio"),
        "{entry}"
    );
    let depends = String::from_utf8_lossy(
        &Command::new("dpkg-deb")
            .args(["-f", &copy.display().to_string(), "Depends"])
            .output()
            .unwrap()
            .stdout,
    )
    .to_string();
    assert!(
        depends.contains("libwebkit2gtk-4.1-0") && depends.contains("libgtk-3-0"),
        "{depends}"
    );
    let version = Command::new("/usr/bin/syncstudio")
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")),
        "syncstudio --version: {version:?}"
    );
    // The command line is the app's binary called by another name: it must
    // run a command headless (no display), not open a window.
    let listed = Command::new("/usr/bin/syncstudio")
        .args(["runs", "list", "--format", "json"])
        .env("SYNCSTUDIO_HOME", scratch.join("cli-home"))
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert!(listed.status.success(), "syncstudio runs list: {listed:?}");
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "[]");

    // 2. The installed app starts, shows its window and works.
    let urls = scratch.join("opened-urls.txt");
    let (driver, mut s) = open_app_at(
        Path::new("/usr/bin/sync-studio"),
        &scratch,
        &urls,
        "package",
    )
    .await;
    s.find("nav").await;
    let shown = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", "Sync Studio"])
        .status()
        .unwrap();
    assert!(shown.success(), "the installed app shows its window");
    s.click("[data-nav=about]").await;
    let v = s
        .text_when("[data-testid=about-version]", |t| !t.contains('…'))
        .await;
    assert_eq!(v, format!("Version {}", env!("CARGO_PKG_VERSION")));
    s.click_button("Close").await;
    s.click("[data-nav=playground]").await;
    s.shot("installed-app").await;
    s.client.close().await.unwrap();
    drop(driver);
    let data = scratch.join("home/studio.db");
    assert!(data.exists(), "the app wrote its data folder");

    // 3. Removing it leaves nothing behind but the user's data.
    let out = as_root(&["apt-get", "remove", "-y", "--purge", "sync-studio"]);
    assert!(out.status.success(), "apt-get remove: {out:?}");
    let still: Vec<_> = files.lines().filter(|f| Path::new(f).is_file()).collect();
    assert!(still.is_empty(), "still there after removal: {still:?}");
    let after = paths_under(&watched);
    // The desktop's own caches, rebuilt by its triggers for every package.
    let cache = |p: &&String| p.ends_with("icon-theme.cache") || p.ends_with("mimeinfo.cache");
    let left: Vec<_> = after.difference(&before).filter(|p| !cache(p)).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(data.exists(), "the user's data folder stays");
    let _ = std::fs::remove_file(&copy);
    let _ = std::fs::remove_dir_all(&scratch);
}

#[test]
#[ignore = "reads the .rpm scripts/package.sh built: scripts/test.sh runs it"]
fn the_rpm_holds_both_binaries_the_desktop_entry_and_webkit_dependencies() {
    let rpm =
        std::env::var("SYNCSTUDIO_RPM").expect("SYNCSTUDIO_RPM: the .rpm scripts/package.sh built");
    let query = |flag: &str| {
        let out = Command::new("rpm")
            .args([flag, &rpm])
            .output()
            .expect("rpm (scripts/setup.sh)");
        assert!(out.status.success(), "rpm {flag}: {out:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let files = query("-qpl");
    for f in [
        "/usr/bin/sync-studio",
        "/usr/bin/syncstudio",
        "/usr/share/applications/Sync Studio.desktop",
        "/usr/share/icons/hicolor/512x512/apps/sync-studio.png",
        "/usr/share/icons/hicolor/16x16/apps/sync-studio.png",
    ] {
        assert!(
            files.lines().any(|l| l == f),
            "{f} is not in the rpm:\n{files}"
        );
    }
    // Required by package name or by the library rpm found linked.
    let requires = query("-qpR");
    for (package, library) in [
        ("webkit2gtk4.1", "libwebkit2gtk-4.1.so.0"),
        ("gtk3", "libgtk-3.so.0"),
        (
            "libayatana-appindicator-gtk3",
            "libayatana-appindicator3.so.1",
        ),
    ] {
        assert!(
            requires
                .lines()
                .any(|l| l.trim() == package || l.starts_with(library)),
            "neither {package} nor {library} is required:\n{requires}"
        );
    }
}

/// A child process stopped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the desktop app under Xvfb: scripts/test.sh runs it"]
async fn a_flow_run_that_fails_is_told_in_a_notification_that_opens_the_run() {
    let scratch = scratch_folder("e2e-notice");
    let urls = scratch.join("opened-urls.txt");
    let org = sf_emulator::Emulator::start(sf_emulator::Config::default())
        .await
        .unwrap();
    let token = org.issue_token("e2e-notice")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // A real notification server (dunst) on the test's D-Bus session and
    // display, and a record of every notification sent to it.
    let sent = scratch.join("notifications.txt");
    let _monitor = Killed(
        Command::new("dbus-monitor")
            .arg("interface='org.freedesktop.Notifications',member='Notify'")
            .stdout(std::fs::File::create(&sent).unwrap())
            .spawn()
            .expect("dbus-monitor"),
    );
    let _dunst = Killed(
        Command::new("dunst")
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst (scripts/setup.sh)"),
    );
    let (driver, mut s) = open_app(&scratch, &urls, "notice").await;
    s.find("nav").await;

    // A flow the app's runner will run, saved from the CLI into the same
    // data folder: it updates an Account whose id is a contact's last
    // name, which fails for any contact.
    let cli = app_binary().with_file_name("syncstudio");
    let syncstudio = |args: &[&str], stdin: Option<&str>| {
        let mut c = Command::new(&cli);
        app_env(&mut c, &scratch, &urls);
        let mut child = c
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "syncstudio {args:?}: {out:?}");
    };
    syncstudio(
        &[
            "connections",
            "add",
            "Org",
            "--login-url",
            org.base_url(),
            "--client-id",
            "syncstudio-cli",
            "--client-credentials",
            "--client-secret-stdin",
        ],
        Some("cli-secret\n"),
    );
    let flow = serde_json::json!({
        "version": 1, "name": "Touch accounts",
        "nodes": [
            {"id": "t", "type": "salesforce.trigger", "params": {
                "connection": "Org", "object": "Contact", "on": "created",
                "every_seconds": 1, "fields": ["Id", "LastName"], "start": "now"}},
            {"id": "touch", "type": "salesforce.update", "params": {
                "connection": "Org", "object": "Account", "id": "{{ record.LastName }}",
                "fields": {"Description": "touched"}}}
        ],
        "edges": [{"from": "t", "to": "touch"}]
    });
    let file = scratch.join("flow.json");
    std::fs::write(&file, flow.to_string()).unwrap();
    syncstudio(&["flows", "import", file.to_str().unwrap()], None);
    syncstudio(&["flows", "enable", "Touch accounts"], None);
    reqwest::Client::new()
        .post(format!(
            "{}/services/data/v62.0/sobjects/Contact",
            org.base_url()
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"LastName": "Nowhere"}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();

    // 1. The failure reaches the desktop, with its reason.
    let deadline = Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(&sent).unwrap_or_default();
        if text.contains("Flow Touch accounts: 1 record failed") {
            assert!(text.contains("First: "), "the reason is in it: {text}");
            break;
        }
        assert!(Instant::now() < deadline, "no notification sent: {text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let displayed = || {
        let out = Command::new("dunstctl")
            .args(["count", "displayed"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .unwrap_or(0)
    };
    while displayed() == 0 {
        assert!(Instant::now() < deadline, "dunst shows no notification");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.shot("notified").await;

    // 2. A click on it (dunst's default action) opens the run.
    s.click("[data-nav=connections]").await;
    assert!(
        Command::new("dunstctl")
            .args(["action", "0"])
            .status()
            .unwrap()
            .success()
    );
    s.text_when("[data-testid=run-status]", |t| t == "Completed with errors")
        .await;
    let outcomes = s
        .content("table[aria-label='Per-record outcomes'] tbody")
        .await;
    assert!(outcomes.contains("touch"), "{outcomes}");
    s.shot("notice-opened-the-run").await;

    s.client.close().await.unwrap();
    drop(driver);
    let _ = std::fs::remove_dir_all(&scratch);
}
