//! Bulk API 2.0: ingest jobs (CSV in, per-row results out) and query jobs
//! (CSV pages behind `Sforce-Locator`). Jobs are processed off the request
//! path in chunks, releasing the org between chunks as Salesforce's own
//! batches do.

use crate::ids::{make_id, parse_id};
use crate::org::{Org, RecordError};
use crate::query::Plan;
use crate::schema::SysField;
use crate::values::{Val, format_datetime};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Outcome {
    Done { num: u64, created: bool },
    Failed { num: Option<u64>, error: String },
    Unprocessed,
}

#[derive(Debug, Clone)]
pub struct RowResult {
    pub start: usize,
    pub end: usize,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
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
    pub data: Vec<u8>,
    pub header_end: usize,
    pub results: Vec<RowResult>,
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

    fn header(&self) -> &[u8] {
        trim_eol(&self.data[..self.header_end])
    }

    fn row(&self, r: &RowResult) -> &[u8] {
        trim_eol(&self.data[r.start..r.end])
    }

    fn delimiter(&self) -> u8 {
        delimiter_byte(&self.column_delimiter).unwrap_or(b',')
    }

    fn eol(&self) -> &'static str {
        if self.line_ending == "CRLF" {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// `successfulResults`, `failedResults` or `unprocessedrecords` as CSV.
    pub fn results_csv(&self, kind: &str) -> Vec<u8> {
        let d = self.delimiter() as char;
        let eol = self.eol();
        let prefix = &self.key_prefix;
        let mut out = Vec::with_capacity(self.results.len() * 64 + 64);
        let header = self.header();
        match kind {
            "successfulResults" => {
                out.extend_from_slice(format!("\"sf__Id\"{d}\"sf__Created\"").as_bytes())
            }
            "failedResults" => {
                out.extend_from_slice(format!("\"sf__Id\"{d}\"sf__Error\"").as_bytes())
            }
            _ => {}
        }
        if !header.is_empty() {
            if kind != "unprocessedrecords" {
                out.push(d as u8);
            }
            out.extend_from_slice(header);
        }
        out.extend_from_slice(eol.as_bytes());
        for r in &self.results {
            match (&r.outcome, kind) {
                (Outcome::Done { num, created }, "successfulResults") => {
                    out.extend_from_slice(
                        format!("\"{}\"{d}\"{}\"{d}", make_id(prefix, *num), created).as_bytes(),
                    );
                }
                (Outcome::Failed { num, error }, "failedResults") => {
                    let id = num.map(|n| make_id(prefix, n)).unwrap_or_default();
                    out.extend_from_slice(
                        format!("\"{id}\"{d}\"{}\"{d}", error.replace('"', "\"\"")).as_bytes(),
                    );
                }
                (Outcome::Unprocessed, "unprocessedrecords") => {}
                _ => continue,
            }
            out.extend_from_slice(self.row(r));
            out.extend_from_slice(eol.as_bytes());
        }
        out
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
    rows: Vec<(usize, usize, csv::StringRecord)>,
}

/// Reads the job's CSV and maps its columns. A job-level problem (bad
/// header, wrong line ending) fails the whole job with Salesforce's message.
pub fn prepare_ingest(org: &Org, job: &mut IngestJob) -> Result<IngestPlan, String> {
    let obj = org
        .object(&job.object)
        .ok_or_else(|| format!("InvalidJob : Unable to find object: {}", job.object))?;
    let crlf_in_data = job.data.windows(2).any(|w| w == b"\r\n");
    if job.line_ending == "LF" && crlf_in_data {
        return Err("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF".into());
    }
    if job.line_ending == "CRLF" && !crlf_in_data && job.data.contains(&b'\n') {
        return Err("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is CRLF".into());
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(job.delimiter())
        .has_headers(true)
        .flexible(false)
        .from_reader(job.data.as_slice());
    let headers = reader
        .headers()
        .map_err(|e| format!("InvalidBatch : Failed to parse header: {e}"))?
        .clone();
    job.header_end = reader.position().byte() as usize;
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
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(true) => {
                let end = reader.position().byte() as usize;
                rows.push((start, end, record.clone()));
            }
            Ok(false) => break,
            Err(e) => {
                return Err(format!(
                    "ClientInputError : CSV error at line {}: {e}",
                    rows.len() + 2
                ));
            }
        }
    }
    Ok(IngestPlan {
        obj,
        op: job.operation.clone(),
        columns,
        id_col,
        ext_col,
        rows,
    })
}

impl IngestPlan {
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// The byte range of row `i` in the uploaded data.
    pub fn row_span(&self, i: usize) -> (usize, usize) {
        (self.rows[i].0, self.rows[i].1)
    }

    /// Processes rows `range` and returns their results.
    pub fn process(
        &self,
        org: &mut Org,
        range: std::ops::Range<usize>,
        user: u64,
    ) -> Vec<RowResult> {
        range
            .map(|i| {
                let (start, end, rec) = &self.rows[i];
                let outcome = match self.process_row(org, rec, user) {
                    Ok((num, created)) => Outcome::Done { num, created },
                    Err((num, e)) => {
                        let fields = e.fields.join(",");
                        Outcome::Failed {
                            num,
                            error: format!("{}:{}:{} --", e.code, e.message, fields),
                        }
                    }
                };
                RowResult {
                    start: *start,
                    end: *end,
                    outcome,
                }
            })
            .collect()
    }

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
