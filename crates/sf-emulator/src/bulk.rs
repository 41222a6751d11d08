//! Bulk API 2.0: ingest jobs (CSV in, per-row results out) and query jobs
//! (CSV pages behind `Sforce-Locator`). Jobs are processed off the request
//! path in chunks, releasing the org between chunks as Salesforce's own
//! batches do. An ingest job's upload and its three result files live on
//! disk (`Spool`), read and written a row at a time: a 150 MB job costs the
//! emulator no more memory than a small one.

use crate::ids::{make_id, parse_id};
use crate::org::{Org, RecordError};
use crate::query::Plan;
use crate::schema::SysField;
use crate::values::{Val, format_datetime};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::sync::Arc;

/// A file the emulator keeps for a job (its upload, or one of its result
/// files), removed when the job goes. `len` is what has been written and
/// flushed: a reader never sees a half-written row.
#[derive(Debug, Clone)]
pub struct Spool {
    file: Arc<tempfile::NamedTempFile>,
    pub len: u64,
}

impl Spool {
    pub fn new() -> std::io::Result<Spool> {
        Ok(Spool {
            file: Arc::new(tempfile::NamedTempFile::new()?),
            len: 0,
        })
    }

    /// A spool holding `data` (tests, and jobs made in code).
    pub fn from_bytes(data: &[u8]) -> std::io::Result<Spool> {
        let mut spool = Spool::new()?;
        spool.writer()?.write_all(data)?;
        spool.len = data.len() as u64;
        Ok(spool)
    }

    pub fn path(&self) -> &std::path::Path {
        self.file.path()
    }

    /// A writer at the end of what is there; `len` is the caller's to move.
    pub fn writer(&self) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new().append(true).open(self.path())
    }

    /// The first `len` bytes, buffered.
    pub fn reader(&self) -> std::io::Result<std::io::Take<BufReader<std::fs::File>>> {
        let f = std::fs::File::open(self.path())?;
        Ok(BufReader::with_capacity(1 << 16, f).take(self.len))
    }

    /// Drops anything written past `len` (an upload refused half way).
    pub fn truncate(&self) -> std::io::Result<()> {
        std::fs::OpenOptions::new()
            .write(true)
            .open(self.path())?
            .set_len(self.len)
    }
}

/// An ingest job's three result files, as `GET .../successfulResults`,
/// `failedResults` and `unprocessedrecords` answer them (header first).
#[derive(Debug, Clone)]
pub struct ResultSpools {
    pub successful: Spool,
    pub failed: Spool,
    pub unprocessed: Spool,
}

#[derive(Debug)]
pub struct IngestJob {
    pub id: String,
    pub object: String,
    pub key_prefix: String,
    pub operation: String,
    pub external_id_field: Option<String>,
    pub line_ending: String,
    pub column_delimiter: String,
    pub state: String,
    pub created: i64,
    pub modstamp: i64,
    pub created_by: u64,
    pub api_version: String,
    /// The CSV uploaded so far.
    pub upload: Spool,
    /// An upload is being received (a second one at once is refused).
    pub uploading: bool,
    /// Set once processing starts.
    pub results: Option<ResultSpools>,
    pub processed: u64,
    pub failed: u64,
    pub error_message: Option<String>,
    pub processing_ms: u64,
}

#[derive(Debug, Clone)]
pub struct QueryJob {
    pub id: String,
    pub operation: String,
    pub object: String,
    pub query: String,
    pub state: String,
    pub created: i64,
    pub modstamp: i64,
    pub created_by: u64,
    pub api_version: String,
    pub column_delimiter: String,
    pub line_ending: String,
    pub plan: Arc<Plan>,
    pub nums: Option<Arc<Vec<u64>>>,
    pub processing_ms: u64,
}

#[derive(Debug, Default)]
pub struct Jobs {
    pub ingest: HashMap<String, IngestJob>,
    pub query: HashMap<String, QueryJob>,
}

