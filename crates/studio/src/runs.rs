//! Every long job is a run: a row in SQLite with a typed status and its
//! counts, a folder for its result files, progress for whoever watches
//! (`RunHost`), and a cancellation the job checks between batches. A run
//! still `running` when no process holds its lock (a crash, `kill -9`) is
//! `interrupted` the next time the data folder is opened.

use crate::Studio;
use crate::error::{Error, Result};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum RunStatus {
    Queued,
    Running,
    Completed,
    CompletedWithErrors,
    Failed,
    Cancelled,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::CompletedWithErrors => "completed_with_errors",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> RunStatus {
        match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "completed" => RunStatus::Completed,
            "completed_with_errors" => RunStatus::CompletedWithErrors,
            "cancelled" => RunStatus::Cancelled,
            "interrupted" => RunStatus::Interrupted,
            _ => RunStatus::Failed,
        }
    }
}

/// A run's counts and files: what `syncstudio import --format json` prints
/// last and `runs show --format json` prints (the CLI contract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunSummary {
    pub run: String,
    pub status: RunStatus,
    pub operation: String,
    pub object: String,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub rows: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub succeeded: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub failed: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub unknown: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub created: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub updated: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub unchanged: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub deleted: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub api_calls: u64,
    pub success_file: String,
    pub error_file: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unknown_file: Option<String>,
    /// A dry run's forecast: the API calls the real import will use.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub forecast_api_calls: Option<u64>,
    /// A dry run's reading of the org's allowance: calls left today.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub api_calls_left: Option<u64>,
}

/// Where a run stands, for a progress bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunProgress {
    pub run: String,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub rows_done: u64,
    /// None until the file has been counted.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub rows_total: Option<u64>,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub api_calls: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub elapsed_ms: u64,
}

/// What a front end gives a run: somewhere to show progress. The CLI draws
/// a bar on a terminal, the desktop app sends events, tests record.
pub trait RunHost: Send + Sync {
    fn progress(&self, progress: &RunProgress);
}

/// A host that shows nothing.
pub struct QuietHost;

impl RunHost for QuietHost {
    fn progress(&self, _: &RunProgress) {}
}

/// Asks a run to stop after the requests it has in flight.
pub type Cancel = tokio_util::sync::CancellationToken;

pub(crate) fn migration() -> &'static str {
    "CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        connection TEXT NOT NULL,
        object TEXT NOT NULL,
        operation TEXT NOT NULL,
        status TEXT NOT NULL,
        input_file TEXT,
        folder TEXT NOT NULL,
        success_file TEXT NOT NULL,
        error_file TEXT NOT NULL,
        unknown_file TEXT,
        rows INTEGER NOT NULL DEFAULT 0,
        succeeded INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        unknown INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        api_calls INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        forecast_api_calls INTEGER,
        api_calls_left INTEGER,
        spec TEXT,
        retry_of TEXT
    );
    CREATE INDEX runs_started ON runs (started_at);"
}

/// A run in progress: its row and the lock that says a process holds it.
pub(crate) struct RunHandle {
    pub summary: RunSummary,
    /// Held while this process runs it.
    _lock: std::fs::File,
}

const LOCK_FILE: &str = "run.lock";

fn lock(folder: &Path) -> Result<std::fs::File> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(folder.join(LOCK_FILE))
        .map_err(|e| Error::Output(format!("{}: {e}", folder.display())))?;
    f.try_lock()
        .map_err(|e| Error::Output(format!("{}: {e}", folder.display())))?;
    Ok(f)
}

fn new_run_id() -> String {
    // Sorts by start time; the random tail keeps two runs in one second apart.
    format!(
        "{}-{:04x}",
        chrono::Utc::now().format("%Y%m%d-%H%M%S"),
        rand::random::<u16>()
    )
}

fn summary_of(r: &rusqlite::Row) -> rusqlite::Result<RunSummary> {
    Ok(RunSummary {
        run: r.get("id")?,
        status: RunStatus::parse(&r.get::<_, String>("status")?),
        operation: r.get("operation")?,
        object: r.get("object")?,
        rows: r.get("rows")?,
        succeeded: r.get("succeeded")?,
        failed: r.get("failed")?,
        unknown: r.get("unknown")?,
        created: r.get("created")?,
        updated: r.get("updated")?,
        unchanged: r.get("unchanged")?,
        deleted: r.get("deleted")?,
        api_calls: r.get("api_calls")?,
        success_file: r.get("success_file")?,
        error_file: r.get("error_file")?,
        unknown_file: r.get("unknown_file")?,
        forecast_api_calls: r.get("forecast_api_calls")?,
        api_calls_left: r.get("api_calls_left")?,
    })
}

pub(crate) struct NewRun<'a> {
    pub kind: &'a str,
    pub connection: &'a str,
    pub object: &'a str,
    pub operation: &'a str,
    pub input_file: Option<&'a Path>,
    /// `--results DIR`, else the run's own folder.
    pub results: Option<&'a Path>,
    /// What started it (an import's options, as JSON), for a retry.
    pub spec: Option<String>,
    pub retry_of: Option<&'a str>,
}

