//! SQLite in the data folder, schema by migrations, one module per table
//! (`connections`, `settings`, `flows`; the `runs` and `run_samples` tables belong
//! to `crate::runs`). It holds only non-secret fields: tokens and consumer
//! secrets live in the keychain. The CLI and the desktop app share one
//! database; one written by a newer version is refused, never migrated
//! down or half-read.

mod connections;
mod flows;
mod settings;

pub use connections::ConnectionRow;
pub use flows::{FlowDone, FlowRow};

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
        M::up(crate::runs::migration()),
        M::up(crate::runs::samples_migration()),
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
