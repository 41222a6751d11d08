//! Resuming an import after `kill -9`, a crash or a Cancel: the rows in
//! its result files are settled and not read again; the rows that were
//! being sent when it stopped (`in_flight.json`, written before each
//! request) are sent again only when that cannot make a record twice: an
//! update, upsert or delete is sent again, an insert over REST is looked
//! up by its external id (sent again only when the org lacks it) or, with
//! none, reported unknown, and a Bulk job (its id saved before its data)
//! is read back. What an update or upsert replaces is kept before it is
//! sent (`before.jsonl`), so the rows settled on resume can be undone too.

use super::ImportSpec;
use super::lookup::Existing;
use crate::Studio;
use crate::error::{Error, Result};
use crate::runs::{Cancel, RunHandle, RunHost, RunStatus, RunSummary};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::Path;

const IN_FLIGHT: &str = "in_flight.json";
const BEFORE: &str = "before.jsonl";

/// Rows being sent together: a REST request's, or a Bulk job's (its id
/// saved once the job is opened, before any data goes).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "SavedPart")]
pub(crate) struct Part {
    pub lines: HashSet<u64>,
    pub job: Option<String>,
}

/// A part as written: its lines as runs of consecutive lines (`ranges`,
/// first and last), or (as written before) each line.
#[derive(Deserialize)]
struct SavedPart {
    #[serde(default)]
    lines: Vec<u64>,
    #[serde(default)]
    ranges: Vec<(u64, u64)>,
    job: Option<String>,
}

impl From<SavedPart> for Part {
    fn from(saved: SavedPart) -> Part {
        let mut lines: HashSet<u64> = saved.lines.into_iter().collect();
        for (first, last) in saved.ranges {
            lines.extend(first..=last);
        }
        Part {
            lines,
            job: saved.job,
        }
    }
}

/// Lines as runs of consecutive lines: a Bulk job's 7,500 rows are
/// mostly one run, and the file is written three times a job.
fn ranges(lines: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = vec![];
    for &line in lines {
        match out.last_mut() {
            Some((_, last)) if line == *last + 1 => *last = line,
            _ => out.push((line, line)),
        }
    }
    out
}

/// What was being sent when the run stopped: one part, or the Bulk jobs
/// in flight (the next is sent while the org still works on those before).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "Saved")]
pub(crate) struct InFlight {
    pub parts: Vec<Part>,
}

/// `in_flight.json` as written: a list of parts, or (before there were
/// two) a single one.
#[derive(Deserialize)]
#[serde(untagged)]
enum Saved {
    Parts { parts: Vec<Part> },
    One(Part),
}

impl From<Saved> for InFlight {
    fn from(saved: Saved) -> InFlight {
        match saved {
            Saved::Parts { parts } => InFlight { parts },
            Saved::One(part) => InFlight { parts: vec![part] },
        }
    }
}

impl InFlight {
    pub fn contains(&self, line: u64) -> bool {
        self.parts.iter().any(|p| p.lines.contains(&line))
    }

    /// The Bulk job a row was sent in.
    pub fn job_of(&self, line: u64) -> Option<&str> {
        self.parts
            .iter()
            .find(|p| p.lines.contains(&line))
            .and_then(|p| p.job.as_deref())
    }

    /// Whether rows were in flight outside any Bulk job (over REST).
    pub fn outside_jobs(&self) -> bool {
        self.parts
            .iter()
            .any(|p| p.job.is_none() && !p.lines.is_empty())
    }
}

/// Notes the parts being sent, replacing the file whole so a crash never
/// leaves half of it.
pub(crate) fn mark_in_flight(folder: &Path, parts: &[(&[u64], Option<&str>)]) -> Result<()> {
    // Written as `InFlight` reads it, straight from the slices.
    #[derive(Serialize)]
    struct Written<'a> {
        ranges: Vec<(u64, u64)>,
        job: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct State<'a> {
        parts: Vec<Written<'a>>,
    }
    let state = State {
        parts: parts
            .iter()
            .map(|&(lines, job)| Written {
                ranges: ranges(lines),
                job,
            })
            .collect(),
    };
    let tmp = folder.join(format!("{IN_FLIGHT}.tmp"));
    let text = serde_json::to_vec(&state)?;
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, folder.join(IN_FLIGHT)))
        .map_err(|e| Error::Output(format!("{}: {e}", folder.display())))
}

