//! Desktop notifications: which ends of a run deserve one, and what it
//! says. A run that failed, or finished with records it could not write,
//! is told to the host the desktop app installs (clicking the notification
//! opens the run); the CLI prints its own summary and installs none.

use crate::Studio;
use crate::runs::{ResultFile, RunRecord, RunStatus};
use serde::Serialize;
use std::sync::Arc;

/// One notification: a title, the reason, and what a click opens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Notice {
    pub title: String,
    pub body: String,
    pub opens: Opens,
}

/// Where a click on a notice takes the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "screen", rename_all = "snake_case")]
pub enum Opens {
    /// The Runs screen, at this run.
    Run { run: String },
    /// The Flows screen, at this flow (its polls fail: no run to show).
    Flow { flow: String },
}

/// What a shell gives the engine to show notices with.
pub trait NoticeHost: Send + Sync {
    fn notice(&self, notice: &Notice);
}

/// A notification body stays readable in a bubble.
const BODY_CHARS: usize = 240;

fn shorten(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= BODY_CHARS {
        return line;
    }
    let cut: String = line.chars().take(BODY_CHARS - 1).collect();
    format!("{cut}…")
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The notice for a run that has just ended, if it deserves one.
/// `first_error` is the reason of its first failed row, when it has any.
pub fn notice_for(record: &RunRecord, first_error: Option<&str>) -> Option<Notice> {
    let s = &record.summary;
    // A dry run's rejected rows are its answer, not a failure; a
    // cancelled run was stopped by the user who is looking at it.
    if record.kind == "dry-run" {
        return None;
    }
    let what = match (record.kind.as_str(), &record.flow) {
        (_, Some(flow)) => format!("Flow {flow}"),
        ("export", _) => "Export".to_string(),
        ("undo", _) => format!("Undo of {} {}", s.object, s.operation),
        _ => format!("Import of {} ({})", s.object, s.operation),
    };
    let (title, reason) = match s.status {
        RunStatus::Failed => (
            format!("{what} failed"),
            record
                .error
                .clone()
                .or(first_error.map(str::to_string))
                .unwrap_or_else(|| "it stopped before its end".to_string()),
        ),
        RunStatus::CompletedWithErrors => {
            let noun = if record.flow.is_some() {
                ("record", "records")
            } else {
                ("row", "rows")
            };
            let failed = plural(s.failed + s.unknown, noun.0, noun.1);
            (
                format!("{what}: {failed} failed"),
                match first_error {
                    Some(e) => format!("First: {e}"),
                    None => format!("{} of {} succeeded", s.succeeded, s.rows),
                },
            )
        }
        _ => return None,
    };
    Some(Notice {
        title,
        body: shorten(&reason),
        opens: Opens::Run { run: s.run.clone() },
    })
}

/// The notice for a flow whose polls started failing (told once, until a
/// poll succeeds again).
pub fn flow_failing(flow: &str, reason: &str) -> Notice {
    Notice {
        title: format!("Flow {flow} cannot poll"),
        body: shorten(reason),
        opens: Opens::Flow {
            flow: flow.to_string(),
        },
    }
}

impl Studio {
    /// From now on, runs that fail are told to `host`.
    pub fn set_notice_host(&self, host: Arc<dyn NoticeHost>) {
        *self.notice_host.lock().unwrap_or_else(|e| e.into_inner()) = Some(host);
    }

    fn notice_host(&self) -> Option<Arc<dyn NoticeHost>> {
        self.notice_host
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn tell(&self, notice: &Notice) {
        if let Some(host) = self.notice_host() {
            host.notice(notice);
        }
    }

    /// Tells the host about a run that just ended, when it deserves it
    /// (nothing is read when no host listens: the CLI).
    pub(crate) fn tell_end(&self, run: &str) {
        let Some(host) = self.notice_host() else {
            return;
        };
        let Ok(Some(record)) = self.run_record(run) else {
            return;
        };
        if !matches!(
            record.summary.status,
            RunStatus::Failed | RunStatus::CompletedWithErrors
        ) {
            return;
        }
        let first_error = self.first_error(run);
        if let Some(notice) = notice_for(&record, first_error.as_deref()) {
            host.notice(&notice);
        }
    }

    /// The reason in a run's first error row (`sf__Error` or `error`).
    fn first_error(&self, run: &str) -> Option<String> {
        let rows = self.result_rows(run, ResultFile::Error, 1).ok()?;
        let column = rows
            .header
            .iter()
            .position(|h| h == "sf__Error" || h == "error")?;
        let row = rows.rows.first()?;
        let line = rows
            .header
            .iter()
            .position(|h| h == "sf__Row")
            .and_then(|i| row.get(i))
            .map(|n| format!("row {n}: "))
            .unwrap_or_default();
        row.get(column).map(|e| format!("{line}{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::RunSummary;

    fn record(kind: &str, status: RunStatus, flow: Option<&str>) -> RunRecord {
        RunRecord {
            summary: RunSummary {
                run: "r1".into(),
                status,
                operation: "upsert".into(),
                object: "Contact".into(),
                rows: 10,
                succeeded: 7,
                failed: 3,
                unknown: 0,
                created: 7,
                updated: 0,
                unchanged: 0,
                deleted: 0,
                api_calls: 2,
                success_file: String::new(),
                error_file: String::new(),
                unknown_file: None,
                forecast_api_calls: None,
                api_calls_left: None,
            },
            kind: kind.into(),
            connection: "c".into(),
            input_file: None,
            started_at: String::new(),
            finished_at: None,
            error: Some("the session expired and could not be renewed".into()),
            retry_of: None,
            flow: flow.map(str::to_string),
            resumable: false,
        }
    }

    #[test]
    fn a_failed_import_says_why_and_opens_its_run() {
        let n = notice_for(&record("import", RunStatus::Failed, None), None).unwrap();
        assert_eq!(n.title, "Import of Contact (upsert) failed");
        assert_eq!(n.body, "the session expired and could not be renewed");
        assert_eq!(n.opens, Opens::Run { run: "r1".into() });
    }

    #[test]
    fn failed_rows_name_the_first_reason() {
        let n = notice_for(
            &record("flow", RunStatus::CompletedWithErrors, Some("Leads to ERP")),
            Some("row 4: REQUIRED_FIELD_MISSING: LastName"),
        )
        .unwrap();
        assert_eq!(n.title, "Flow Leads to ERP: 3 records failed");
        assert_eq!(n.body, "First: row 4: REQUIRED_FIELD_MISSING: LastName");
    }

    #[test]
    fn dry_runs_and_good_or_stopped_runs_say_nothing() {
        for (kind, status) in [
            ("dry-run", RunStatus::CompletedWithErrors),
            ("import", RunStatus::Completed),
            ("import", RunStatus::Cancelled),
            ("import", RunStatus::Interrupted),
        ] {
            assert_eq!(notice_for(&record(kind, status, None), None), None);
        }
    }

    #[test]
    fn a_long_reason_is_cut_to_one_readable_line() {
        let long = "word\n".repeat(200);
        let mut r = record("export", RunStatus::Failed, None);
        r.error = Some(long.clone());
        let n = notice_for(&r, None).unwrap();
        assert_eq!(n.title, "Export failed");
        assert_eq!(n.body.chars().count(), BODY_CHARS);
        assert!(n.body.ends_with('…') && !n.body.contains('\n'));
    }
}
