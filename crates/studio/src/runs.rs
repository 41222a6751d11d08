//! Every long job is a run: a row in SQLite with a typed status and its
//! counts, a folder for its result files, progress for whoever watches
//! (`RunHost`), and a cancellation the job checks between batches. A run
//! still `running` when no process holds its lock (a crash, `kill -9`) is
//! `interrupted` the next time the data folder is opened.

use crate::Studio;
use crate::error::{Error, Result};
use crate::store::RunText;
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

    pub(crate) fn parse(s: &str) -> RunStatus {
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

    /// Whether the host shows how many rows a run has in all: an import
    /// reads its whole file once more to count them.
    fn shows_total(&self) -> bool {
        true
    }
}

/// A host that shows nothing.
pub struct QuietHost;

impl RunHost for QuietHost {
    fn progress(&self, _: &RunProgress) {}

    fn shows_total(&self) -> bool {
        false
    }
}

/// Asks a run to stop after the requests it has in flight.
pub type Cancel = tokio_util::sync::CancellationToken;

/// A run as the Runs screen lists it: its summary and what started it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunRecord {
    pub summary: RunSummary,
    /// `import`, `dry-run`, `export` or `undo`.
    pub kind: String,
    pub connection: String,
    pub input_file: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Why it failed or stopped, when it did.
    pub error: Option<String>,
    /// The run whose failed rows (or records, for an undo) this one took up.
    pub retry_of: Option<String>,
    /// The flow whose poll this run is.
    pub flow: Option<String>,
    /// An import that stopped midway (interrupted, cancelled or failed)
    /// and can be finished with Resume.
    pub resumable: bool,
}

/// Rows per second at a moment of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RateSample {
    /// Seconds since the run started.
    pub seconds: f64,
    pub rows_per_second: f64,
}

/// The most points a chart gets; longer runs are averaged into as many.
const CHART_POINTS: usize = 120;

/// Rows per second between consecutive samples, averaged into at most
/// `CHART_POINTS` spans of equal time.
pub fn rates(samples: &[(i64, u64)]) -> Vec<RateSample> {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return vec![];
    };
    let span = (last.0 - first.0).max(1) as f64;
    let bucket = (span / CHART_POINTS as f64).max(1.0);
    let mut out: Vec<RateSample> = vec![];
    let mut from = *first;
    let mut started = false;
    for &(at, rows) in &samples[1..] {
        let elapsed = (at - from.0) as f64;
        if elapsed < bucket && (at, rows) != *last {
            continue;
        }
        let done = rows.saturating_sub(from.1) as f64;
        let rate = if elapsed > 0.0 {
            done * 1000.0 / elapsed
        } else {
            0.0
        };
        if !started {
            // The line starts where the run did, at the first span's speed.
            out.push(RateSample {
                seconds: 0.0,
                rows_per_second: rate,
            });
            started = true;
        }
        out.push(RateSample {
            seconds: (at - first.0) as f64 / 1000.0,
            rows_per_second: rate,
        });
        from = (at, rows);
    }
    out
}

/// Which of a run's result files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ResultFile {
    Success,
    Error,
    Unknown,
    /// A flow run's every record through every node (`outcomes.csv`).
    Outcomes,
}

/// The first rows of a result file, for the wizard's rejected rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ResultRows {
    pub path: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// More rows follow in the file than were read.
    pub more: bool,
}

/// The runs this process is running, each with its Cancel: a front end
/// asks by run id. Entries leave when their `Tracked` is dropped.
#[derive(Default)]
pub(crate) struct ActiveRuns(std::sync::Mutex<std::collections::HashMap<String, Cancel>>);

/// A run about to start, with its Cancel; it registers under its id once
/// it has one and unregisters when dropped (however the job ends).
pub struct Tracked<'a> {
    studio: &'a Studio,
    pub cancel: Cancel,
    id: std::sync::Mutex<Option<String>>,
}

impl Tracked<'_> {
    /// Call from a job's `on_start`.
    pub fn started(&self, run: &str) {
        self.studio
            .active
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(run.to_string(), self.cancel.clone());
        *self.id.lock().unwrap_or_else(|e| e.into_inner()) = Some(run.to_string());
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.lock().unwrap_or_else(|e| e.into_inner()).take() {
            self.studio
                .active
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    }
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
    /// The flow whose poll this run is.
    pub flow: Option<&'a str>,
}

impl Studio {
    /// The folder of runs' result files.
    pub fn runs_folder(&self) -> PathBuf {
        self.home().join("runs")
    }

    pub(crate) fn start_run(&self, new: NewRun<'_>) -> Result<RunHandle> {
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
        self.store.insert_run(&crate::store::NewRunRow {
            id: &id,
            kind: new.kind,
            connection: new.connection,
            object: new.object,
            operation: new.operation,
            input_file: new.input_file.map(|p| p.display().to_string()),
            folder: folder.display().to_string(),
            success_file: &summary.success_file,
            error_file: &summary.error_file,
            spec: new.spec.as_deref(),
            retry_of: new.retry_of,
            flow: new.flow,
        })?;
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
        self.store.update_run(s, error, finished)?;
        if finished {
            self.tell_end(&s.run);
        }
        Ok(())
    }