pub fn delimiter_byte(name: &str) -> Option<u8> {
    Some(match name {
        "COMMA" => b',',
        "TAB" => b'\t',
        "PIPE" => b'|',
        "SEMICOLON" => b';',
        "CARET" => b'^',
        "BACKQUOTE" => b'`',
        _ => return None,
    })
}

impl IngestJob {
    pub fn info(&self, full: bool) -> serde_json::Value {
        let mut v = json!({
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": make_id("005", self.created_by),
            "createdDate": format_datetime(self.created),
            "systemModstamp": format_datetime(self.modstamp),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": self.api_version.parse::<f64>().unwrap_or(62.0),
            "contentUrl": format!("services/data/v{}/jobs/ingest/{}/batches", self.api_version, self.id),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        });
        let m = v.as_object_mut().expect("object");
        if let Some(ext) = &self.external_id_field {
            m.insert("externalIdFieldName".into(), json!(ext));
        }
        if full {
            m.insert("jobType".into(), json!("V2Ingest"));
            m.insert("numberRecordsProcessed".into(), json!(self.processed));
            m.insert("numberRecordsFailed".into(), json!(self.failed));
            m.insert("retries".into(), json!(0));
            m.insert("totalProcessingTime".into(), json!(self.processing_ms));
            m.insert("apiActiveProcessingTime".into(), json!(self.processing_ms));
            m.insert("apexProcessingTime".into(), json!(0));
            if let Some(e) = &self.error_message {
                m.insert("errorMessage".into(), json!(e));
            }
        }
        v
    }

    pub fn delimiter(&self) -> u8 {
        delimiter_byte(&self.column_delimiter).unwrap_or(b',')
    }