/// One line of `before.jsonl`: a row's record as it was before the run
/// sent the row (none: the row was to make a new record).
#[derive(Serialize, Deserialize)]
struct Kept {
    line: u64,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    record: Option<Map<String, Value>>,
}

/// What the rows of an update or upsert replace, written before they are
/// sent. The undo journal learns it only when a row's answer comes, and an
/// answer read back after a stop comes from an org that already holds the
/// new values: looking the record up then would keep the wrong image.
pub(crate) struct BeforeLog(std::io::BufWriter<std::fs::File>);

impl BeforeLog {
    pub(crate) fn open(folder: &Path) -> Result<BeforeLog> {
        let path = folder.join(BEFORE);
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
        Ok(BeforeLog(std::io::BufWriter::new(f)))
    }

    /// Keeps the images of rows about to be sent, flushed before they go.
    pub(crate) fn keep(&mut self, lines: &[u64], before: &[Existing]) -> Result<()> {
        #[derive(Serialize)]
        struct Written<'a> {
            line: u64,
            id: Option<&'a str>,
            record: Option<&'a Map<String, Value>>,
        }
        for (&line, found) in lines.iter().zip(before) {
            let (id, record) = match found {
                Existing::Found { id, record } => (Some(id.as_str()), Some(record)),
                Existing::None => (None, None),
                // Refused by Salesforce: nothing is written, nothing to undo.
                Existing::Many => continue,
            };
            serde_json::to_writer(&mut self.0, &Written { line, id, record })?;
            self.0.write_all(b"\n")?;
        }
        self.0.flush()?;
        Ok(())
    }
}

/// The images kept for these rows. A row sent more than once (handed back,
/// or sent again on an earlier resume) keeps its first: what the org held
/// before this run touched it. A half-written last line is skipped.
pub(crate) fn kept_before(folder: &Path, lines: &HashSet<u64>) -> HashMap<u64, Existing> {
    let mut kept = HashMap::new();
    let Ok(f) = std::fs::File::open(folder.join(BEFORE)) else {
        return kept;
    };
    for text in std::io::BufReader::new(f).lines().map_while(|l| l.ok()) {
        let Ok(k) = serde_json::from_str::<Kept>(&text) else {
            continue;
        };
        if !lines.contains(&k.line) {
            continue;
        }
        kept.entry(k.line).or_insert(match (k.id, k.record) {
            (Some(id), Some(record)) => Existing::Found { id, record },
            _ => Existing::None,
        });
    }
    kept
}

/// Drops the kept images once the run has nothing left to resume.
pub(crate) fn forget_before(folder: &Path) {
    let _ = std::fs::remove_file(folder.join(BEFORE));
}

pub(crate) struct Resumed {
    pub handle: RunHandle,
    pub settled: HashSet<u64>,
    pub in_flight: InFlight,
    /// What the rows in flight replaced, as kept before they were sent.
    pub before: HashMap<u64, Existing>,
}

/// The `sf__Row` values of a result file, and its rows as records.
fn rows_of(path: &Path) -> Result<(Vec<String>, Vec<csv::StringRecord>)> {
    if !path.exists() {
        return Ok((vec![], vec![]));
    }
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
    let header = r
        .headers()
        .map(|h| h.iter().map(str::to_string).collect())
        .unwrap_or_default();
    let rows = r.records().filter_map(|x| x.ok()).collect();
    Ok((header, rows))
}

