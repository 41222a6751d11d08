//! One-off imports: a CSV file into one object, as a run. The file is read
//! as a stream, each row checked against describe before anything is sent
//! (bad rows go to the error file with the column and the reason), the
//! rest written through sObject collections in batches, and every data row
//! ends in exactly one of the success, error or unknown files, matched to
//! its input line by our own index, never by position in an answer.

mod bulk_csv;
pub mod lookup;
mod pack;
pub mod plan;
pub mod preview;
pub mod resume;
mod settle;
pub mod source;
pub mod undo;

use crate::Studio;
use crate::error::{Error, Result};
use crate::runs::{Cancel, NewRun, RunHost, RunProgress, RunStatus, RunSummary};
use plan::{DateFormat, MapFile, Operation, Plan, PlanInput};
use salesforce::{Collection, RecordResult};
use serde_json::Value;
use source::{DelimiterChoice, EncodingChoice, Row, Source};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Api {
    Auto,
    Bulk,
    Rest,
}

/// Everything `syncstudio import` and the wizard ask; kept with the run,
/// so a retry sends its failed rows the same way.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportSpec {
    pub connection: String,
    pub object: String,
    pub operation: Operation,
    pub file: PathBuf,
    pub external_id: Option<String>,
    pub map: Option<PathBuf>,
    /// The mapping itself (the wizard's table); wins over `map`. A run
    /// keeps it, so a retry maps the same way after the file is gone.
    #[serde(default)]
    pub mapping: Option<MapFile>,
    pub api: Api,
    /// Rows per request (at most 200, the collection limit).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub batch_size: usize,
    pub encoding: EncodingChoice,
    pub delimiter: DelimiterChoice,
    pub date_format: DateFormat,
    pub time_zone: String,
    pub insert_nulls: bool,
    /// Read only: predict each row's outcome and the API calls, write nothing.
    pub dry_run: bool,
    /// Skip rows whose values already match the record (no call spent).
    pub only_changed: bool,
    /// A lookup whose parent is not found is left empty, instead of the
    /// row rejected (costs a lookup query a batch).
    #[serde(default)]
    pub null_missing_parents: bool,
    pub results: Option<PathBuf>,
    /// The run whose failed rows this one sends again.
    #[serde(default)]
    pub retry_of: Option<String>,
}

impl ImportSpec {
    pub fn new(connection: &str, object: &str, operation: Operation, file: PathBuf) -> ImportSpec {
        ImportSpec {
            connection: connection.into(),
            object: object.into(),
            operation,
            file,
            external_id: None,
            map: None,
            mapping: None,
            api: Api::Auto,
            batch_size: salesforce::records::COLLECTION_LIMIT,
            encoding: EncodingChoice::Auto,
            delimiter: DelimiterChoice::Auto,
            date_format: DateFormat::Iso,
            time_zone: "UTC".into(),
            insert_nulls: false,
            dry_run: false,
            only_changed: false,
            null_missing_parents: false,
            results: None,
            retry_of: None,
        }
    }
}

/// The three result files, each the input row as written plus ours.
struct Results {
    /// The input columns written back (our own `sf__` columns of a retried
    /// error file are left out, and written anew).
    keep: std::sync::Arc<[usize]>,
    success: Staged,
    error: std::io::BufWriter<std::fs::File>,
    unknown: Option<std::io::BufWriter<std::fs::File>>,
    unknown_path: PathBuf,
    header: Vec<String>,
    /// The input's columns, all of them.
    width: usize,
    /// One row's bytes, made before they are written.
    line: Vec<u8>,
}

/// The success file's bytes, held until an explicit flush, which the run
/// makes after the undo journal's: a row reported written always has its
/// journal entry. A kill between the two loses only the report, and the
/// resume reads the row's outcome again; the reverse would leave a written
/// record undo knows nothing of.
struct Staged {
    file: std::fs::File,
    held: Vec<u8>,
}

/// A result file's header line.
fn header_line(header: &[String], ours: &[&str]) -> Vec<u8> {
    let mut line = vec![];
    let names = header
        .iter()
        .map(String::as_str)
        .chain(ours.iter().copied());
    for (i, name) in names.enumerate() {
        if i > 0 {
            line.push(b',');
        }
        settle::field(&mut line, name.as_bytes());
    }
    line.push(b'\n');
    line
}

const SUCCESS_COLUMNS: [&str; 3] = ["sf__Row", "sf__Id", "sf__Created"];
const ERROR_COLUMNS: [&str; 2] = ["sf__Row", "sf__Error"];

fn create(path: &Path) -> Result<std::fs::File> {
    std::fs::File::create(path).map_err(|e| Error::Output(format!("{}: {e}", path.display())))
}

impl Results {
    /// The input columns the result files write back.
    fn kept(full_header: &[String]) -> (std::sync::Arc<[usize]>, Vec<String>) {
        let keep: Vec<usize> = (0..full_header.len())
            .filter(|&i| !full_header[i].to_ascii_lowercase().starts_with("sf__"))
            .collect();
        let header = keep.iter().map(|&i| full_header[i].clone()).collect();
        (keep.into(), header)
    }

    fn open(summary: &RunSummary, full_header: &[String]) -> Result<Results> {
        let (keep, header) = Results::kept(full_header);
        let mut success = create(Path::new(&summary.success_file))?;
        let mut error = create(Path::new(&summary.error_file))?;
        // On disk at once: a run killed before its first batch still has
        // files a resume can read.
        success.write_all(&header_line(&header, &SUCCESS_COLUMNS))?;
        error.write_all(&header_line(&header, &ERROR_COLUMNS))?;
        let unknown_path = PathBuf::from(&summary.error_file).with_file_name("unknown.csv");
        Ok(Results {
            keep,
            success: Staged {
                file: success,
                held: vec![],
            },
            error: std::io::BufWriter::new(error),
            unknown: None,
            unknown_path,
            header,
            width: full_header.len(),
            line: vec![],
        })
    }

    /// The result files of a run being resumed, written on from where
    /// they stopped (headers and rows already there are kept).
    fn append(summary: &RunSummary, full_header: &[String]) -> Result<Results> {
        let (keep, header) = Results::kept(full_header);
        let open = |path: &Path, ours: &[&str]| -> Result<std::fs::File> {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
            // Killed before its header reached the disk: write it now.
            if f.metadata().map(|m| m.len() == 0).unwrap_or(false) {
                f.write_all(&header_line(&header, ours))?;
            }
            Ok(f)
        };
        let unknown_path = PathBuf::from(&summary.error_file).with_file_name("unknown.csv");
        let unknown = if unknown_path.exists() {
            Some(std::io::BufWriter::new(open(
                &unknown_path,
                &ERROR_COLUMNS,
            )?))
        } else {
            None
        };
        Ok(Results {
            success: Staged {
                file: open(Path::new(&summary.success_file), &SUCCESS_COLUMNS)?,
                held: vec![],
            },
            error: std::io::BufWriter::new(open(Path::new(&summary.error_file), &ERROR_COLUMNS)?),
            unknown,
            unknown_path,
            header,
            keep,
            width: full_header.len(),
            line: vec![],
        })
    }

    /// The unknown file, made on first use.
    fn unknown_file(&mut self) -> Result<&mut std::io::BufWriter<std::fs::File>> {
        if self.unknown.is_none() {
            let mut f = create(&self.unknown_path)?;
            f.write_all(&header_line(&self.header, &ERROR_COLUMNS))?;
            self.unknown = Some(std::io::BufWriter::new(f));
        }
        Ok(self.unknown.as_mut().expect("made above"))
    }

    /// Writes what rows settled into became, and counts them.
    fn take(&mut self, summary: &mut RunSummary, settled: &settle::Settled) -> Result<()> {
        summary.succeeded += settled.succeeded;
        summary.failed += settled.failed;
        summary.created += settled.created;
        summary.updated += settled.updated;
        summary.deleted += settled.deleted;
        self.success.held.extend_from_slice(&settled.success);
        self.error.write_all(&settled.error)?;
        if settled.unknown_rows > 0 {
            summary.unknown += settled.unknown_rows;
            summary.unknown_file = Some(self.unknown_path.display().to_string());
            self.unknown_file()?.write_all(&settled.unknown)?;
        }
        Ok(())
    }