    fn eol(&self) -> &'static str {
        if self.line_ending == "CRLF" {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// The result file `kind` names (`successfulResults`, `failedResults`
    /// or `unprocessedrecords`); none before processing starts, as on
    /// Salesforce, where they are then only a header.
    pub fn result_spool(&self, kind: &str) -> Option<&Spool> {
        let r = self.results.as_ref()?;
        Some(match kind {
            "successfulResults" => &r.successful,
            "failedResults" => &r.failed,
            _ => &r.unprocessed,
        })
    }

    /// A result file read whole (small jobs and tests; the HTTP layer
    /// streams it instead).
    pub fn results_csv(&self, kind: &str) -> std::io::Result<Vec<u8>> {
        let mut out = vec![];
        if let Some(spool) = self.result_spool(kind) {
            spool.reader()?.read_to_end(&mut out)?;
        }
        Ok(out)
    }
}

impl QueryJob {
    pub fn info(&self, full: bool) -> serde_json::Value {
        let mut v = json!({
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": make_id("005", self.created_by),
            "createdDate": format_datetime(self.created),
            "systemModstamp": format_datetime(self.modstamp),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": self.api_version.parse::<f64>().unwrap_or(62.0),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        });
        if full {
            let m = v.as_object_mut().expect("object");
            m.insert("jobType".into(), json!("V2Query"));
            m.insert(
                "numberRecordsProcessed".into(),
                json!(self.nums.as_ref().map(|n| n.len()).unwrap_or(0)),
            );
            m.insert("retries".into(), json!(0));
            m.insert("totalProcessingTime".into(), json!(self.processing_ms));
        }
        v
    }
}

fn trim_eol(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && (b[end - 1] == b'\n' || b[end - 1] == b'\r') {
        end -= 1;
    }
    &b[..end]
}

/// Without the blank lines before it, which the CSV parser skips: they
/// are no part of the row (a row cannot start with a bare line end).
fn trim_blank_lines(b: &[u8]) -> &[u8] {
    let blank = b.iter().take_while(|&&c| c == b'\n' || c == b'\r').count();
    &b[blank..]
}

/// Where a CSV column goes.
enum Column {
    Field(usize),
    /// `Account.Ext__c`: a lookup set by the parent's external id.
    Parent(String, String),
    Id,
    Ignored,
}

/// Prepared once per job: the column map and the operation.
pub struct IngestPlan {
    obj: usize,
    op: String,
    columns: Vec<Column>,
    id_col: Option<usize>,
    ext_col: Option<(usize, usize)>,
}

/// A job being processed: its rows read from the upload one at a time,
/// each answer written to a result file beside the row as it was sent.
pub struct IngestRun {
    plan: IngestPlan,
    total: usize,
    done: usize,
    /// The rows parsed, and the same bytes read raw to echo them back.
    rows: csv::Reader<std::io::Take<BufReader<std::fs::File>>>,
    raw: std::io::Take<BufReader<std::fs::File>>,
    record: csv::StringRecord,
    line: Vec<u8>,
    out: [BufWriter<std::fs::File>; 3],
    written: [u64; 3],
    key_prefix: String,
    delimiter: char,
    eol: &'static str,
}

/// Reads the job's CSV and maps its columns. A job-level problem (bad
/// header, wrong line ending) fails the whole job with Salesforce's message.
/// What went wrong reading or writing a job's files: the job fails.
fn disk(e: std::io::Error) -> String {
    format!("InternalServerError : the job's data could not be read or written: {e}")
}

/// Whether the upload holds a CRLF, and whether it holds a line feed at all.
fn line_endings(upload: &Spool) -> std::io::Result<(bool, bool)> {
    let mut r = upload.reader()?;
    let (mut crlf, mut lf, mut last) = (false, false, 0u8);
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((crlf, lf));
        }
        lf |= buf.contains(&b'\n');
        crlf |= (last == b'\r' && buf[0] == b'\n') || buf.windows(2).any(|w| w == b"\r\n");
        last = buf[buf.len() - 1];
        let n = buf.len();
        r.consume(n);
    }
}

fn csv_reader<R: Read>(delimiter: u8, from: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(from)
}

/// Reads the job's upload through once, before any row is written: a
/// job-level problem (wrong line ending, a header or a row that is not
/// CSV) fails the whole job with Salesforce's message. Answers the rows.
/// Needs no lock: only the job's own file is read.
pub fn scan_upload(upload: &Spool, delimiter: u8, line_ending: &str) -> Result<usize, String> {
    let (crlf_in_data, lf_in_data) = line_endings(upload).map_err(disk)?;
    if line_ending == "LF" && crlf_in_data {
        return Err("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF".into());
    }
    if line_ending == "CRLF" && !crlf_in_data && lf_in_data {
        return Err("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is CRLF".into());
    }
    let mut reader = csv_reader(delimiter, upload.reader().map_err(disk)?);
    reader
        .headers()
        .map_err(|e| format!("InvalidBatch : Failed to parse header: {e}"))?;
    let mut total = 0usize;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => total += 1,
            Ok(false) => return Ok(total),
            Err(e) => {
                return Err(format!(
                    "ClientInputError : CSV error at line {}: {e}",
                    total + 2
                ));
            }
        }
    }
}

/// `scan_upload` then `prepare_scanned`, for a job processed in one go.
pub fn prepare_ingest(org: &Org, job: &mut IngestJob) -> Result<IngestRun, String> {
    let total = scan_upload(&job.upload, job.delimiter(), &job.line_ending)?;
    prepare_scanned(org, job, total)
}