/// Cuts a result file back to its last whole row: a process killed while
/// writing can leave half a row, which must be neither taken as settled
/// nor written on.
fn trim_partial_tail(path: &Path) -> Result<()> {
    let Ok(data) = std::fs::read(path) else {
        return Ok(());
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(&data[..]);
    let mut record = csv::ByteRecord::new();
    let mut width = None;
    let mut whole = 0usize;
    while let Ok(true) = r.read_byte_record(&mut record) {
        let end = r.position().byte() as usize;
        let complete = end > 0 && data.get(end - 1) == Some(&b'\n');
        let expected = *width.get_or_insert(record.len());
        if !complete || record.len() != expected {
            break;
        }
        whole = end;
    }
    if whole < data.len() {
        tracing::warn!(file = %path.display(), cut = data.len() - whole, "a half-written row was cut off");
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
        f.set_len(whole as u64)
            .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

fn line_of(header: &[String], row: &csv::StringRecord) -> Option<u64> {
    let at = header.iter().position(|h| h == "sf__Row")?;
    row.get(at)?.parse().ok()
}

impl Studio {
    /// Finishes an interrupted or cancelled import: nothing lost, nothing
    /// sent twice. The same run goes on, with the same result files.
    pub async fn resume_import(
        &self,
        run: &str,
        host: &dyn RunHost,
        cancel: &Cancel,
        on_start: impl FnOnce(&str),
    ) -> Result<RunSummary> {
        let first = self.run(run)?;
        match first.status {
            RunStatus::Interrupted | RunStatus::Cancelled | RunStatus::Failed => {}
            RunStatus::Running | RunStatus::Queued => {
                return Err(Error::Invalid(format!(
                    "run {} is still running in another process; wait for it, or stop it first",
                    first.run
                )));
            }
            _ => {
                return Err(Error::Invalid(format!(
                    "run {} is {}: there is nothing left to resume (retry its failed rows with `runs retry`)",
                    first.run,
                    first.status.as_str()
                )));
            }
        }
        let spec: ImportSpec = self
            .run_spec(&first.run)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .filter(|s: &ImportSpec| !s.dry_run)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "run {} is not an import that can be resumed",
                    first.run
                ))
            })?;
        let mut handle = self.reopen_run(&first.run)?;
        let folder = self.runs_folder().join(&first.run);
        let mut summary = handle.summary.clone();
        let unknown_path = Path::new(&summary.error_file).with_file_name("unknown.csv");
        for file in [
            Path::new(&summary.success_file),
            Path::new(&summary.error_file),
            &unknown_path,
        ] {
            trim_partial_tail(file)?;
        }
        if unknown_path.exists() {
            summary.unknown_file = Some(unknown_path.display().to_string());
        }
        // Rows a stop left "not sent" are sent now: out of the error file.
        let error_file = Path::new(&summary.error_file);
        let (header, errors) = rows_of(error_file)?;
        let err_at = header.iter().position(|h| h == "sf__Error");
        let kept: Vec<&csv::StringRecord> = errors
            .iter()
            .filter(|r| {
                !err_at
                    .and_then(|i| r.get(i))
                    .is_some_and(|e| e.starts_with(super::NOT_SENT))
            })
            .collect();
        if kept.len() != errors.len() {
            let tmp = error_file.with_extension("csv.tmp");
            let mut w = csv::WriterBuilder::new().flexible(true).from_path(&tmp)?;
            w.write_record(&header)?;
            for r in &kept {
                w.write_record(*r)?;
            }
            w.flush()?;
            drop(w);
            std::fs::rename(&tmp, error_file)?;
        }
        // Counted again from the files: they, not the last checkpoint, say
        // what is settled.
        let (ok_header, ok) = rows_of(Path::new(&summary.success_file))?;
        let created_at = ok_header.iter().position(|h| h == "sf__Created");
        let (unknown_header, unknown) = match &summary.unknown_file {
            Some(u) => rows_of(Path::new(u))?,
            None => (vec![], vec![]),
        };
        let mut settled = HashSet::new();
        settled.extend(ok.iter().filter_map(|r| line_of(&ok_header, r)));
        settled.extend(kept.iter().filter_map(|r| line_of(&header, r)));
        settled.extend(unknown.iter().filter_map(|r| line_of(&unknown_header, r)));
        let created = ok
            .iter()
            .filter(|r| created_at.and_then(|i| r.get(i)) == Some("true"))
            .count() as u64;
        summary.rows = (ok.len() + kept.len() + unknown.len()) as u64;
        summary.succeeded = ok.len() as u64;
        summary.failed = kept.len() as u64;
        summary.unknown = unknown.len() as u64;
        match spec.operation {
            super::plan::Operation::Delete | super::plan::Operation::HardDelete => {
                summary.deleted = summary.succeeded;
                summary.created = 0;
                summary.updated = 0;
            }
            _ => {
                summary.created = created;
                summary.unchanged = summary.unchanged.min(summary.succeeded - created);
                summary.updated = summary.succeeded - created - summary.unchanged;
            }
        }
        let in_flight: InFlight = std::fs::read(folder.join(IN_FLIGHT))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let in_flight = InFlight {
            parts: in_flight
                .parts
                .into_iter()
                .map(|p| Part {
                    lines: p.lines.difference(&settled).copied().collect(),
                    job: p.job,
                })
                .collect(),
        };
        let unsettled: usize = in_flight.parts.iter().map(|p| p.lines.len()).sum();
        let in_flight_lines: HashSet<u64> = in_flight
            .parts
            .iter()
            .flat_map(|p| p.lines.iter().copied())
            .collect();
        let before = kept_before(&folder, &in_flight_lines);
        tracing::info!(run = %summary.run, settled = settled.len(), in_flight = unsettled, "resuming an import");
        handle.summary = summary;
        self.import_run(
            &spec,
            host,
            cancel,
            on_start,
            Some(Resumed {
                handle,
                settled,
                in_flight,
                before,
            }),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn in_flight_files_of_one_part_or_several_are_read() {
        let one: super::InFlight = serde_json::from_str(r#"{"lines":[2,3],"job":"750x"}"#).unwrap();
        assert_eq!(one.job_of(3), Some("750x"));
        let two: super::InFlight = serde_json::from_str(
            r#"{"parts":[{"lines":[2],"job":"750a"},{"lines":[4],"job":null}]}"#,
        )
        .unwrap();
        assert_eq!(two.job_of(2), Some("750a"));
        assert!(two.contains(4) && two.job_of(4).is_none() && two.outside_jobs());
    }

    #[test]
    fn in_flight_parts_are_written_as_runs_of_lines_and_read_back_whole() {
        let dir = std::env::temp_dir().join(format!("studio-in-flight-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let job: Vec<u64> = (2..7502).chain([9000, 9001, 7]).collect();
        let rest = [7600u64, 7602];
        super::mark_in_flight(&dir, &[(&job, Some("750a")), (&rest, None)]).unwrap();
        let text = std::fs::read_to_string(dir.join(super::IN_FLIGHT)).unwrap();
        assert!(text.len() < 200, "runs, not 7,500 numbers: {text}");
        let read: super::InFlight = serde_json::from_str(&text).unwrap();
        for line in job.iter().chain(&rest) {
            assert!(read.contains(*line), "line {line}");
        }
        assert_eq!(read.job_of(7501), Some("750a"));
        assert_eq!(read.job_of(7), Some("750a"));
        assert!(!read.contains(7502) && !read.contains(7601) && !read.contains(8999));
        assert!(read.outside_jobs() && read.job_of(7602).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_half_written_row_is_cut_off() {
        let dir = std::env::temp_dir().join(format!("studio-trim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("success.csv");
        for (written, kept) in [
            ("A,sf__Row\nx,2\ny,3\nz,4", "A,sf__Row\nx,2\ny,3\n"),
            ("A,sf__Row\nx,2\n\"two\nlines", "A,sf__Row\nx,2\n"),
            ("A,sf__Row\nx,2\ny,3\n", "A,sf__Row\nx,2\ny,3\n"),
            ("A,sf__Row\nx,2\ny\n", "A,sf__Row\nx,2\n"),
        ] {
            std::fs::write(&p, written).unwrap();
            super::trim_partial_tail(&p).unwrap();
            assert_eq!(std::fs::read_to_string(&p).unwrap(), kept, "{written:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
