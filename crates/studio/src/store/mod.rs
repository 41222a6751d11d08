//! SQLite in the data folder, schema by migrations, one module per table
//! (`connections`, `settings`, `flows`, `runs`). It holds only non-secret fields: tokens and consumer
//! secrets live in the keychain. The CLI and the desktop app share one
//! database; one written by a newer version is refused, never migrated
//! down or half-read.

mod connections;
mod flows;
mod runs;
mod settings;

pub use connections::ConnectionRow;
pub use flows::{FlowDone, FlowRow};
pub(crate) use runs::{NewRunRow, RunText};

use crate::error::{Error, Result};
use rusqlite::Connection as Db;
use rusqlite_migration::{M, Migrations};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// How many migrations this version has: the schema it writes.
const MIGRATIONS: usize = 9;

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE connections (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            login_url TEXT NOT NULL,
            client_id TEXT NOT NULL,
            callback_port INTEGER NOT NULL,
            api_version TEXT,
            daily_cap INTEGER,
            instance_url TEXT,
            username TEXT,
            org_id TEXT,
            user_id TEXT,
            status TEXT NOT NULL,
            status_message TEXT,
            api_used INTEGER,
            api_limit INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );",
        ),
        M::up("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"),
        // When api_used was last reported by Salesforce: a daily cap holds
        // across runs only if each run starts from what the last one saw.
        M::up("ALTER TABLE connections ADD COLUMN api_usage_at TEXT;"),
        M::up(runs::MIGRATION),
        M::up(runs::SAMPLES_MIGRATION),
        M::up(flows::MIGRATION),
        M::up(flows::STATE_MIGRATION),
        M::up(flows::POLL_MIGRATION),
        M::up(flows::DONE_MIGRATION),
    ])
}