/// Maps the columns of a scanned upload of `total` rows to the object's
/// fields, and opens the job's result files.
pub fn prepare_scanned(org: &Org, job: &mut IngestJob, total: usize) -> Result<IngestRun, String> {
    let obj = org
        .object(&job.object)
        .ok_or_else(|| format!("InvalidJob : Unable to find object: {}", job.object))?;
    let mut reader = csv_reader(job.delimiter(), job.upload.reader().map_err(disk)?);
    let headers = reader
        .headers()
        .map_err(|e| format!("InvalidBatch : Failed to parse header: {e}"))?
        .clone();
    let header_end = reader.position().byte();
    let def = org.def(obj);
    let mut columns = vec![];
    let mut id_col = None;
    let mut ext_col = None;
    let mut seen = std::collections::HashSet::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim();
        if !seen.insert(h.to_ascii_lowercase()) {
            return Err(format!(
                "InvalidBatch : Duplicate header found in the file: {h}"
            ));
        }
        if h.eq_ignore_ascii_case("Id") {
            id_col = Some(i);
            columns.push(Column::Id);
            continue;
        }
        if let Some((rel, ext)) = h.split_once('.') {
            if def.relationship(rel).is_none() {
                return Err(format!("InvalidBatch : Field name not found : {h}"));
            }
            columns.push(Column::Parent(rel.to_string(), ext.to_string()));
            continue;
        }
        match def.field(h) {
            Some(fi) => {
                if job
                    .external_id_field
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(h))
                {
                    ext_col = Some((i, fi));
                }
                if job.operation == "delete" || job.operation == "hardDelete" {
                    columns.push(Column::Ignored);
                } else {
                    let f = &def.fields[fi];
                    let writable = f.createable || f.updateable;
                    if !writable {
                        return Err(format!("InvalidBatch : Field name not found : {h}"));
                    }
                    columns.push(Column::Field(fi));
                }
            }
            None => return Err(format!("InvalidBatch : Field name not found : {h}")),
        }
    }
    match job.operation.as_str() {
        "update" | "delete" | "hardDelete" if id_col.is_none() => {
            return Err("InvalidBatch : Field name not found : Id".into());
        }
        "upsert"
            if ext_col.is_none()
                && !(job.external_id_field.as_deref() == Some("Id") && id_col.is_some()) =>
        {
            return Err(format!(
                "InvalidBatch : Field name not found : {}",
                job.external_id_field.clone().unwrap_or_default()
            ));
        }
        _ => {}
    }
    let plan = IngestPlan {
        obj,
        op: job.operation.clone(),
        columns,
        id_col,
        ext_col,
    };
    // The header every result file starts with.
    let mut header = vec![];
    job.upload
        .reader()
        .map_err(disk)?
        .take(header_end)
        .read_to_end(&mut header)
        .map_err(disk)?;
    let header = trim_blank_lines(trim_eol(&header));
    let d = job.delimiter() as char;
    let eol = job.eol();
    let mut first_lines = [
        format!("\"sf__Id\"{d}\"sf__Created\"").into_bytes(),
        format!("\"sf__Id\"{d}\"sf__Error\"").into_bytes(),
        vec![],
    ];
    for (i, line) in first_lines.iter_mut().enumerate() {
        if !header.is_empty() {
            if i < 2 {
                line.push(d as u8);
            }
            line.extend_from_slice(header);
        }
        line.extend_from_slice(eol.as_bytes());
    }
    let spools = [
        Spool::from_bytes(&first_lines[0]),
        Spool::from_bytes(&first_lines[1]),
        Spool::from_bytes(&first_lines[2]),
    ];
    let [Ok(successful), Ok(failed), Ok(unprocessed)] = spools else {
        return Err(disk(std::io::Error::other("cannot create result files")));
    };
    let writer = |s: &Spool| s.writer().map(|f| BufWriter::with_capacity(1 << 16, f));
    let out = [
        writer(&successful).map_err(disk)?,
        writer(&failed).map_err(disk)?,
        writer(&unprocessed).map_err(disk)?,
    ];
    let written = [successful.len, failed.len, unprocessed.len];
    let mut rows = csv_reader(job.delimiter(), job.upload.reader().map_err(disk)?);
    rows.headers().map_err(|e| disk(std::io::Error::other(e)))?;
    let mut raw = job.upload.reader().map_err(disk)?;
    std::io::copy(&mut (&mut raw).take(header_end), &mut std::io::sink()).map_err(disk)?;
    job.results = Some(ResultSpools {
        successful,
        failed,
        unprocessed,
    });
    Ok(IngestRun {
        plan,
        total,
        done: 0,
        rows,
        raw,
        record: csv::StringRecord::new(),
        line: vec![],
        out,
        written,
        key_prefix: job.key_prefix.clone(),
        delimiter: d,
        eol,
    })
}