impl Studio {
    /// The folder of runs' result files.
    pub fn runs_folder(&self) -> PathBuf {
        self.home().join("runs")
    }

    pub(crate) fn start_run(&self, new: NewRun) -> Result<RunHandle> {
        let id = new_run_id();
        let folder = self.runs_folder().join(&id);
        std::fs::create_dir_all(&folder)
            .map_err(|e| Error::Output(format!("{}: {e}", folder.display())))?;
        let results = new
            .results
            .map(Path::to_path_buf)
            .unwrap_or_else(|| folder.clone());
        std::fs::create_dir_all(&results)
            .map_err(|e| Error::Output(format!("{}: {e}", results.display())))?;
        let lock = lock(&folder)?;
        let file = |name: &str| results.join(name).display().to_string();
        let summary = RunSummary {
            run: id.clone(),
            status: RunStatus::Running,
            operation: new.operation.into(),
            object: new.object.into(),
            rows: 0,
            succeeded: 0,
            failed: 0,
            unknown: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            deleted: 0,
            api_calls: 0,
            success_file: file("success.csv"),
            error_file: file("error.csv"),
            unknown_file: None,
            forecast_api_calls: None,
            api_calls_left: None,
        };
        self.store.db().execute(
            "INSERT INTO runs (id, kind, connection, object, operation, status, input_file, folder,
                success_file, error_file, started_at, spec, retry_of)
             VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                new.kind,
                new.connection,
                new.object,
                new.operation,
                new.input_file.map(|p| p.display().to_string()),
                folder.display().to_string(),
                summary.success_file,
                summary.error_file,
                chrono::Utc::now().to_rfc3339(),
                new.spec,
                new.retry_of,
            ],
        )?;
        tracing::info!(run = %id, kind = new.kind, object = new.object, operation = new.operation, "run started");
        Ok(RunHandle {
            summary,
            _lock: lock,
        })
    }

    /// Takes up a stopped run again (to resume it): its lock, and the
    /// status `running`.
    pub(crate) fn reopen_run(&self, id: &str) -> Result<RunHandle> {
        let mut summary = self.run(id)?;
        let folder = self.runs_folder().join(&summary.run);
        let lock = lock(&folder).map_err(|_| {
            Error::Invalid(format!(
                "run {} is being run by another process",
                summary.run
            ))
        })?;
        summary.status = RunStatus::Running;
        self.save_run(&summary, None, false)?;
        Ok(RunHandle {
            summary,
            _lock: lock,
        })
    }

    /// Saves a run's counts (a checkpoint), and its end when `finished`.
    pub(crate) fn save_run(
        &self,
        s: &RunSummary,
        error: Option<&str>,
        finished: bool,
    ) -> Result<()> {
        self.store.db().execute(
            "UPDATE runs SET status = ?2, rows = ?3, succeeded = ?4, failed = ?5, unknown = ?6,
                created = ?7, updated = ?8, unchanged = ?9, deleted = ?10, api_calls = ?11,
                unknown_file = ?12, error = ?13,
                finished_at = CASE WHEN ?14 THEN ?15 ELSE finished_at END,
                forecast_api_calls = ?16, api_calls_left = ?17
             WHERE id = ?1",
            params![
                s.run,
                s.status.as_str(),
                s.rows,
                s.succeeded,
                s.failed,
                s.unknown,
                s.created,
                s.updated,
                s.unchanged,
                s.deleted,
                s.api_calls,
                s.unknown_file,
                error,
                finished,
                chrono::Utc::now().to_rfc3339(),
                s.forecast_api_calls,
                s.api_calls_left,
            ],
        )?;
        Ok(())
    }

    pub fn runs(&self) -> Result<Vec<RunSummary>> {
        let db = self.store.db();
        let mut st = db.prepare("SELECT * FROM runs ORDER BY started_at DESC, id DESC")?;
        let rows = st
            .query_map([], summary_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn run(&self, id: &str) -> Result<RunSummary> {
        self.store
            .db()
            .query_row("SELECT * FROM runs WHERE id = ?1", [id.trim()], summary_of)
            .optional()?
            .ok_or_else(|| Error::Invalid(format!("no run {:?}", id.trim())))
    }

    /// The options a run was started with (JSON), when it keeps them.
    pub(crate) fn run_spec(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .store
            .db()
            .query_row("SELECT spec FROM runs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// Why a run ended as it did, when it failed.
    pub fn run_error(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .store
            .db()
            .query_row("SELECT error FROM runs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// Marks `running` runs whose process is gone (no one holds their lock)
    /// as `interrupted`. Answers how many.
    pub fn mark_interrupted_runs(&self) -> Result<usize> {
        let running: Vec<(String, String)> = {
            let db = self.store.db();
            let mut st =
                db.prepare("SELECT id, folder FROM runs WHERE status IN ('running', 'queued')")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        let mut n = 0;
        for (id, folder) in running {
            let folder = Path::new(&folder);
            if !folder.exists() || lock(folder).is_ok() {
                self.store.db().execute(
                    "UPDATE runs SET status = 'interrupted' WHERE id = ?1 AND status IN ('running', 'queued')",
                    [&id],
                )?;
                tracing::warn!(run = %id, "run found interrupted");
                n += 1;
            }
        }
        Ok(n)
    }
}