    /// The row's line in a result file: its cells, as many as the header
    /// has (a ragged row is padded or cut, and its error says so), then
    /// `line` and `extra`.
    fn row_line(&mut self, cells: &[String], line: u64, extra: &[&str]) -> &[u8] {
        self.line.clear();
        settle::prefix(&mut self.line, &self.keep, cells, line);
        for (i, e) in extra.iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            settle::field(&mut self.line, e.as_bytes());
        }
        self.line.push(b'\n');
        &self.line
    }

    fn success(&mut self, line: u64, cells: &[String], id: &str, created: bool) -> Result<()> {
        let created = if created { "true" } else { "false" };
        self.row_line(cells, line, &[id, created]);
        self.success.held.extend_from_slice(&self.line);
        Ok(())
    }

    fn error(&mut self, line: u64, cells: &[String], why: &str) -> Result<()> {
        self.row_line(cells, line, &[why]);
        self.error.write_all(&self.line)?;
        Ok(())
    }

    /// A row whose fate Salesforce did not tell: counted, and written to
    /// the unknown file (made on first use).
    fn unknown(
        &mut self,
        summary: &mut RunSummary,
        line: u64,
        cells: &[String],
        why: &str,
    ) -> Result<()> {
        summary.unknown += 1;
        summary.unknown_file = Some(self.unknown_path.display().to_string());
        self.row_line(cells, line, &[why]);
        let bytes = std::mem::take(&mut self.line);
        let written = self.unknown_file().and_then(|f| Ok(f.write_all(&bytes)?));
        self.line = bytes;
        written
    }

    /// Rows a stop or a failure kept from being sent: errors marked so a
    /// resume knows to send them.
    fn not_sent(
        &mut self,
        summary: &mut RunSummary,
        rows: impl IntoIterator<Item = (Row, serde_json::Map<String, Value>)>,
        why: &dyn std::fmt::Display,
    ) -> Result<()> {
        let why = format!("{NOT_SENT}: {why}");
        for (row, _) in rows {
            summary.failed += 1;
            self.error(row.line, &row.cells, &why)?;
        }
        Ok(())
    }

    /// A Bulk part's rows a failure kept from being sent.
    fn part_not_sent(
        &mut self,
        summary: &mut RunSummary,
        part: Part,
        why: &dyn std::fmt::Display,
    ) -> Result<()> {
        match part {
            Part::Records(rows, _) => self.not_sent(summary, rows, why),
            Part::Packed(rows, _) => self.not_sent_packed(summary, &rows, why),
        }
    }

    /// Packed rows a stop or a failure kept from being sent (as `not_sent`).
    fn not_sent_packed(
        &mut self,
        summary: &mut RunSummary,
        rows: &pack::Packed,
        why: &dyn std::fmt::Display,
    ) -> Result<()> {
        let why = format!("{NOT_SENT}: {why}");
        let mut settled = settle::Settled::default();
        for i in 0..rows.len() {
            settled.refused(rows.sent.ready(i), &why);
        }
        summary.failed += settled.failed;
        self.error.write_all(&settled.error)?;
        Ok(())
    }

    /// Puts the rows written so far on disk; the undo journal must be
    /// flushed first (see `Staged`).
    fn flush(&mut self) -> Result<()> {
        self.success.file.write_all(&self.success.held)?;
        self.success.held.clear();
        self.error.flush()?;
        if let Some(w) = self.unknown.as_mut() {
            w.flush()?;
        }
        Ok(())
    }
}

/// What a dry run predicts for a row, or what `--only-changed` settles
/// without sending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    Update,
    Unchanged,
    Delete,
}

/// The calls screening a batch made, and what of them a real run of the
/// same batch repeats: a dry run's forecast is their sum.
#[derive(Debug, Default)]
struct ScreenCalls {
    /// Looking up the records the rows write (by Id or external id).
    existing: u64,
    /// Looking up the parents the rows' lookups name.
    parents: u64,
    /// Rows the real run sends (it holds back only what --only-changed
    /// screening settles).
    rows_a_real_run_sends: usize,
}

/// A Bulk job's calls when nothing goes wrong: open, upload, close, one
/// status poll (more while the org is busy) and the three result files.
const BULK_JOB_CALLS: u64 = 7;

impl ScreenCalls {
    fn real_run_would_make(&self, plan: &Plan, spec: &ImportSpec, bulk: bool) -> u64 {
        let mut calls = 0;
        // An update or upsert reads what it replaces, for undo.
        if matches!(plan.operation, Operation::Update | Operation::Upsert) {
            calls += self.existing;
        }
        if spec.null_missing_parents {
            calls += self.parents;
        }
        if self.rows_a_real_run_sends > 0 {
            calls += if bulk { BULK_JOB_CALLS } else { 1 };
        }
        calls
    }
}

enum Screened {
    Done {
        row: Row,
        id: String,
        action: Action,
    },
    Rejected {
        row: Row,
        why: String,
    },
}

type Batch = Vec<(Row, serde_json::Map<String, Value>)>;

/// How the error file marks a row that was never sent (a resume sends it).
pub(crate) const NOT_SENT: &str = "not sent";

/// What became of one row sent.
/// What the org holds for an insert whose request was in flight at a stop.
enum Recovered {
    /// It was written: this is its Id.
    Created(String),
    /// It was not: send it.
    Missing,
    Unknown(String),
}

pub(crate) enum RowOutcome {
    Done(RecordResult),
    /// Salesforce may or may not have written it: never sent again blindly.
    Unknown(String),
}

/// Rows per Bulk API 2.0 job: big enough to be worth a job, small enough
/// that a job's rows and results stay a few megabytes in memory.
const BULK_PART_ROWS: usize = 7_500;
/// Rows per Bulk job when they are packed as read (`pack`): a packed row
/// takes a fraction of the memory of a record, so a job holds more, and
/// the org takes fewer requests for the same rows.
const PACKED_PART_ROWS: usize = 10_000;

/// Jobs a Bulk part may take when its uploads fail on the way.
const UPLOAD_ATTEMPTS: u32 = 3;