    /// A job's Cancel, findable by run id (`cancel_run`) while it runs.
    pub fn track(&self) -> Tracked<'_> {
        Tracked {
            studio: self,
            cancel: Cancel::new(),
            id: std::sync::Mutex::new(None),
        }
    }

    /// Asks a run of this process to stop after its in-flight requests.
    /// Answers false when no such run is running here.
    pub fn cancel_run(&self, run: &str) -> bool {
        let active = self.active.0.lock().unwrap_or_else(|e| e.into_inner());
        match active.get(run.trim()) {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }

    /// Every run with what started it, newest first.
    pub fn run_records(&self) -> Result<Vec<RunRecord>> {
        self.store.run_records()
    }

    /// One run with what started it.
    pub fn run_record(&self, id: &str) -> Result<Option<RunRecord>> {
        self.store.run_record(id)
    }

    /// Rows per second over a run, from its checkpoints.
    pub fn run_rates(&self, run: &str) -> Result<Vec<RateSample>> {
        let Some(started) = self.store.run_started_at(run)? else {
            return Err(Error::Invalid(format!("no run {run:?}")));
        };
        let start_ms = chrono::DateTime::parse_from_rfc3339(&started)
            .map(|t| t.timestamp_millis())
            .unwrap_or(0);
        let samples: Vec<(i64, u64)> = std::iter::once((start_ms, 0))
            .chain(self.store.run_samples(run)?)
            .collect();
        Ok(rates(&samples))
    }

    /// Where one of a run's result files is.
    pub fn result_path(&self, run: &str, which: ResultFile) -> Result<PathBuf> {
        let s = self.run(run)?;
        match which {
            ResultFile::Success => Some(s.success_file),
            ResultFile::Error => Some(s.error_file),
            ResultFile::Unknown => s.unknown_file,
            ResultFile::Outcomes => Some(
                self.runs_folder()
                    .join(&s.run)
                    .join("outcomes.csv")
                    .display()
                    .to_string(),
            ),
        }
        .filter(|p| !p.is_empty() && Path::new(p).exists())
        .map(PathBuf::from)
        .ok_or_else(|| Error::Invalid(format!("run {} has no such result file", s.run)))
    }

    /// The first `limit` rows of one of a run's result files.
    pub fn result_rows(&self, run: &str, which: ResultFile, limit: usize) -> Result<ResultRows> {
        let path = self.result_path(run, which)?.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(&path)
            .map_err(|e| Error::Output(format!("{path}: {e}")))?;
        let header = reader
            .headers()
            .map_err(|e| Error::Output(format!("{path}: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = vec![];
        let mut more = false;
        for r in reader.records() {
            let r = r.map_err(|e| Error::Output(format!("{path}: {e}")))?;
            if rows.len() == limit {
                more = true;
                break;
            }
            rows.push(r.iter().map(str::to_string).collect());
        }
        Ok(ResultRows {
            path,
            header,
            rows,
            more,
        })
    }

    /// Every run's summary, newest first (`runs list`).
    pub fn runs(&self) -> Result<Vec<RunSummary>> {
        Ok(self.run_records()?.into_iter().map(|r| r.summary).collect())
    }

    /// The runs of one flow, newest first.
    pub fn flow_runs(&self, flow: &str) -> Result<Vec<RunSummary>> {
        Ok(self
            .run_records()?
            .into_iter()
            .filter(|r| r.flow.as_deref() == Some(flow))
            .map(|r| r.summary)
            .collect())
    }

    pub fn run(&self, id: &str) -> Result<RunSummary> {
        self.store
            .run_summary(id.trim())?
            .ok_or_else(|| Error::Invalid(format!("no run {:?}", id.trim())))
    }

    /// The options a run was started with (JSON), when it keeps them.
    pub(crate) fn run_spec(&self, id: &str) -> Result<Option<String>> {
        self.store.run_text(id, RunText::Spec)
    }

    /// The flow a run is a poll of, if it is one.
    pub(crate) fn run_flow(&self, id: &str) -> Result<Option<String>> {
        self.store.run_text(id, RunText::Flow)
    }

    /// Why a run ended as it did, when it failed.
    pub fn run_error(&self, id: &str) -> Result<Option<String>> {
        self.store.run_text(id, RunText::Error)
    }

    /// Marks `running` runs whose process is gone (no one holds their lock)
    /// as `interrupted`. Answers how many.
    pub fn mark_interrupted_runs(&self) -> Result<usize> {
        let running = self.store.unfinished_runs()?;
        let mut n = 0;
        for (id, folder) in running {
            let folder = Path::new(&folder);
            if !folder.exists() || lock(folder).is_ok() {
                self.store.mark_run_interrupted(&id)?;
                tracing::warn!(run = %id, "run found interrupted");
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::rates;

    #[test]
    fn rates_are_rows_per_second_between_checkpoints() {
        // 0 rows at 0 ms, 1,000 at 1 s, 1,000 more at 3 s.
        let r = rates(&[(0, 0), (1_000, 1_000), (3_000, 2_000)]);
        let pairs: Vec<(f64, f64)> = r.iter().map(|s| (s.seconds, s.rows_per_second)).collect();
        assert_eq!(pairs, vec![(0.0, 1_000.0), (1.0, 1_000.0), (3.0, 500.0)]);
        assert!(rates(&[]).is_empty());
        assert!(rates(&[(5, 0)]).is_empty());
    }

    #[test]
    fn long_runs_are_averaged_into_a_chart_width() {
        // A checkpoint every 10 ms for 100 s: at most 120 spans (+ the start).
        let samples: Vec<(i64, u64)> = (0..10_000).map(|i| (i * 10, i as u64 * 20)).collect();
        let r = rates(&samples);
        assert!(r.len() <= 121, "{}", r.len());
        assert!(r.iter().all(|s| (s.rows_per_second - 2_000.0).abs() < 1e-6));
        assert_eq!(r.last().unwrap().seconds, 99.99);
    }
}
