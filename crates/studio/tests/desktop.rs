//! What the desktop screens call: schema, the SOQL console's pages, the
//! built-in playground, settings, cancelling a sign-in and an import's
//! progress. Against the emulator and the real keychain (scripts/test.sh
//! starts gnome-keyring).

mod common;

use common::{browser_sign_in, free_port, new_connection, temp_home};
use sf_emulator::Emulator;
use std::time::Duration;
use studio::settings::SettingsChange;
use studio::{Error, NewConnection, SignIn, Studio};

/// What `SELECT COUNT() ...` answers in the console.
async fn count(studio: &Studio, connection: &str, soql: &str) -> u64 {
    studio
        .query_grid(connection, soql, false, |_| {})
        .await
        .unwrap()
        .rows
}

/// A studio connected (without the browser) to a demo org.
async fn connected(tag: &str) -> (Emulator, Studio, std::path::PathBuf) {
    let org = Emulator::start(sf_emulator::Config {
        demo_data: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let home = temp_home(tag);
    let studio = Studio::open(&home).unwrap();
    let refresh = org.issue_token("sync-studio-desktop")["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    studio
        .add_connection(
            new_connection(&org, "Org", None),
            SignIn::RefreshToken(refresh),
            |_| Ok(()),
        )
        .await
        .unwrap();
    (org, studio, home)
}

#[tokio::test]
async fn the_schema_explorer_sees_objects_and_field_details() {
    let (_org, studio, home) = connected("schema").await;
    let objects = studio.objects("Org").await.unwrap();
    let names: Vec<&str> = objects.iter().map(|o| o.name.as_str()).collect();
    assert!(
        names.contains(&"Account") && names.contains(&"Contact"),
        "{names:?}"
    );
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "objects come sorted by API name");

    let account = studio.object("Org", "Account").await.unwrap();
    assert_eq!(account.label, "Account");
    let field = |n: &str| account.fields.iter().find(|f| f.name == n).unwrap().clone();
    assert!(field("Name").required, "Name must be given on create");
    assert!(!field("Id").required, "Id is not createable");
    assert_eq!(field("Name").field_type, "string");
    assert!(field("Name").length > 0);
    assert_eq!(field("OwnerId").references, vec!["User".to_string()]);
    let industry = field("Industry");
    assert_eq!(industry.field_type, "picklist");
    assert!(
        industry
            .picklist_values
            .contains(&"Agriculture".to_string())
    );

    let err = studio.object("Org", "NoSuchThing__c").await.unwrap_err();
    assert!(err.to_string().contains("NoSuchThing__c"), "{err}");
    studio.remove_connection("Org").await.unwrap();
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn the_console_gets_rows_page_by_page_with_parents_flattened() {
    let (org, studio, home) = connected("grid").await;
    // More than one 2,000-row page of contacts, under a few accounts.
    let mut account_ids = vec![];
    studio
        .query_grid("Org", "SELECT Id FROM Account LIMIT 3", false, |p| {
            account_ids.extend(p.rows.into_iter().map(|r| r[0].clone()))
        })
        .await
        .unwrap();
    let contacts: Vec<serde_json::Map<String, serde_json::Value>> = (0..2500)
        .map(|i| {
            serde_json::json!({
                "LastName": format!("Grid {i:05}"),
                "AccountId": account_ids[i % 3],
            })
            .as_object()
            .unwrap()
            .clone()
        })
        .collect();
    let mut seed = sf_emulator::Seed::default();
    seed.records.insert("Contact".into(), contacts);
    org.seed(&seed).unwrap();
    let count = count(&studio, "Org", "SELECT COUNT() FROM Contact").await;
    assert!(count > 2500, "{count}");

    let mut pages = vec![];
    let summary = studio
        .query_grid(
            "Org",
            "SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName",
            false,
            |p| pages.push(p),
        )
        .await
        .unwrap();
    assert_eq!(summary.rows, count);
    assert_eq!(summary.pages as usize, pages.len());
    assert_eq!(
        pages[0].columns.as_deref(),
        Some(&["Id".to_string(), "LastName".into(), "Account.Name".into()][..])
    );
    assert!(
        pages[1..].iter().all(|p| p.columns.is_none()),
        "columns come once"
    );
    assert!(pages.len() > 1, "rows arrive in pages");
    let rows: Vec<&Vec<String>> = pages.iter().flat_map(|p| &p.rows).collect();
    assert_eq!(rows.len() as u64, count);
    assert!(pages.iter().all(|p| p.total_size == count));
    let last_names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    let mut sorted = last_names.clone();
    sorted.sort();
    assert_eq!(last_names, sorted);
    assert!(
        rows.iter().any(|r| !r[2].is_empty()),
        "parent names are flattened into Account.Name"
    );

    let mut counted = vec![];
    let summary = studio
        .query_grid("Org", "SELECT COUNT() FROM Contact", false, |p| {
            counted.push(p)
        })
        .await
        .unwrap();
    assert_eq!(counted[0].rows, vec![vec![count.to_string()]]);
    assert_eq!(summary.pages, 1);

    let err = studio
        .query_grid("Org", "SELECT Nope FROM Contact", false, |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Nope"), "{err}");
    studio.remove_connection("Org").await.unwrap();
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn cancel_ends_a_browser_sign_in_and_frees_the_port() {
    let org = Emulator::start(sf_emulator::Config::default())
        .await
        .unwrap();
    let home = temp_home("cancel");
    let studio = std::sync::Arc::new(Studio::open(&home).unwrap());
    let port = free_port();
    let (opened_tx, opened_rx) = tokio::sync::oneshot::channel();
    let signing_in = {
        let studio = studio.clone();
        let new = NewConnection {
            callback_port: port,
            ..new_connection(&org, "Cancelled", None)
        };
        tokio::spawn(async move {
            studio
                .add_connection(new, browser_sign_in(), move |_url| {
                    let _ = opened_tx.send(());
                    Ok(())
                })
                .await
        })
    };
    // The user sees the browser open, then clicks Cancel.
    opened_rx.await.unwrap();
    studio.cancel_sign_in();
    let result = tokio::time::timeout(Duration::from_secs(5), signing_in)
        .await
        .expect("cancel ends the wait at once")
        .unwrap();
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err}");
    assert!(err.problem().detail.contains("Grant access"));
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "the callback port is free"
    );
    assert!(
        studio.connections().unwrap().is_empty(),
        "nothing was saved"
    );
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn the_playground_starts_connects_in_one_click_and_keeps_its_records() {
    let home = temp_home("playground");
    let studio = Studio::open(&home).unwrap();
    let port = free_port();
    studio
        .save_settings(SettingsChange {
            default_api_version: Some("61.0".into()),
            playground_port: port,
        })
        .unwrap();
    assert!(!studio.playground_status().await.running);

    let row = studio.connect_playground().await.unwrap();
    assert_eq!(row.name, "Playground");
    assert_eq!(row.status, "connected");
    assert_eq!(row.username.as_deref(), Some("admin@playground.syncstudio"));
    assert_eq!(
        row.api_version.as_deref(),
        Some("61.0"),
        "Settings' default version"
    );
    let status = studio.playground_status().await;
    assert_eq!(
        status.url.as_deref(),
        Some(&*format!("http://127.0.0.1:{port}"))
    );
    let accounts = count(&studio, "Playground", "SELECT COUNT() FROM Account").await;
    assert!(accounts > 0, "demo data is there");

    // Stopped, the connection fails with a reason; started again, the same
    // records are back and one click reconnects the same connection.
    studio.stop_playground().await.unwrap();
    assert!(!studio.playground_status().await.running);
    assert!(studio.test_connection("Playground").await.is_err());
    let again = studio.connect_playground().await.unwrap();
    assert_eq!(again.id, row.id);
    let after = count(&studio, "Playground", "SELECT COUNT() FROM Account").await;
    assert_eq!(after, accounts);

    // A taken port is a clear error.
    studio.stop_playground().await.unwrap();
    let _busy = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let err = studio.start_playground().await.unwrap_err();
    assert_eq!(err.kind(), studio::ErrorKind::Playground);
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    assert!(err.problem().detail.contains("Settings"));
    drop(_busy);
    studio.remove_connection("Playground").await.unwrap();
    let _ = std::fs::remove_dir_all(&home);
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Export CSV… and the SOQL console behave as the CLI does: a failed or
/// cancelled export leaves the folder as it was, SOQL too long for a URL
/// exports through Bulk API 2.0, and the console says why it cannot show it.
#[tokio::test]
async fn export_and_console_never_clobber_and_explain_long_queries() {
    let (org, studio, home) = connected("export-safety").await;
    let dir = home.join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("accounts.csv");
    std::fs::write(&target, "old").unwrap();
    std::fs::write(dir.join("accounts.partial"), "mine").unwrap();
    let csv = studio::export::Format::Csv;
    let err = studio
        .export_query_to_file("Org", "SELECT Nope FROM Account", false, csv, &target)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), studio::ErrorKind::Api);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
    assert_eq!(files_in(&dir), ["accounts.csv", "accounts.partial"]);

    // A new query replacing a slow export drops it: nothing is left behind.
    org.add_fault(sf_emulator::FaultRule {
        route: "query".into(),
        method: None,
        kind: sf_emulator::FaultKind::Latency,
        probability: 1.0,
        times: Some(1),
        retry_after: None,
        latency_ms: Some(5_000),
    });
    let slow = studio.export_query_to_file("Org", "SELECT Id FROM Account", false, csv, &target);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), slow)
            .await
            .is_err()
    );
    assert_eq!(files_in(&dir), ["accounts.csv", "accounts.partial"]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");

    // An IN list too long for a REST URL.
    let ids: Vec<String> = (0..2_500).map(|n| format!("'001Dn{n:010}'")).collect();
    let long = format!(
        "SELECT Id, Name FROM Account WHERE Name != null OR Id IN ({})",
        ids.join(",")
    );
    let n = studio
        .export_query_to_file("Org", &long, false, csv, &target)
        .await
        .unwrap();
    assert_eq!(n, 300);
    let text = std::fs::read_to_string(&target).unwrap();
    assert_eq!(text.lines().count(), 301);
    let err = studio
        .query_grid("Org", &long, false, |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), studio::ErrorKind::QueryTooLong);
    assert!(err.problem().detail.contains("Export it as CSV"), "{err}");
    assert!(err.problem().message.contains("characters long"), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn a_new_console_query_stops_the_one_before() {
    let (org, studio, home) = connected("desktop-supersede").await;
    let contacts: Vec<serde_json::Map<String, serde_json::Value>> = (0..20_000)
        .map(|i| {
            let mut m = serde_json::Map::new();
            m.insert("LastName".into(), format!("Page {i:05}").into());
            m
        })
        .collect();
    let mut seed = sf_emulator::Seed::default();
    seed.records.insert("Contact".into(), contacts);
    org.seed(&seed).unwrap();
    // Each page takes 200 ms: the first query is still paging when the
    // second one starts.
    org.add_fault(sf_emulator::FaultRule {
        route: "query".into(),
        method: None,
        kind: sf_emulator::FaultKind::Latency,
        probability: 1.0,
        times: None,
        retry_after: None,
        latency_ms: Some(200),
    });
    let studio = std::sync::Arc::new(studio);
    let first_pages = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let first = {
        let (studio, pages) = (studio.clone(), first_pages.clone());
        tokio::spawn(async move {
            studio
                .query_grid(
                    "Org",
                    "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Page %'",
                    false,
                    |_| {
                        pages.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    },
                )
                .await
        })
    };
    while first_pages.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = studio
        .query_grid("Org", "SELECT Id FROM Account LIMIT 3", false, |_| {})
        .await
        .unwrap();
    assert_eq!(second.rows, 3);
    let stopped = first.await.unwrap();
    assert!(matches!(stopped, Err(Error::Superseded)), "{stopped:?}");
    let fetched = first_pages.load(std::sync::atomic::Ordering::SeqCst);
    // 20,000 rows are 10 pages of 2,000.
    assert!(fetched < 10, "the replaced query fetched {fetched} pages");
    drop(org);
    let _ = std::fs::remove_dir_all(home);
}

/// A host that keeps what each progress event said of the total.
struct Totals {
    shows: bool,
    seen: std::sync::Mutex<Vec<Option<u64>>>,
}

impl studio::runs::RunHost for Totals {
    fn progress(&self, p: &studio::runs::RunProgress) {
        self.seen.lock().unwrap().push(p.rows_total);
    }

    fn shows_total(&self) -> bool {
        self.shows
    }
}

#[tokio::test]
async fn an_import_counts_its_rows_only_for_a_host_that_shows_the_total() {
    let (_org, studio, home) = connected("import-totals").await;
    let file = home.join("contacts.csv");
    let mut csv = String::from("LastName,Email\n");
    for i in 0..30 {
        csv.push_str(&format!("Total{i},total{i}@example.com\n"));
    }
    std::fs::write(&file, csv).unwrap();
    for shows in [true, false] {
        let mut spec = studio::import::ImportSpec::new(
            "Org",
            "Contact",
            studio::import::plan::Operation::Insert,
            file.clone(),
        );
        spec.api = studio::import::Api::Rest;
        spec.batch_size = 5;
        let host = Totals {
            shows,
            seen: Default::default(),
        };
        let summary = studio
            .import(&spec, &host, &Default::default(), |_| {})
            .await
            .unwrap();
        assert_eq!(summary.succeeded, 30);
        let seen = host.seen.into_inner().unwrap();
        let (last, during) = seen.split_last().unwrap();
        assert_eq!(*last, Some(30), "the end always says how many");
        assert!(during.len() >= 5, "a checkpoint a batch: {seen:?}");
        if shows {
            assert!(
                during.contains(&Some(30)),
                "counted beside the run: {seen:?}"
            );
        } else {
            assert!(
                during.iter().all(Option::is_none),
                "never counted: {seen:?}"
            );
        }
    }
}