pub struct Store {
    // rusqlite connections are not Sync; the desktop app shares one Store.
    db: Mutex<Db>,
    path: PathBuf,
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        let fail = |m: String| Error::Store {
            path: path.display().to_string(),
            message: m,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let mut db = Db::open(path).map_err(|e| fail(e.to_string()))?;
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| fail(e.to_string()))?;
        // In WAL mode, NORMAL keeps every commit through a killed process
        // (only a power cut may lose the last few) without an fsync per
        // commit: a flow notes each record done, an import each batch.
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| fail(e.to_string()))?;
        db.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| fail(e.to_string()))?;
        let written: usize = db
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| fail(e.to_string()))?;
        if written > MIGRATIONS {
            return Err(fail(format!(
                "it was written by a newer Sync Studio (schema {written}; this version knows up to {MIGRATIONS}). Update Sync Studio, or use another data folder (SYNCSTUDIO_HOME)"
            )));
        }
        migrations()
            .to_latest(&mut db)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Store {
            db: Mutex::new(db),
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Db> {
        // A panic while holding the lock leaves SQLite consistent.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }

    #[test]
    fn the_schema_count_is_the_migration_count() {
        let mut db = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_latest(&mut db).unwrap();
        let v: usize = db
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, super::MIGRATIONS, "set MIGRATIONS to the new count");
    }

    /// What a user had at schema `version`, written with that version's
    /// columns: a connection, settings, an import run with its chart, a
    /// flow with its state and lease.
    fn fill(db: &rusqlite::Connection, version: usize) {
        let at = "2026-06-01T10:00:00+00:00";
        let run = |sql: &str| db.execute_batch(sql).unwrap();
        run(&format!(
            "INSERT INTO connections (id, name, login_url, client_id, callback_port, api_version,
                daily_cap, instance_url, username, org_id, user_id, status, status_message,
                api_used, api_limit, created_at, updated_at)
             VALUES ('c1', 'Production', 'https://login.salesforce.com', '3MVG9abc', 1717, '62.0',
                5000, 'https://acme.my.salesforce.com', 'ops@acme.com', '00D000000000001',
                '005000000000001', 'connected', NULL, 120, 15000, '{at}', '{at}');"
        ));
        if version >= 2 {
            run(
                "INSERT INTO settings (key, value) VALUES ('playground_port', '7979'), ('default_api_version', '61.0');",
            );
        }
        if version >= 3 {
            run(&format!("UPDATE connections SET api_usage_at = '{at}';"));
        }
        if version >= 4 {
            run(&format!(
                "INSERT INTO runs (id, kind, connection, object, operation, status, input_file, folder,
                    success_file, error_file, rows, succeeded, failed, created, api_calls, error,
                    started_at, finished_at, spec)
                 VALUES ('run1', 'import', 'Production', 'Contact', 'upsert', 'completed_with_errors',
                    '/home/ops/leads.csv', '/data/runs/run1', '/data/runs/run1/success.csv',
                    '/data/runs/run1/error.csv', 1000, 990, 10, 990, 7, NULL, '{at}',
                    '2026-06-01T10:00:09+00:00', '{{}}');"
            ));
        }
        if version >= 5 {
            run(
                "INSERT INTO run_samples (run, at_ms, rows) VALUES ('run1', 1780308000000, 0), ('run1', 1780308009000, 1000);",
            );
        }
        if version >= 6 {
            let flow = serde_json::json!({
                "version": 1, "name": "Contacts to the ERP",
                "nodes": [
                    {"id": "t", "type": "salesforce.trigger", "params": {
                        "connection": "Production", "object": "Contact", "on": "created_or_updated",
                        "every_seconds": 60, "fields": ["Id", "Email"], "start": "now"}},
                    {"id": "post", "type": "http.request", "params": {
                        "method": "POST", "url": "https://erp.example.com/contacts", "body": "{{ record.Id }}"}}
                ],
                "edges": [{"from": "t", "to": "post"}]
            });
            db.execute(
                "INSERT INTO flows (name, definition, enabled, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)",
                rusqlite::params!["Contacts to the ERP", flow.to_string(), at],
            )
            .unwrap();
        }
        if version >= 7 {
            run(&format!(
                "INSERT INTO flow_state (flow, node, state, updated_at)
                    VALUES ('Contacts to the ERP', 't', '{{\"since\":\"2026-06-01T09:59:00Z\"}}', '{at}');
                 UPDATE runs SET flow = NULL;
                 INSERT INTO flow_leases (flow, holder, expires_ms) VALUES ('Contacts to the ERP', 'app on ws1 (pid 1)', 0);"
            ));
        }
        if version >= 8 {
            run("UPDATE flow_leases SET polled_ms = 1780308000000, next_ms = 1780308060000;");
        }
    }

    /// An upgrade from every earlier schema keeps every connection, setting,
    /// run and flow the user had.
    #[test]
    fn every_earlier_schema_upgrades_without_losing_anything() {
        for version in 1..super::MIGRATIONS {
            let home = tempfile::tempdir().unwrap();
            {
                let mut db = rusqlite::Connection::open(home.path().join("studio.db")).unwrap();
                super::migrations().to_version(&mut db, version).unwrap();
                fill(&db, version);
            }
            let studio = crate::Studio::open(home.path())
                .unwrap_or_else(|e| panic!("schema {version}: {e}"));
            let at = |what: &str| format!("schema {version}: {what}");
            let written: usize = studio
                .store
                .db()
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(
                written,
                super::MIGRATIONS,
                "{}",
                at("migrated to the newest")
            );

            let c = studio
                .store
                .by_name("Production")
                .unwrap_or_else(|e| panic!("{}: {e}", at("the connection")));
            assert_eq!(
                c.instance_url.as_deref(),
                Some("https://acme.my.salesforce.com")
            );
            assert_eq!(c.username.as_deref(), Some("ops@acme.com"));
            assert_eq!(
                (c.api_used, c.api_limit),
                (Some(120), Some(15000)),
                "{}",
                at("usage")
            );
            if version >= 2 {
                let s = studio.settings().unwrap();
                assert_eq!(s.playground_port, 7979, "{}", at("the playground port"));
                assert_eq!(s.default_api_version.as_deref(), Some("61.0"));
            }
            if version >= 4 {
                let runs = studio.run_records().unwrap();
                assert_eq!(runs.len(), 1, "{}", at("the run"));
                let r = &runs[0];
                assert_eq!(
                    r.summary.status,
                    crate::runs::RunStatus::CompletedWithErrors
                );
                assert_eq!(
                    (r.summary.rows, r.summary.succeeded, r.summary.failed),
                    (1000, 990, 10)
                );
                assert_eq!(r.input_file.as_deref(), Some("/home/ops/leads.csv"));
            }
            if version >= 5 {
                assert!(
                    !studio.run_rates("run1").unwrap().is_empty(),
                    "{}",
                    at("the chart")
                );
            }
            if version >= 6 {
                let flows = studio.flows().unwrap();
                assert_eq!(flows.len(), 1, "{}", at("the flow"));
                assert!(flows[0].enabled, "{}", at("still enabled"));
                assert!(
                    studio
                        .export_flow("Contacts to the ERP")
                        .unwrap()
                        .contains("erp.example.com")
                );
            }
            if version >= 7 {
                let state = studio.store.flow_state("Contacts to the ERP", "t").unwrap();
                assert!(
                    state.is_some_and(|s| s.contains("2026-06-01T09:59:00Z")),
                    "{}",
                    at("the trigger's state")
                );
            }
        }
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused_untouched() {
        let dir = std::env::temp_dir().join(format!("studio-newer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("studio.db");
        {
            let store = super::Store::open(&path).unwrap();
            store.set_setting("kept", Some("yes")).unwrap();
            store.db().pragma_update(None, "user_version", 99).unwrap();
        }
        let err = super::Store::open(&path)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("newer Sync Studio") && err.contains("99"),
            "{err}"
        );
        let db = rusqlite::Connection::open(&path).unwrap();
        let v: i64 = db
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 99, "left as it was");
        let kept: String = db
            .query_row("SELECT value FROM settings WHERE key = 'kept'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, "yes");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