/// An upload that failed on the way (a lost answer, a dropped connection,
/// an org that kept answering 5xx): worth a new job. A refusal is not.
fn upload_may_go_again(e: &salesforce::Error) -> bool {
    match e {
        salesforce::Error::OutcomeUnknown { .. } | salesforce::Error::Network { .. } => true,
        salesforce::Error::Api { status, .. } => *status >= 500,
        _ => false,
    }
}
/// Over this many rows, `--api auto` uses Bulk API 2.0 (as Data Loader
/// switches at a threshold of its own).
const AUTO_BULK_OVER: u64 = 2_000;
const BULK_JOB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Salesforce's errors for one record, as the error file says them:
/// `CODE: message [fields]`.
fn record_errors(r: &RecordResult) -> String {
    if r.errors.is_empty() {
        return "failed without a reason from Salesforce".into();
    }
    r.errors
        .iter()
        .map(|e| {
            if e.fields.is_empty() {
                format!("{}: {}", e.code, e.message)
            } else {
                format!("{}: {} [{}]", e.code, e.message, e.fields.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The rows of a batch being read.
#[derive(Default)]
struct Read {
    pending: Batch,
    /// Rows of a Bulk insert, packed by the reader (`pack`).
    packed: pack::Packed,
    /// Inserts a stopped run had in flight, to look up by external id.
    recover: Batch,
    /// Rows of the Bulk jobs a stopped run had open, by job.
    bulk_in_flight: Vec<(String, Batch)>,
}

impl Read {
    fn len(&self) -> u64 {
        let in_jobs: usize = self.bulk_in_flight.iter().map(|(_, b)| b.len()).sum();
        (self.pending.len() + self.recover.len() + self.packed.len() + in_jobs) as u64
    }
}

/// A row as the reader thread hands it over: unreadable, or read and made
/// a record by the plan (or refused by it, with the reason); or rows of a
/// Bulk insert, packed.
enum ReadRow {
    Bad(source::BadRow),
    Good(
        Row,
        std::result::Result<serde_json::Map<String, Value>, String>,
    ),
    Packed(pack::Packed),
}

/// Rows handed over at a time, and chunks waiting at most: enough read
/// ahead that the run never waits for the reader, few enough that memory
/// stays flat whatever the file's size.
const READ_CHUNK: usize = 512;
const READ_AHEAD_CHUNKS: usize = 4;

/// Reads the file and makes each row a record (or packs it, with a
/// `packer`) on a thread of its own, beside the run's requests and result
/// files. It stops when the run drops the receiving end.
fn read_beside(
    mut source: Source,
    plan: std::sync::Arc<Plan>,
    packer: Option<std::sync::Arc<pack::Packer>>,
) -> Reading {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD_CHUNKS);
    let thread = std::thread::spawn(move || {
        let mut chunk = Vec::with_capacity(READ_CHUNK);
        let mut packed = pack::Packed::default();
        let mut read = 0;
        while let Some(next) = source.next_row() {
            read += 1;
            match next {
                Err(bad) => chunk.push(ReadRow::Bad(bad)),
                Ok(row) => match &packer {
                    Some(packer) => {
                        if let Err(why) = packer.pack(&row, &mut packed) {
                            chunk.push(ReadRow::Good(row, Err(why)));
                        }
                    }
                    None => {
                        let record = plan.record(&row.cells);
                        chunk.push(ReadRow::Good(row, record));
                    }
                },
            }
            if read == READ_CHUNK {
                read = 0;
                if !packed.is_empty() {
                    chunk.push(ReadRow::Packed(std::mem::take(&mut packed)));
                }
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(READ_CHUNK));
                if tx.blocking_send(full).is_err() {
                    return;
                }
            }
        }
        if !packed.is_empty() {
            chunk.push(ReadRow::Packed(packed));
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
    });
    Reading {
        rows: rx,
        chunk: Vec::new().into_iter(),
        thread: Some(thread),
    }
}

/// The reader thread's side of the run.
struct Reading {
    rows: tokio::sync::mpsc::Receiver<Vec<ReadRow>>,
    /// The chunk being taken from.
    chunk: std::vec::IntoIter<ReadRow>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Reading {
    /// The next row the reader thread made, or None at the end of the
    /// file (a reader that died early is an error, never an early end).
    async fn next(&mut self) -> Result<Option<ReadRow>> {
        loop {
            if let Some(row) = self.chunk.next() {
                return Ok(Some(row));
            }
            // A chance for a request running beside the reading.
            tokio::task::yield_now().await;
            match self.rows.recv().await {
                Some(chunk) => self.chunk = chunk.into_iter(),
                None => {
                    if let Some(thread) = self.thread.take()
                        && thread.join().is_err()
                    {
                        return Err(Error::Invalid(
                            "reading the file stopped before its end; no row after the last one written was sent".into(),
                        ));
                    }
                    return Ok(None);
                }
            }
        }
    }
}

/// Reads the file into batches. Rows that cannot be sent (unreadable,
/// failing the plan's checks) go to the error file at once; rows a resumed
/// run settled before are skipped.
struct Intake<'a> {
    rows: Reading,
    settled: &'a std::collections::HashSet<u64>,
    in_flight: &'a resume::InFlight,
    first_line: Option<usize>,
    unsure_if_sent: bool,
    recover_by: Option<&'a str>,
    done: bool,
}

impl Intake<'_> {
    /// Whether a resumed run settled the row before (no hashing on a
    /// first run, which settled none).
    fn was_settled(&self, line: u64) -> bool {
        !self.settled.is_empty() && self.settled.contains(&line)
    }

    async fn fill(
        &mut self,
        batch: usize,
        read: &mut Read,
        summary: &mut RunSummary,
        results: &mut Results,
    ) -> Result<()> {
        // Fill a batch with rows that pass the checks; the rest go to
        // the error file at once.
        while read.pending.len() + read.recover.len() + read.packed.len() < batch {
            match self.rows.next().await? {
                None => {
                    self.done = true;
                    break;
                }
                Some(ReadRow::Packed(rows)) => {
                    // Packed only on a first run: none settled, none in flight.
                    summary.rows += rows.len() as u64;
                    if read.packed.is_empty() {
                        // Chunks of READ_CHUNK rows: the last may overrun the batch.
                        read.packed.reserve_like(&rows, batch + READ_CHUNK);
                    }
                    read.packed.append(rows);
                }
                Some(ReadRow::Bad(bad)) if self.was_settled(bad.line) => {}
                Some(ReadRow::Bad(bad)) => {
                    summary.rows += 1;
                    summary.failed += 1;
                    results.error(bad.line, &bad.cells, &bad.reason)?;
                }
                Some(ReadRow::Good(mut row, record)) => {
                    if let Some(line) = self
                        .first_line
                        .and_then(|i| row.cells[i].trim().parse().ok())
                    {
                        row.line = line;
                    }
                    if self.was_settled(row.line) {
                        continue;
                    }
                    summary.rows += 1;
                    let was_in_flight = self.in_flight.contains(row.line);
                    if was_in_flight && self.unsure_if_sent {
                        // An insert that may have happened: looked up by
                        // its external id when it has one, else unknown.
                        match record {
                            Ok(record)
                                if self.recover_by.is_some_and(|key| {
                                    record
                                        .get(key)
                                        .and_then(Value::as_str)
                                        .is_some_and(|v| !v.is_empty())
                                }) =>
                            {
                                read.recover.push((row, record));
                            }
                            _ => results.unknown(
                                summary,
                                row.line,
                                &row.cells,
                                "the run stopped while this row was being sent; look the record up before sending it again",
                            )?,
                        }
                        continue;
                    }
                    match record {
                        Ok(record) if let Some(job) = self.in_flight.job_of(row.line) => {
                            match read.bulk_in_flight.iter_mut().find(|(j, _)| j == job) {
                                Some((_, rows)) => rows.push((row, record)),
                                None => read
                                    .bulk_in_flight
                                    .push((job.to_string(), vec![(row, record)])),
                            }
                        }
                        Ok(record) => read.pending.push((row, record)),
                        Err(why) => {
                            summary.failed += 1;
                            results.error(row.line, &row.cells, &why)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Bulk jobs in flight at most: the run sends the next while the org
/// works on the ones before, and their results are fetched, matched to
/// their rows and settled on tasks of their own meanwhile. Each holds its
/// rows compact (`settle::Sent`); the batches being read and sent are
/// what memory holds most of.
const JOBS_IN_FLIGHT: usize = 3;

/// A job's rows settled once its results are fetched and matched, but
/// for rows a row lock held (by index, with their answers).
type Answered = salesforce::Result<(settle::Sent, settle::Settled, Vec<(usize, RowOutcome)>)>;

/// Why a Bulk part was not launched. A part whose data was uploaded but
/// whose close failed names its job: a close whose answer was lost may
/// have reached the org all the same, which then processes the job, so
/// its rows are neither settled nor sent again until the job is read.
struct NotLaunched {
    error: salesforce::Error,
    unclosed: Option<String>,
}

impl From<salesforce::Error> for NotLaunched {
    fn from(error: salesforce::Error) -> NotLaunched {
        NotLaunched {
            error,
            unclosed: None,
        }
    }
}

/// The rows of one Bulk job: records (with what each replaces, for
/// undo), or rows of a Bulk insert packed as read (with their packer).
enum Part {
    Records(Batch, Vec<lookup::Existing>),
    Packed(pack::Packed, std::sync::Arc<pack::Packer>),
}

impl Part {
    /// The records the part writes by Id or external id (an update's or
    /// an upsert's).
    fn keys_written(&self, plan: &Plan) -> std::collections::HashSet<String> {
        match self {
            Part::Records(rows, _) => keys_of(plan, rows),
            // Inserts only.
            Part::Packed(..) => Default::default(),
        }
    }

    /// The rows made compact while their job runs (`settle::Sent`).
    fn into_sent(self, plan: &Plan, keep: &[usize]) -> Result<settle::Sent> {
        match self {
            Part::Records(rows, before) => settle::Sent::new(plan, keep, rows, before),
            Part::Packed(rows, _) => Ok(rows.sent),
        }
    }
}

/// A Bulk job sent and closed, its rows waiting for its results.
struct Launched {
    job: String,
    /// Makes the job's rows compact, waits for the job, fetches its
    /// results, matches them to its rows and settles them; aborted if the
    /// run drops the job unsettled.
    answers: Option<tokio::task::JoinHandle<Answered>>,
    lines: Vec<u64>,
    /// The records an update or upsert writes (by Id or external id).
    keys: std::collections::HashSet<String>,
}

impl Drop for Launched {
    fn drop(&mut self) {
        if let Some(task) = &self.answers {
            task.abort();
        }
    }
}

/// The key an update or upsert writes a record by.
fn key_of<'a>(plan: &Plan, record: &'a serde_json::Map<String, Value>) -> Option<&'a str> {
    let field = match plan.operation {
        Operation::Update => "Id",
        Operation::Upsert => plan.external_id.as_deref().unwrap_or("Id"),
        _ => return None,
    };
    record.get(field).and_then(Value::as_str)
}

fn keys_of(plan: &Plan, batch: &Batch) -> std::collections::HashSet<String> {
    batch
        .iter()
        .filter_map(|(_, r)| key_of(plan, r))
        .map(str::to_string)
        .collect()
}

impl Launched {
    /// Whether `batch` writes a record this job writes.
    fn touches(&self, plan: &Plan, batch: &Batch) -> bool {
        !self.keys.is_empty()
            && batch
                .iter()
                .any(|(_, r)| key_of(plan, r).is_some_and(|k| self.keys.contains(k)))
    }
}

/// The parts in flight: jobs whose results could not be read, and the
/// jobs sent and not yet settled.
fn in_flight_parts<'a>(
    stuck: &'a [(Vec<u64>, String)],
    outstanding: impl IntoIterator<Item = &'a Launched>,
) -> Vec<(&'a [u64], Option<&'a str>)> {
    stuck
        .iter()
        .map(|(lines, job)| (&lines[..], Some(job.as_str())))
        .chain(
            outstanding
                .into_iter()
                .map(|o| (&o.lines[..], Some(o.job.as_str()))),
        )
        .collect()
}

/// Times a row is sent while the org answers UNABLE_TO_LOCK_ROW.
const LOCK_ATTEMPTS: u32 = 5;

/// What became of a Bulk job's rows.
enum Landed {
    /// Settled, but for rows to send again (a row lock held elsewhere).
    Settled { again: Batch },
    /// Its results could not be read: its rows stay in flight, for a
    /// resume to read.
    Unread(salesforce::Error),
}

/// Where settled rows are written and counted.
struct Sink<'a> {
    summary: &'a mut RunSummary,
    results: &'a mut Results,
    journal: &'a mut undo::Journal,
}

/// The file's rows, for the progress bar's total: counted on a thread of
/// their own, so the run does not wait for a read of the whole file first.
struct RowCount(std::sync::Arc<std::sync::OnceLock<u64>>);

impl RowCount {
    /// Counted only when `wanted` (the host shows the total).
    fn start(spec: &ImportSpec, wanted: bool) -> RowCount {
        let counted = std::sync::Arc::new(std::sync::OnceLock::new());
        if !wanted {
            return RowCount(counted);
        }
        let (file, encoding, delimiter) = (spec.file.clone(), spec.encoding, spec.delimiter);
        let set = counted.clone();
        std::thread::spawn(move || {
            if let Ok(s) = Source::open(&file, encoding, delimiter) {
                let _ = set.set(s.count_rows());
            }
        });
        RowCount(counted)
    }

    /// The count, once known.
    fn get(&self) -> Option<u64> {
        self.0.get().copied()
    }
}

/// Whether the file has more than `n` rows, read only as far as needed.
fn has_more_rows_than(spec: &ImportSpec, n: u64) -> bool {
    Source::open(&spec.file, spec.encoding, spec.delimiter)
        .is_ok_and(|s| s.count_rows_up_to(n + 1) > n)
}

/// A job that writes to the org as a run: an import, the failed rows of
/// one again, the rest of a stopped one, or its undo. The CLI's `import`
/// and `runs retry|resume|undo`, and the wizard's buttons, are these.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "job")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum RunJob {
    Import {
        spec: Box<ImportSpec>,
    },
    /// `file`: the error file fixed by hand (its own error file when None).
    Retry {
        run: String,
        file: Option<PathBuf>,
    },
    Resume {
        run: String,
    },
    /// `force`: overwrite records changed since the import.
    Undo {
        run: String,
        force: bool,
    },
}

impl Studio {
    /// Runs `job` to its end (or to a cancel); `on_start` hears the run id
    /// before any row is sent.
    pub async fn run_job(
        &self,
        job: &RunJob,
        host: &dyn RunHost,
        cancel: &Cancel,
        on_start: impl FnOnce(&str),
    ) -> Result<RunSummary> {
        match job {
            RunJob::Import { spec } => self.import(spec, host, cancel, on_start).await,
            RunJob::Retry { run, file: None } if self.run_flow(run)?.is_some() => {
                self.retry_flow_run(run, host, cancel, on_start).await
            }
            RunJob::Retry { run, file } => {
                self.retry_import(run, file.clone(), host, cancel, on_start)
                    .await
            }
            RunJob::Resume { run } => self.resume_import(run, host, cancel, on_start).await,
            RunJob::Undo { run, force } => self.undo(run, *force, host, cancel, on_start).await,
        }
    }

    /// Runs an import to its end (or to a cancel) and answers its summary.
    /// A problem with the whole file or the mapping stops it before any
    /// run is recorded; a failure midway ends the run `failed` with every
    /// unsent row in the error file.
    pub async fn import(
        &self,
        spec: &ImportSpec,
        host: &dyn RunHost,
        cancel: &Cancel,
        on_start: impl FnOnce(&str),
    ) -> Result<RunSummary> {
        self.import_run(spec, host, cancel, on_start, None).await
    }

    async fn import_run(
        &self,
        spec: &ImportSpec,
        host: &dyn RunHost,
        cancel: &Cancel,
        on_start: impl FnOnce(&str),
        resume: Option<resume::Resumed>,
    ) -> Result<RunSummary> {
        if spec.api == Api::Rest && spec.operation == Operation::HardDelete {
            return Err(Error::Invalid(
                "hard-delete needs Bulk API 2.0 (the REST API deletes to the recycle bin); use --api bulk or auto".into(),
            ));
        }
        let time_zone: chrono_tz::Tz = spec.time_zone.parse().map_err(|_| {
            Error::Invalid(format!(
                "{:?} is not a time zone; use a name such as Europe/Berlin or America/New_York",
                spec.time_zone
            ))
        })?;
        let map = match (&spec.mapping, &spec.map) {
            (Some(m), _) => m.clone(),
            (None, Some(p)) => MapFile::load(p)?,
            (None, None) => MapFile::default(),
        };
        let kept = ImportSpec {
            mapping: Some(map.clone()),
            ..spec.clone()
        };
        let source = Source::open(&spec.file, spec.encoding, spec.delimiter)?;
        let (_, client) = self.client(&spec.connection).await?;
        let describe = client
            .describe(&spec.object)
            .await
            .map_err(|e| preview::describe_error(&spec.object, e))?;
        let plan = std::sync::Arc::new(Plan::new(PlanInput {
            object: describe["name"].as_str().unwrap_or(&spec.object),
            operation: spec.operation,
            describe: &describe,
            header: &source.header,
            map: &map,
            external_id: spec.external_id.as_deref(),
            date_format: spec.date_format,
            time_zone,
            insert_nulls: spec.insert_nulls,
        })?);
        let total = RowCount::start(spec, host.shows_total());
        let (run, resume) = match resume {
            Some(r) => (r.handle, Some((r.settled, r.in_flight, r.before))),
            None => (
                self.start_run(NewRun {
                    kind: if spec.dry_run { "dry-run" } else { "import" },
                    connection: &spec.connection,
                    object: &plan.object,
                    operation: spec.operation.as_str(),
                    input_file: Some(&spec.file),
                    results: spec.results.as_deref(),
                    spec: serde_json::to_string(&kept).ok(),
                    retry_of: spec.retry_of.as_deref(),
                    flow: None,
                })?,
                None,
            ),
        };
        on_start(&run.summary.run);
        let mut summary = run.summary.clone();
        let folder = self.runs_folder().join(&summary.run);
        let (mut results, mut journal) = match &resume {
            Some(_) => (
                Results::append(&summary, &source.header)?,
                undo::Journal::append(&folder)?,
            ),
            None => (
                Results::open(&summary, &source.header)?,
                undo::Journal::create(&folder)?,
            ),
        };
        let resuming = resume.is_some();
        let (settled, in_flight, mut kept_before) = resume.unwrap_or_default();
        // An update or upsert keeps what each row replaces before sending it.
        let mut before_log = (!spec.dry_run
            && matches!(plan.operation, Operation::Update | Operation::Upsert))
        .then(|| resume::BeforeLog::open(&folder))
        .transpose()?;
        // Upsert rows the org lacked before the stop, found on resume: the
        // run's first send made them.
        let mut made_before_stop = std::collections::HashSet::new();
        // A retried error file says each row's line in the first file.
        let first_line = source
            .header
            .iter()
            .position(|h| h.eq_ignore_ascii_case("sf__Row"));
        let calls_before = client.calls_sent();
        let started = Instant::now();
        let bulk = match spec.api {
            Api::Bulk => true,
            Api::Rest => false,
            Api::Auto => {
                spec.operation == Operation::HardDelete || has_more_rows_than(spec, AUTO_BULK_OVER)
            }
        };
        // A first run of a Bulk insert packs its rows as they are read.
        let packer = (bulk
            && !resuming
            && !spec.dry_run
            && !spec.null_missing_parents
            && first_line.is_none())
        .then(|| pack::Packer::new(plan.clone(), results.keep.clone()))
        .flatten()
        .map(std::sync::Arc::new);
        let batch = if bulk {
            if packer.is_some() {
                PACKED_PART_ROWS
            } else {
                BULK_PART_ROWS
            }
        } else {
            spec.batch_size
                .clamp(1, salesforce::records::COLLECTION_LIMIT)
        };
        // Rows that were being sent when the run stopped: an insert over
        // REST may have happened, so it is never sent blindly again (a Bulk
        // part without a job id sent no data yet).
        let unsure_if_sent =
            !bulk && in_flight.outside_jobs() && plan.operation == Operation::Insert;
        // ...unless the rows carry an external id: then the org says
        // whether each was created, and the ones it lacks are sent again.
        let recover_by = unsure_if_sent
            .then(|| {
                plan.columns.iter().find_map(|c| match c.target {
                    plan::Target::Field(i) if plan.fields[i].external_id => {
                        Some(plan.fields[i].name.clone())
                    }
                    _ => None,
                })
            })
            .flatten();
        let mut failure: Option<Error> = None;
        // A dry run's sum of the calls the real run will make.
        let mut forecast = 0u64;
        let mut intake = Intake {
            rows: read_beside(source, plan.clone(), packer.clone()),
            settled: &settled,
            in_flight: &in_flight,
            first_line,
            unsure_if_sent,
            recover_by: recover_by.as_deref(),
            done: false,
        };
        let mut read = Read::default();
        // The Bulk jobs sent and not yet settled, oldest first (at most
        // JOBS_IN_FLIGHT), and jobs whose results could not be read.
        let mut outstanding: std::collections::VecDeque<Launched> = Default::default();
        let mut stuck: Vec<(Vec<u64>, String)> = vec![];
        let mut lock_tries = std::collections::HashMap::new();
        // Waits for a job sent before and settles it.
        macro_rules! land {
            ($sent:expr, $ahead:expr) => {{
                let sent: Launched = $sent;
                let part = (sent.lines.clone(), sent.job.clone());
                let mut sink = Sink {
                    summary: &mut summary,
                    results: &mut results,
                    journal: &mut journal,
                };
                let landed = self
                    .land(&plan, spec, sent, &mut sink, $ahead, batch, &mut lock_tries)
                    .await?;
                match landed {
                    Landed::Settled { again } => read.pending.extend(again),
                    Landed::Unread(e) => {
                        stuck.push(part);
                        failure.get_or_insert(e.into());
                    }
                }
            }};
        }
        // Puts what was settled on disk, and tells the host.
        macro_rules! report {
            () => {{
                summary.api_calls = client.calls_sent() - calls_before;
                journal.flush()?;
                results.flush()?;
                resume::mark_in_flight(&folder, &in_flight_parts(&stuck, &outstanding))?;
                self.save_run(&summary, None, false)?;
                host.progress(&RunProgress {
                    run: summary.run.clone(),
                    // Rows read ahead are not done yet.
                    rows_done: summary.rows - read.len(),
                    rows_total: total.get(),
                    api_calls: summary.api_calls,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                });
            }};
        }
        // Sends a part as a Bulk job, while the org still works on the
        // jobs before: all are in flight until settled, and the oldest is
        // waited for when JOBS_IN_FLIGHT are. A part is marked once its job
        // is open: until its data is sent, a resume sends its rows again
        // whether they are marked or not.
        macro_rules! launch {
            ($part:expr, $lines:expr) => {{
                let mut part: Part = $part;
                let lines: Vec<u64> = $lines;
                let on_job = |job: &str| {
                    let mut parts = in_flight_parts(&stuck, &outstanding);
                    parts.push((&lines[..], Some(job)));
                    resume::mark_in_flight(&folder, &parts)
                };
                match self.launch_part(&client, &plan, &mut part, &on_job).await {
                    Ok((job, columns, row_keys)) => {
                        let keys = part.keys_written(&plan);
                        let (plan_, keep) = (plan.clone(), results.keep.clone());
                        // Made compact while the org works on the job.
                        let answers = settle_beside(
                            &client,
                            &job,
                            columns,
                            row_keys,
                            plan.operation,
                            !spec.dry_run,
                            move || part.into_sent(&plan_, &keep),
                        );
                        outstanding.push_back(Launched {
                            job,
                            answers: Some(answers),
                            keys,
                            lines,
                        });
                        if outstanding.len() >= JOBS_IN_FLIGHT
                            && let Some(earlier) = outstanding.pop_front()
                        {
                            land!(earlier, (!intake.done).then_some((&mut intake, &mut read)));
                        }
                    }
                    Err(NotLaunched { error, unclosed }) => {
                        match unclosed {
                            // Read back by a resume (see NotLaunched).
                            Some(job) => stuck.push((lines, job)),
                            None => results.part_not_sent(&mut summary, part, &error)?,
                        }
                        failure = Some(error.into());
                    }
                }
            }};
        }
        while !intake.done || read.len() > 0 || !outstanding.is_empty() {
            intake
                .fill(batch, &mut read, &mut summary, &mut results)
                .await?;
            let done = intake.done;
            if !read.bulk_in_flight.is_empty() && (done || read.pending.len() >= batch) {
                // The Bulk jobs the run had open: their results, not a resend.
                let open = std::mem::take(&mut read.bulk_in_flight);
                // Listed in flight until their rows are on disk, each by
                // the job its rows are in: a job still open is replaced by
                // a new one, listed before its data is sent.
                let listed: Vec<(Vec<u64>, String)> = open
                    .iter()
                    .map(|(job, rows)| (rows.iter().map(|(r, _)| r.line).collect(), job.clone()))
                    .collect();
                let listed = std::sync::Mutex::new(listed);
                for (i, (job, rows)) in open.into_iter().enumerate() {
                    let on_job = |new: &str| {
                        let mut listed = listed.lock().expect("in-flight list");
                        listed[i].1 = new.to_string();
                        let mut parts = in_flight_parts(&stuck, &outstanding);
                        parts.extend(
                            listed
                                .iter()
                                .map(|(lines, job)| (&lines[..], Some(job.as_str()))),
                        );
                        resume::mark_in_flight(&folder, &parts)
                    };
                    let answers = self
                        .settle_bulk_job(&client, &plan, &rows, &job, &on_job)
                        .await;
                    match answers {
                        Ok(answers) => {
                            let mut sink = Sink {
                                summary: &mut summary,
                                results: &mut results,
                                journal: &mut journal,
                            };
                            let before: Vec<_> = rows
                                .iter()
                                .map(|(row, _)| {
                                    kept_before
                                        .remove(&row.line)
                                        .unwrap_or(lookup::Existing::None)
                                })
                                .collect();
                            self.settle_rows(&plan, spec, &mut sink, rows, answers, before)?;
                        }
                        Err(NotLaunched {
                            error,
                            unclosed: Some(new),
                        }) => {
                            // Sent again, and closed or not (see NotLaunched).
                            let lines = rows.iter().map(|(r, _)| r.line).collect();
                            stuck.push((lines, new));
                            failure.get_or_insert(error.into());
                        }
                        Err(NotLaunched { error, .. }) => {
                            let why = format!(
                                "Bulk job {job} could not be read ({error}); look the record up before sending it again"
                            );
                            for (row, _) in rows {
                                results.unknown(&mut summary, row.line, &row.cells, &why)?;
                            }
                        }
                    }
                }
            }
            if let Some(key) = &recover_by
                && !read.recover.is_empty()
            {
                let rows = std::mem::take(&mut read.recover);
                let (mut found_rows, mut answers) = (vec![], vec![]);
                for (row, record, found) in self.recover_inserts(&client, &plan, key, rows).await {
                    answers.push(match found {
                        Recovered::Missing => {
                            read.pending.push((row, record));
                            continue;
                        }
                        Recovered::Created(id) => RowOutcome::Done(RecordResult {
                            id: Some(id),
                            success: true,
                            created: Some(true),
                            errors: vec![],
                        }),
                        Recovered::Unknown(why) => RowOutcome::Unknown(why),
                    });
                    found_rows.push((row, record));
                }
                let none = vec![lookup::Existing::None; found_rows.len()];
                let mut sink = Sink {
                    summary: &mut summary,
                    results: &mut results,
                    journal: &mut journal,
                };
                self.settle_rows(&plan, spec, &mut sink, found_rows, answers, none)?;
            }
            if read.pending.is_empty() && read.packed.is_empty() {
                // All read: the last job is waited for (rows it hands back
                // go out again).
                if intake.done
                    && let Some(last) = outstanding.pop_front()
                {
                    land!(last, None);
                }
                continue;
            }
            if failure.is_none() && cancel.is_cancelled() {
                failure = Some(Error::RunCancelled);
            }
            if let Some(stop) = &failure {
                results.not_sent(&mut summary, read.pending.drain(..), stop)?;
                results.not_sent_packed(&mut summary, &std::mem::take(&mut read.packed), stop)?;
                continue;
            }
            // Jobs run in no set order: a batch that writes a record a
            // job before still holds, or may name a parent it creates,
            // waits for those jobs.
            if outstanding
                .iter()
                .any(|o| plan.refers_to_itself() || o.touches(&plan, &read.pending))
            {
                while let Some(earlier) = outstanding.pop_front() {
                    land!(earlier, None);
                }
                if failure.is_some() {
                    continue;
                }
            }
            if let Some(packer) = packer.as_ref().filter(|_| read.pending.is_empty()) {
                // A Bulk insert's rows, packed as read: sent as they are.
                let rows = std::mem::take(&mut read.packed);
                let lines = rows.lines().to_vec();
                launch!(Part::Packed(rows, packer.clone()), lines);
                report!();
                continue;
            }
            let screen = spec.dry_run
                || (spec.only_changed
                    && matches!(plan.operation, Operation::Update | Operation::Upsert));
            // What screening read of the org is the before-image too: the
            // rows it lets through are not looked up a second time.
            let mut screened_before = None;
            if screen {
                let checked = self
                    .screen_batch(&client, &plan, std::mem::take(&mut read.pending), spec)
                    .await;
                match checked {
                    Ok((settled, to_send, found, calls)) => {
                        if spec.dry_run {
                            forecast += calls.real_run_would_make(&plan, spec, bulk);
                        }
                        for s in settled {
                            match s {
                                Screened::Rejected { row, why } => {
                                    summary.failed += 1;
                                    results.error(row.line, &row.cells, &why)?;
                                }
                                Screened::Done { row, id, action } => {
                                    summary.succeeded += 1;
                                    match action {
                                        Action::Create => summary.created += 1,
                                        Action::Update => summary.updated += 1,
                                        Action::Unchanged => summary.unchanged += 1,
                                        Action::Delete => summary.deleted += 1,
                                    }
                                    let created = action == Action::Create;
                                    results.success(row.line, &row.cells, &id, created)?;
                                }
                            }
                        }
                        read.pending = to_send;
                        screened_before = Some(found);
                    }
                    Err((e, rows)) => {
                        results.not_sent(&mut summary, rows, &e)?;
                        failure = Some(e.into());
                        continue;
                    }
                }
                if read.pending.is_empty() {
                    summary.api_calls = client.calls_sent() - calls_before;
                    self.save_run(&summary, None, false)?;
                    continue;
                }
            }
            if spec.null_missing_parents
                && !spec.dry_run
                && plan
                    .columns
                    .iter()
                    .any(|c| matches!(c.target, plan::Target::Lookup { .. }))
            {
                let records: Vec<&serde_json::Map<String, Value>> =
                    read.pending.iter().map(|(_, r)| r).collect();
                match lookup::missing_parents(&client, &plan, &records).await {
                    Ok(missing) => {
                        for ((row, record), missing) in read.pending.iter_mut().zip(missing) {
                            if !missing.is_empty() {
                                tracing::info!(
                                    line = row.line,
                                    "a parent was not found: the lookup is left empty"
                                );
                                lookup::null_missing(record, &missing);
                            }
                        }
                    }
                    Err(e) => {
                        results.not_sent(&mut summary, read.pending.drain(..), &e)?;
                        failure = Some(e.into());
                        continue;
                    }
                }
            }
            // The before-image of what an update or upsert changes, for undo.
            let before = if let Some(found) = screened_before {
                found
            } else if matches!(plan.operation, Operation::Update | Operation::Upsert) {
                let records: Vec<&serde_json::Map<String, Value>> =
                    read.pending.iter().map(|(_, r)| r).collect();
                match lookup::existing(&client, &plan, &records).await {
                    Ok(b) => b,
                    Err(e) => {
                        results.not_sent(&mut summary, read.pending.drain(..), &e)?;
                        failure = Some(e.into());
                        continue;
                    }
                }
            } else {
                vec![lookup::Existing::None; read.pending.len()]
            };
            let sending = std::mem::take(&mut read.pending);
            let lines: Vec<u64> = sending.iter().map(|(row, _)| row.line).collect();
            let mut before = before;
            if !kept_before.is_empty() {
                // Rows sent again after a stop: the org may hold what they
                // wrote the first time; the image kept then is the real one.
                for (line, found) in lines.iter().zip(before.iter_mut()) {
                    if let Some(kept) = kept_before.remove(line) {
                        if matches!(kept, lookup::Existing::None)
                            && matches!(found, lookup::Existing::Found { .. })
                        {
                            made_before_stop.insert(*line);
                        }
                        *found = kept;
                    }
                }
            }
            if let Some(log) = &mut before_log {
                log.keep(&lines, &before)?;
            }
            if bulk {
                launch!(Part::Records(sending, before), lines);
            } else {
                resume::mark_in_flight(&folder, &[(&lines[..], None)])?;
                // While the request is answered, the next batch is read.
                let send = self.send_batch(&client, &plan, &sending);
                let (outcome, read_ahead) = if !intake.done {
                    tokio::join!(
                        send,
                        intake.fill(batch, &mut read, &mut summary, &mut results)
                    )
                } else {
                    (send.await, Ok(()))
                };
                read_ahead?;
                match outcome {
                    Ok(mut answers) => {
                        for ((row, _), answer) in sending.iter().zip(answers.iter_mut()) {
                            if made_before_stop.remove(&row.line)
                                && let RowOutcome::Done(r) = answer
                                && r.success
                            {
                                r.created = Some(true);
                            }
                        }
                        let mut sink = Sink {
                            summary: &mut summary,
                            results: &mut results,
                            journal: &mut journal,
                        };
                        self.settle_rows(&plan, spec, &mut sink, sending, answers, before)?;
                    }
                    Err(e) => {
                        results.not_sent(&mut summary, sending, &e)?;
                        failure = Some(e.into());
                    }
                }
            }
            report!();
        }
        journal.flush()?;
        results.flush()?;
        // A job whose results could not be read stays in flight: a resume
        // reads them.
        resume::mark_in_flight(&folder, &in_flight_parts(&stuck, []))?;
        summary.api_calls = client.calls_sent() - calls_before;
        if spec.dry_run {
            // The calls the real run makes once it has read the object's
            // describe, as its own count of `api_calls` will say.
            summary.forecast_api_calls = Some(forecast);
            let (used, limit) = client.api_usage();
            summary.api_calls_left = (limit > 0).then(|| limit.saturating_sub(used));
        }
        summary.status = match &failure {
            Some(Error::RunCancelled) => RunStatus::Cancelled,
            Some(_) => RunStatus::Failed,
            None if summary.failed + summary.unknown > 0 => RunStatus::CompletedWithErrors,
            None => RunStatus::Completed,
        };
        if failure.is_none() {
            // Nothing left to resume: the journal has what undo needs.
            drop(before_log);
            resume::forget_before(&folder);
        }
        // Rows of jobs whose outcome could not be read are in no result
        // file yet: the error says so, for every front end.
        let in_jobs: usize = stuck.iter().map(|(lines, _)| lines.len()).sum();
        let error = failure.as_ref().map(|e| match in_jobs {
            0 => e.to_string(),
            n => format!(
                "{e}; {n} rows are in Bulk jobs not read back yet (resuming the run reads them)"
            ),
        });
        self.save_run(&summary, error.as_deref(), true)?;
        host.progress(&RunProgress {
            run: summary.run.clone(),
            rows_done: summary.rows,
            rows_total: Some(summary.rows),
            api_calls: summary.api_calls,
            elapsed_ms: started.elapsed().as_millis() as u64,
        });
        tracing::info!(run = %summary.run, status = summary.status.as_str(), rows = summary.rows, failed = summary.failed, "import finished");
        Ok(summary)
    }

    /// Sends a run's failed rows again, as a new run linked to it: from its
    /// error file, or from `file` (that file fixed by hand). Rows keep the
    /// line they had in the first file.
    pub async fn retry_import(
        &self,
        run: &str,
        file: Option<PathBuf>,
        host: &dyn RunHost,
        cancel: &Cancel,
        on_start: impl FnOnce(&str),
    ) -> Result<RunSummary> {
        let first = self.run(run)?;
        let mut spec: ImportSpec = self
            .run_spec(&first.run)?
            .and_then(|text| serde_json::from_str(&text).ok())
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "run {} is not an import that can be retried",
                    first.run
                ))
            })?;
        if first.failed == 0 && file.is_none() {
            return Err(Error::Invalid(format!(
                "run {} has no failed rows to retry",
                first.run
            )));
        }
        // Our error file is UTF-8 with commas, whatever the first file was.
        spec.file = file.unwrap_or_else(|| PathBuf::from(&first.error_file));
        spec.encoding = EncodingChoice::Auto;
        spec.delimiter = DelimiterChoice::Auto;
        spec.dry_run = false;
        spec.results = None;
        spec.retry_of = Some(first.run.clone());
        self.import(&spec, host, cancel, on_start).await
    }

    /// Reads what the org holds for a batch: in a dry run every row gets
    /// its predicted outcome; with `--only-changed` the rows that would
    /// change nothing are settled, and the rest answered to be sent.
    async fn screen_batch(
        &self,
        client: &salesforce::Client,
        plan: &Plan,
        batch: Batch,
        spec: &ImportSpec,
    ) -> std::result::Result<
        (Vec<Screened>, Batch, Vec<lookup::Existing>, ScreenCalls),
        (salesforce::Error, Batch),
    > {
        let records: Vec<&serde_json::Map<String, Value>> = batch.iter().map(|(_, r)| r).collect();
        let mut calls = ScreenCalls::default();
        let before = client.calls_sent();
        let found = match lookup::existing(client, plan, &records).await {
            Ok(f) => f,
            Err(e) => return Err((e, batch)),
        };
        calls.existing = client.calls_sent() - before;
        let before = client.calls_sent();
        let parents = if spec.dry_run {
            match lookup::missing_parents(client, plan, &records).await {
                Ok(p) => p,
                Err(e) => return Err((e, batch)),
            }
        } else {
            vec![vec![]; batch.len()]
        };
        calls.parents = client.calls_sent() - before;
        // A real run screens only with --only-changed; it checks no parent.
        let real_run_screens =
            spec.only_changed && matches!(plan.operation, Operation::Update | Operation::Upsert);
        let mut settled = vec![];
        let mut to_send = vec![];
        let mut to_send_found = vec![];
        let op = plan.operation;
        for (((row, mut record), existing), missing) in batch.into_iter().zip(found).zip(parents) {
            let id_of = |r: &serde_json::Map<String, Value>| {
                r.get("Id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let verdict = match (&existing, op) {
                (lookup::Existing::Many, _) => Err(format!(
                    "DUPLICATE_EXTERNAL_ID: more than one {} has this {}",
                    plan.object,
                    plan.external_id.as_deref().unwrap_or("key")
                )),
                (lookup::Existing::None, Operation::Insert | Operation::Upsert) => {
                    Ok((String::new(), Action::Create))
                }
                (lookup::Existing::None, _) => Err(format!(
                    "NOT_FOUND: no {} with Id {}",
                    plan.object,
                    id_of(&record)
                )),
                (lookup::Existing::Found { id, .. }, Operation::Delete | Operation::HardDelete) => {
                    Ok((id.clone(), Action::Delete))
                }
                (
                    lookup::Existing::Found {
                        id,
                        record: current,
                    },
                    _,
                ) => {
                    let same = lookup::unchanged(plan, &record, current);
                    if same && spec.only_changed {
                        Ok((id.clone(), Action::Unchanged))
                    } else {
                        Ok((id.clone(), Action::Update))
                    }
                }
            };
            // What the row's record as read decides: a real run with
            // --only-changed screens the same, before any parent is nulled,
            // and holds back what it settles here.
            let real_run_holds_back =
                real_run_screens && matches!(verdict, Err(_) | Ok((_, Action::Unchanged)));
            if !real_run_holds_back {
                calls.rows_a_real_run_sends += 1;
            }
            if !missing.is_empty() && spec.null_missing_parents {
                lookup::null_missing(&mut record, &missing);
            } else if !missing.is_empty() {
                let why: Vec<&str> = missing.iter().map(|m| m.why.as_str()).collect();
                settled.push(Screened::Rejected {
                    row,
                    why: why.join("; "),
                });
                continue;
            }
            match verdict {
                Err(why) => settled.push(Screened::Rejected { row, why }),
                Ok((id, action)) if spec.dry_run || action == Action::Unchanged => {
                    settled.push(Screened::Done { row, id, action })
                }
                Ok(_) => {
                    to_send.push((row, record));
                    to_send_found.push(existing);
                }
            }
        }
        Ok((settled, to_send, to_send_found, calls))
    }

    /// Writes one answered row to the result files and the undo journal.
    /// Looks up, by their external id, inserts that were in flight when the
    /// run stopped.
    async fn recover_inserts(
        &self,
        client: &salesforce::Client,
        plan: &Plan,
        key: &str,
        rows: Batch,
    ) -> Vec<(Row, serde_json::Map<String, Value>, Recovered)> {
        let values: Vec<String> = rows
            .iter()
            .filter_map(|(_, r)| r.get(key).and_then(Value::as_str).map(str::to_string))
            .collect();
        let found =
            lookup::query_in(client, &plan.object, &format!("Id, {key}"), key, &values).await;
        let mut by_value: std::collections::HashMap<String, Vec<String>> = Default::default();
        let failed = match found {
            Ok(records) => {
                for r in records {
                    if let (Some(v), Some(id)) = (
                        r.get(key).and_then(Value::as_str),
                        r.get("Id").and_then(Value::as_str),
                    ) {
                        by_value
                            .entry(v.to_lowercase())
                            .or_default()
                            .push(id.to_string());
                    }
                }
                None
            }
            Err(e) => Some(e.to_string()),
        };
        rows.into_iter()
            .map(|(row, record)| {
                let value = record.get(key).and_then(Value::as_str).unwrap_or_default().to_lowercase();
                let outcome = match (&failed, by_value.get(&value)) {
                    (Some(e), _) => Recovered::Unknown(format!(
                        "the run stopped while this row was being sent, and looking it up by {key} failed ({e}); look the record up before sending it again"
                    )),
                    (None, None) => Recovered::Missing,
                    (None, Some(ids)) if ids.len() == 1 => Recovered::Created(ids[0].clone()),
                    (None, Some(_)) => Recovered::Unknown(format!(
                        "the run stopped while this row was being sent, and several records have its {key}; check them before sending it again"
                    )),
                };
                (row, record, outcome)
            })
            .collect()
    }

    /// Settles a batch's rows with their answers, in order.
    /// Settles rows Salesforce answered (or did not): each to its result
    /// file and, when it wrote a record, to the undo journal.
    #[allow(clippy::too_many_arguments)]
    fn settle_rows(
        &self,
        plan: &Plan,
        spec: &ImportSpec,
        sink: &mut Sink<'_>,
        rows: Batch,
        answers: Vec<RowOutcome>,
        before: impl IntoIterator<Item = lookup::Existing>,
    ) -> Result<()> {
        let mut settled = settle::Settled::default();
        let mut bytes = vec![];
        for (((row, record), answer), before) in rows.into_iter().zip(answers).zip(before) {
            bytes.clear();
            settle::prefix(&mut bytes, &sink.results.keep, &row.cells, row.line);
            let p = bytes.len();
            let (a, b) = undo::images(plan, &record, &before, &mut bytes)?;
            let ready = settle::Ready {
                line: row.line,
                prefix: &bytes[..p],
                after: &bytes[p..p + a],
                before: &bytes[p + a..p + a + b],
            };
            settled.row(plan.operation, !spec.dry_run, ready, answer)?;
        }
        sink.journal.write(&settled.journal)?;
        sink.results.take(sink.summary, &settled)
    }

    /// One REST request for the batch.
    async fn send_batch(
        &self,
        client: &salesforce::Client,
        plan: &Plan,
        batch: &[(Row, serde_json::Map<String, Value>)],
    ) -> salesforce::Result<Vec<RowOutcome>> {
        let records: Vec<Value> = batch
            .iter()
            .map(|(_, r)| Value::Object(r.clone()))
            .collect();
        let answers = match plan.operation {
            Operation::Insert => {
                client
                    .write_many(&plan.object, Collection::Create, &records, false)
                    .await
            }
            Operation::Update => {
                client
                    .write_many(&plan.object, Collection::Update, &records, false)
                    .await
            }
            Operation::Upsert => {
                let field = plan.external_id.clone().unwrap_or_else(|| "Id".into());
                client
                    .write_many(
                        &plan.object,
                        Collection::Upsert {
                            external_id_field: field,
                        },
                        &records,
                        false,
                    )
                    .await
            }
            Operation::Delete | Operation::HardDelete => {
                let ids: Vec<String> = batch
                    .iter()
                    .map(|(_, r)| r["Id"].as_str().unwrap_or_default().to_string())
                    .collect();
                client.delete_many(&ids, false).await
            }
        };
        match answers {
            Ok(a) => Ok(a.into_iter().map(RowOutcome::Done).collect()),
            // Never sent again blindly: the user looks these up.
            Err(salesforce::Error::OutcomeUnknown { what }) => {
                let why = format!(
                    "the connection dropped before Salesforce answered the {what}; look these records up before sending them again"
                );
                Ok(batch
                    .iter()
                    .map(|_| RowOutcome::Unknown(why.clone()))
                    .collect())
            }
            Err(e) => Err(e),
        }
    }

    /// Opens a Bulk API 2.0 job for the part, uploads it and closes it;
    /// answers the job, the columns sent and each row's `Matcher` key.
    async fn launch_part(
        &self,
        client: &salesforce::Client,
        plan: &Plan,
        part: &mut Part,
        on_job: &(dyn Fn(&str) -> Result<()> + Sync),
    ) -> std::result::Result<(String, Vec<String>, Vec<bulk_csv::Key>), NotLaunched> {
        match part {
            Part::Records(rows, _) => self.launch_records(client, plan, rows, on_job).await,
            Part::Packed(rows, packer) => {
                let data = packer.csv(rows);
                let job = self
                    .launch_bulk_job(client, plan, &data, rows.len(), on_job)
                    .await?;
                Ok((job, packer.columns(), std::mem::take(&mut rows.keys)))
            }
        }
    }

    /// `launch_part` for records.
    async fn launch_records(
        &self,
        client: &salesforce::Client,
        plan: &Plan,
        batch: &[(Row, serde_json::Map<String, Value>)],
        on_job: &(dyn Fn(&str) -> Result<()> + Sync),
    ) -> std::result::Result<(String, Vec<String>, Vec<bulk_csv::Key>), NotLaunched> {
        let columns = bulk_csv::columns(plan, batch);
        let (data, keys) = bulk_csv::write(&columns, batch)
            .map_err(|e| salesforce::Error::Local(format!("building the Bulk CSV: {e}")))?;
        let job = self
            .launch_bulk_job(client, plan, &data, batch.len(), on_job)
            .await?;
        Ok((job, columns, keys))
    }

    /// Opens a Bulk API 2.0 job, uploads `data` (a CSV of `rows` rows) and
    /// closes the job; answers its id.
    async fn launch_bulk_job(
        &self,
        client: &salesforce::Client,
        plan: &Plan,
        data: &[u8],
        rows: usize,
        on_job: &(dyn Fn(&str) -> Result<()> + Sync),
    ) -> std::result::Result<String, NotLaunched> {
        let spec = salesforce::Ingest {
            object: plan.object.clone(),
            operation: match plan.operation {
                Operation::Insert => "insert",
                Operation::Update => "update",
                Operation::Upsert => "upsert",
                Operation::Delete => "delete",
                Operation::HardDelete => "hardDelete",
            }
            .into(),
            external_id_field: plan.external_id.clone(),
            timeout: BULK_JOB_TIMEOUT,
        };
        let mut attempt = 0;
        let job = loop {
            attempt += 1;
            let job = client.bulk_create_job(&spec, "LF").await?;
            tracing::info!(job = %job, rows, "bulk job opened");
            // Saved before any data is sent: a resume reads this job's results.
            on_job(&job).map_err(|e| salesforce::Error::Local(e.to_string()))?;
            match client.bulk_upload(&job, data).await {
                Ok(()) => break job,
                Err(e) => {
                    // An aborted job processes nothing: the part can go
                    // again in a new one, never twice in this one.
                    let _ = client.bulk_set_state(&job, "Aborted").await;
                    if attempt >= UPLOAD_ATTEMPTS || !upload_may_go_again(&e) {
                        return Err(e.into());
                    }
                    tracing::warn!(job = %job, "the upload failed ({e}); the part goes in a new job");
                }
            }
        };
        match client.bulk_close(&job).await {
            Ok(()) => Ok(job),
            Err(error) => Err(NotLaunched {
                error,
                unclosed: Some(job),
            }),
        }
    }

    /// Waits for a job sent before and settles its rows, reading the next
    /// batch meanwhile (`ahead`).
    #[allow(clippy::too_many_arguments)]
    async fn land(
        &self,
        plan: &Plan,
        spec: &ImportSpec,
        mut sent: Launched,
        sink: &mut Sink<'_>,
        ahead: Option<(&mut Intake<'_>, &mut Read)>,
        batch: usize,
        lock_tries: &mut std::collections::HashMap<u64, u32>,
    ) -> Result<Landed> {
        let Some(outcomes) = sent.answers.take() else {
            let why = format!("job {} was settled before", sent.job);
            return Ok(Landed::Unread(salesforce::Error::Local(why)));
        };
        let (answered, read_ahead) = match ahead {
            Some((intake, read)) => {
                tokio::join!(
                    outcomes,
                    intake.fill(batch, read, sink.summary, sink.results)
                )
            }
            None => (outcomes.await, Ok(())),
        };
        read_ahead?;
        let (sent, mut settled, held) = match answered {
            Ok(Ok(settled)) => settled,
            Ok(Err(e)) => return Ok(Landed::Unread(e)),
            Err(e) => {
                let why = format!("reading the results of job {} stopped: {e}", sent.job);
                return Ok(Landed::Unread(salesforce::Error::Local(why)));
            }
        };
        let mut again = vec![];
        for (i, answer) in held {
            // A row lock held elsewhere: the row was not written, and goes
            // in a later job.
            let tries = lock_tries.entry(sent.ready(i).line).or_default();
            *tries += 1;
            if *tries < LOCK_ATTEMPTS {
                let results = &sink.results;
                if let Ok(row) = sent.again(i, plan, &results.keep, results.width) {
                    again.push(row);
                    continue;
                }
            }
            settled.row(plan.operation, !spec.dry_run, sent.ready(i), answer)?;
        }
        sink.journal.write(&settled.journal)?;
        sink.journal.flush()?;
        sink.results.take(sink.summary, &settled)?;
        sink.results.flush()?;
        Ok(Landed::Settled { again })
    }

    /// The Bulk job a stopped run had open, settled: waited for when it
    /// was complete, aborted and sent again in a new job (`on_job` told of
    /// it) when its upload was not.
    async fn settle_bulk_job(
        &self,
        client: &salesforce::Client,
        plan: &Plan,
        batch: &[(Row, serde_json::Map<String, Value>)],
        job: &str,
        on_job: &(dyn Fn(&str) -> Result<()> + Sync),
    ) -> std::result::Result<Vec<RowOutcome>, NotLaunched> {
        let info = client
            .request(
                reqwest::Method::GET,
                &format!("jobs/ingest/{job}"),
                &[],
                None,
            )
            .await?
            .unwrap_or(Value::Null);
        let (job, columns, keys) = if info["state"] == "Open" {
            // Its upload never finished: nothing of it was processed.
            client.bulk_set_state(job, "Aborted").await?;
            self.launch_records(client, plan, batch, on_job).await?
        } else {
            let columns = bulk_csv::columns(plan, batch);
            let keys = bulk_csv::keys(&columns, batch);
            (job.to_string(), columns, keys)
        };
        Ok(bulk_outcomes(client, &job, &columns, keys).await?)
    }
}

/// On a task of its own: makes a job's rows compact (`sent`), waits for
/// the job, matches its results to the rows and settles them.
fn settle_beside(
    client: &salesforce::Client,
    job: &str,
    columns: Vec<String>,
    keys: Vec<bulk_csv::Key>,
    operation: Operation,
    journal: bool,
    sent: impl FnOnce() -> Result<settle::Sent> + Send + 'static,
) -> tokio::task::JoinHandle<Answered> {
    let (client, job) = (client.clone(), job.to_string());
    tokio::spawn(async move {
        let local = |e: Error| salesforce::Error::Local(e.to_string());
        let sent = sent().map_err(local)?;
        let answers = bulk_outcomes(&client, &job, &columns, keys).await?;
        let (settled, held) = sent.settle(operation, journal, answers).map_err(local)?;
        Ok((sent, settled, held))
    })
}

/// Waits for a Bulk job and matches its results to the rows sent, by
/// their keys (`keys[i]` row i's, as `bulk_csv` makes them).
async fn bulk_outcomes(
    client: &salesforce::Client,
    job: &str,
    columns: &[String],
    keys: Vec<bulk_csv::Key>,
) -> salesforce::Result<Vec<RowOutcome>> {
    let rows = keys.len();
    let mut waiting = bulk_csv::Matcher::new(keys);
    let job = job.to_string();
    let outcome = client.bulk_wait(&job, BULK_JOB_TIMEOUT).await?;
    let mut out: Vec<Option<RowOutcome>> = (0..rows).map(|_| None).collect();
    for kind in ["successfulResults", "failedResults", "unprocessedrecords"] {
        let mut bytes: Vec<u8> = vec![];
        client.bulk_results(&job, kind, &mut bytes).await?;
        let mut r = csv::ReaderBuilder::new().from_reader(&bytes[..]);
        let header: Vec<String> = r
            .headers()
            .map(|h| h.iter().map(str::to_string).collect())
            .unwrap_or_default();
        let at: Vec<Option<usize>> = columns
            .iter()
            .map(|c| header.iter().position(|h| h == c))
            .collect();
        let sf = |name: &str| header.iter().position(|h| h == name);
        let (id_at, created_at, error_at) = (sf("sf__Id"), sf("sf__Created"), sf("sf__Error"));
        let mut rec = csv::StringRecord::new();
        while r
            .read_record(&mut rec)
            .map_err(|e| salesforce::Error::Protocol(format!("{kind} of job {job}: {e}")))?
        {
            let echoed = at
                .iter()
                .map(|i| i.and_then(|i| rec.get(i)).unwrap_or_default());
            let Some(i) = waiting.take(echoed) else {
                tracing::warn!(job = %job, kind, "a result row matches no row sent");
                continue;
            };
            let field =
                |at: Option<usize>| at.and_then(|a| rec.get(a)).unwrap_or_default().to_string();
            let result = match kind {
                "successfulResults" => RecordResult {
                    id: Some(field(id_at)).filter(|s| !s.is_empty()),
                    success: true,
                    created: Some(field(created_at).eq_ignore_ascii_case("true")),
                    errors: vec![],
                },
                "failedResults" => {
                    let text = field(error_at);
                    let (code, message) = text.split_once(':').unwrap_or(("BULK_ERROR", &text));
                    RecordResult {
                        id: Some(field(id_at)).filter(|s| !s.is_empty()),
                        success: false,
                        created: None,
                        errors: vec![salesforce::RecordError {
                            code: code.to_string(),
                            message: message.trim_end_matches(" --").to_string(),
                            fields: vec![],
                        }],
                    }
                }
                _ => RecordResult {
                    id: None,
                    success: false,
                    created: None,
                    errors: vec![salesforce::RecordError {
                        code: "NOT_PROCESSED".into(),
                        message: format!(
                            "job {job} ended {} before this row was processed{}",
                            outcome.state,
                            outcome
                                .error_message
                                .as_deref()
                                .map(|m| format!(": {m}"))
                                .unwrap_or_default()
                        ),
                        fields: vec![],
                    }],
                },
            };
            out[i] = Some(RowOutcome::Done(result));
        }
    }
    let missing =
        format!("job {job} reported nothing for this row; look it up before sending it again");
    Ok(out
        .into_iter()
        .map(|o| o.unwrap_or_else(|| RowOutcome::Unknown(missing.clone())))
        .collect())
}