/// What one chunk of a job did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub processed: u64,
    pub failed: u64,
}

impl IngestRun {
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Whether every row has been answered.
    pub fn finished(&self) -> bool {
        self.done >= self.total
    }

    /// Lets the job's result requests read what has been written so far.
    pub fn publish(&self, job: &mut IngestJob) {
        if let Some(r) = job.results.as_mut() {
            r.successful.len = self.written[0];
            r.failed.len = self.written[1];
            r.unprocessed.len = self.written[2];
        }
    }

    /// Reads the next row and its bytes as sent (without its line end).
    fn next_row(&mut self) -> std::io::Result<bool> {
        let start = self.rows.position().byte();
        if !self
            .rows
            .read_record(&mut self.record)
            .map_err(std::io::Error::other)?
        {
            return Ok(false);
        }
        let end = self.rows.position().byte();
        self.line.clear();
        (&mut self.raw)
            .take(end - start)
            .read_to_end(&mut self.line)?;
        let kept = trim_eol(&self.line).len();
        self.line.truncate(kept);
        let blank = self.line.len() - trim_blank_lines(&self.line).len();
        self.line.drain(..blank);
        Ok(true)
    }

    fn write(&mut self, file: usize, prefix: &[u8]) -> std::io::Result<()> {
        let w = &mut self.out[file];
        w.write_all(prefix)?;
        w.write_all(&self.line)?;
        w.write_all(self.eol.as_bytes())?;
        self.written[file] += (prefix.len() + self.line.len() + self.eol.len()) as u64;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.iter_mut().try_for_each(|w| w.flush())
    }

    /// Processes up to `rows` more rows, each answer flushed to its result
    /// file before this returns.
    pub fn process(&mut self, org: &mut Org, rows: usize, user: u64) -> std::io::Result<Chunk> {
        let mut chunk = Chunk::default();
        let d = self.delimiter;
        while chunk.processed < rows as u64 && self.next_row()? {
            let prefix = match self.plan.process_row(org, &self.record, user) {
                Ok((num, created)) => (
                    0,
                    format!("\"{}\"{d}\"{created}\"{d}", make_id(&self.key_prefix, num)),
                ),
                Err((num, e)) => {
                    chunk.failed += 1;
                    let id = num
                        .map(|n| make_id(&self.key_prefix, n))
                        .unwrap_or_default();
                    let error = format!("{}:{}:{} --", e.code, e.message, e.fields.join(","));
                    (
                        1,
                        format!("\"{id}\"{d}\"{}\"{d}", error.replace('"', "\"\"")),
                    )
                }
            };
            self.write(prefix.0, prefix.1.as_bytes())?;
            chunk.processed += 1;
            self.done += 1;
        }
        self.flush()?;
        Ok(chunk)
    }

    /// The rows not processed (the job was aborted): `unprocessedrecords`.
    pub fn leave_the_rest(&mut self) -> std::io::Result<()> {
        while self.next_row()? {
            self.write(2, b"")?;
            self.done += 1;
        }
        self.flush()
    }
}

impl IngestPlan {
    fn values(
        &self,
        org: &Org,
        rec: &csv::StringRecord,
        creating: bool,
    ) -> Result<Vec<(usize, Val)>, RecordError> {
        let mut out = Vec::with_capacity(rec.len());
        for (i, cell) in rec.iter().enumerate() {
            match &self.columns[i] {
                Column::Field(fi) => {
                    if cell == "#N/A" {
                        out.push((*fi, Val::Null));
                    } else if cell.is_empty() {
                        if creating {
                            continue;
                        }
                    } else {
                        let f = &org.def(self.obj).fields[*fi];
                        if !(if creating { f.createable } else { f.updateable }) {
                            continue;
                        }
                        out.push((*fi, org.coerce_text(self.obj, *fi, cell)?));
                    }
                }
                Column::Parent(rel, ext) => {
                    if !cell.is_empty() {
                        out.push(org.resolve_by_external(self.obj, rel, ext, cell)?);
                    }
                }
                Column::Id | Column::Ignored => {}
            }
        }
        Ok(out)
    }

