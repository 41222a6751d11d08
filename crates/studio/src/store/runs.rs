//! The `runs` table (one row a run: what started it, its counts, how it
//! ended) and `run_samples` (the rows settled at each checkpoint, for the
//! Runs screen's rows-per-second chart).

use super::Store;
use crate::error::Result;
use crate::runs::{RunRecord, RunStatus, RunSummary};
use rusqlite::{OptionalExtension, params};

pub(super) const MIGRATION: &str = "CREATE TABLE runs (
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
    CREATE INDEX runs_started ON runs (started_at);";

/// Rows settled over time, one sample a checkpoint.
pub(super) const SAMPLES_MIGRATION: &str = "CREATE TABLE run_samples (
        run TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        rows INTEGER NOT NULL
    );
    CREATE INDEX run_samples_run ON run_samples (run, at_ms);";

/// A run's row when it starts.
pub(crate) struct NewRunRow<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub connection: &'a str,
    pub object: &'a str,
    pub operation: &'a str,
    pub input_file: Option<String>,
    pub folder: String,
    pub success_file: &'a str,
    pub error_file: &'a str,
    pub spec: Option<&'a str>,
    pub retry_of: Option<&'a str>,
    pub flow: Option<&'a str>,
}

/// A run's text columns read one at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RunText {
    Spec,
    Flow,
    Error,
}

impl Store {
    pub(crate) fn insert_run(&self, row: &NewRunRow<'_>) -> Result<()> {
        self.db().execute(
            "INSERT INTO runs (id, kind, connection, object, operation, status, input_file, folder,
                success_file, error_file, started_at, spec, retry_of, flow)
             VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                row.id,
                row.kind,
                row.connection,
                row.object,
                row.operation,
                row.input_file,
                row.folder,
                row.success_file,
                row.error_file,
                chrono::Utc::now().to_rfc3339(),
                row.spec,
                row.retry_of,
                row.flow,
            ],
        )?;
        Ok(())
    }

    /// A run's counts (a checkpoint, with a chart sample), and its end
    /// when `finished`.
    pub(crate) fn update_run(
        &self,
        s: &RunSummary,
        error: Option<&str>,
        finished: bool,
    ) -> Result<()> {
        let db = self.db();
        db.execute(
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
        db.execute(
            "INSERT INTO run_samples (run, at_ms, rows) VALUES (?1, ?2, ?3)",
            params![
                s.run,
                chrono::Utc::now().timestamp_millis(),
                s.succeeded + s.failed + s.unknown
            ],
        )?;
        Ok(())
    }

    /// Every run, newest first.
    pub(crate) fn run_records(&self) -> Result<Vec<RunRecord>> {
        let db = self.db();
        let mut st = db.prepare("SELECT * FROM runs ORDER BY started_at DESC, id DESC")?;
        let rows = st
            .query_map([], record_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub(crate) fn run_record(&self, id: &str) -> Result<Option<RunRecord>> {
        Ok(self
            .db()
            .query_row("SELECT * FROM runs WHERE id = ?1", [id], record_of)
            .optional()?)
    }

    pub(crate) fn run_summary(&self, id: &str) -> Result<Option<RunSummary>> {
        Ok(self
            .db()
            .query_row("SELECT * FROM runs WHERE id = ?1", [id], summary_of)
            .optional()?)
    }

    pub(crate) fn run_text(&self, id: &str, which: RunText) -> Result<Option<String>> {
        let sql = match which {
            RunText::Spec => "SELECT spec FROM runs WHERE id = ?1",
            RunText::Flow => "SELECT flow FROM runs WHERE id = ?1",
            RunText::Error => "SELECT error FROM runs WHERE id = ?1",
        };
        Ok(self
            .db()
            .query_row(sql, [id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// When a run started (RFC 3339), if there is such a run.
    pub(crate) fn run_started_at(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .db()
            .query_row("SELECT started_at FROM runs WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// A run's checkpoints: (epoch ms, rows settled), in order.
    pub(crate) fn run_samples(&self, id: &str) -> Result<Vec<(i64, u64)>> {
        let db = self.db();
        let mut st =
            db.prepare("SELECT at_ms, rows FROM run_samples WHERE run = ?1 ORDER BY at_ms, rowid")?;
        let rows = st
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Runs not ended (`running`, `queued`), with their folders.
    pub(crate) fn unfinished_runs(&self) -> Result<Vec<(String, String)>> {
        let db = self.db();
        let mut st =
            db.prepare("SELECT id, folder FROM runs WHERE status IN ('running', 'queued')")?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub(crate) fn mark_run_interrupted(&self, id: &str) -> Result<()> {
        self.db().execute(
            "UPDATE runs SET status = 'interrupted' WHERE id = ?1 AND status IN ('running', 'queued')",
            [id],
        )?;
        Ok(())
    }
}

fn summary_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunSummary> {
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

/// A `runs` row as a record.
fn record_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let summary = summary_of(r)?;
    let kind: String = r.get("kind")?;
    let resumable = kind == "import"
        && matches!(
            summary.status,
            RunStatus::Interrupted | RunStatus::Cancelled | RunStatus::Failed
        )
        && r.get::<_, Option<String>>("spec")?.is_some();
    Ok(RunRecord {
        summary,
        kind,
        connection: r.get("connection")?,
        input_file: r.get("input_file")?,
        started_at: r.get("started_at")?,
        finished_at: r.get("finished_at")?,
        error: r.get("error")?,
        retry_of: r.get("retry_of")?,
        flow: r.get("flow")?,
        resumable,
    })
}