    fn target(
        &self,
        org: &Org,
        rec: &csv::StringRecord,
    ) -> Result<u64, (Option<u64>, RecordError)> {
        let id = self.id_col.and_then(|c| rec.get(c)).unwrap_or("");
        let prefix = &org.def(self.obj).key_prefix;
        match parse_id(id) {
            Some(p) if &p.prefix == prefix => Ok(p.num),
            _ => Err((
                None,
                RecordError::new(
                    "MALFORMED_ID",
                    format!(
                        "{} ID: id value of incorrect type: {id}",
                        org.def(self.obj).label
                    ),
                )
                .with_fields(vec!["Id".into()]),
            )),
        }
    }

    fn process_row(
        &self,
        org: &mut Org,
        rec: &csv::StringRecord,
        user: u64,
    ) -> Result<(u64, bool), (Option<u64>, RecordError)> {
        if let Some(e) = org.lock_row_fault(self.obj) {
            return Err((None, e));
        }
        let prefix = org.def(self.obj).key_prefix.clone();
        let num_of = |id: String| parse_id(&id).expect("own id").num;
        match self.op.as_str() {
            "insert" => {
                let vals = self.values(org, rec, true).map_err(|e| (None, e))?;
                org.insert(self.obj, vals, user)
                    .map(|id| (num_of(id), true))
                    .map_err(|e| (None, e))
            }
            "update" => {
                let num = self.target(org, rec)?;
                let vals = self.values(org, rec, false).map_err(|e| (Some(num), e))?;
                org.update(self.obj, num, vals, user)
                    .map(|_| (num, false))
                    .map_err(|e| (Some(num), e))
            }
            "delete" => {
                let num = self.target(org, rec)?;
                org.delete(self.obj, num)
                    .map(|_| (num, false))
                    .map_err(|e| (Some(num), e))
            }
            "hardDelete" => {
                let num = self.target(org, rec)?;
                org.hard_delete(self.obj, num)
                    .map(|_| (num, false))
                    .map_err(|e| (Some(num), e))
            }
            _ => {
                // upsert
                let matches = match self.ext_col {
                    Some((col, fi)) => {
                        let key = rec.get(col).unwrap_or("");
                        if key.is_empty() {
                            return Err((
                                None,
                                RecordError::new(
                                    "MISSING_ARGUMENT",
                                    format!("{} not specified", org.def(self.obj).fields[fi].name),
                                ),
                            ));
                        }
                        if org.def(self.obj).fields[fi].sys == Some(SysField::Id) {
                            vec![self.target(org, rec)?]
                        } else {
                            org.find_by_field(self.obj, fi, key)
                        }
                    }
                    None => {
                        let id = rec.get(self.id_col.unwrap_or(0)).unwrap_or("");
                        if id.is_empty() {
                            vec![]
                        } else {
                            vec![self.target(org, rec)?]
                        }
                    }
                };
                match matches.as_slice() {
                    [] => {
                        let vals = self.values(org, rec, true).map_err(|e| (None, e))?;
                        org.insert(self.obj, vals, user)
                            .map(|id| (num_of(id), true))
                            .map_err(|e| (None, e))
                    }
                    [num] => {
                        let vals = self.values(org, rec, false).map_err(|e| (Some(*num), e))?;
                        org.update(self.obj, *num, vals, user)
                            .map(|_| (*num, false))
                            .map_err(|e| (Some(*num), e))
                    }
                    many => Err((
                        None,
                        RecordError::new(
                            "DUPLICATE_EXTERNAL_ID",
                            format!(
                                "{}: more than one record found for external id field: [{}]",
                                self.ext_col
                                    .map(|(_, fi)| org.def(self.obj).fields[fi].name.clone())
                                    .unwrap_or_default(),
                                many.iter()
                                    .map(|n| make_id(&prefix, *n))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ),
                    )),
                }
            }
        }
    }
}
