//! A query's rows as CSV or JSON, streamed as pages arrive: for
//! `syncstudio query`, exports and the SOQL console alike. CSV columns are
//! the select list as written (parent fields as `Account.Name`); rows are
//! read from each page in place, without building JSON trees.

use crate::Studio;
use crate::error::{Error, Result};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// A JSON array of records, without `attributes`.
    Json,
}

/// How rows become columns.
pub(crate) enum Shape {
    /// `SELECT COUNT()`: one number.
    Count,
    /// The select list's fields as written (`Id`, `Account.Name`).
    Columns(Vec<String>),
    /// A select list this reader does not follow: Salesforce judges the
    /// query, and the first row names the columns.
    FirstRow,
}

pub(crate) fn shape(soql: &str) -> Shape {
    // Queries pasted from an editor span lines: read them as one.
    let soql = soql.split_whitespace().collect::<Vec<_>>().join(" ");
    let upper = soql.to_ascii_uppercase();
    let Some(start) = upper.find("SELECT ").map(|i| i + "SELECT ".len()) else {
        return Shape::FirstRow;
    };
    // The FROM after the select list, not one before it (`SELECT FROM X`).
    let Some(end) = upper[start..].find(" FROM ").map(|i| start + i) else {
        return Shape::FirstRow;
    };
    // ASCII upper-casing keeps every byte where it was, so these are
    // boundaries in `soql` too.
    let list = soql[start..end].trim();
    if list.replace(' ', "").eq_ignore_ascii_case("COUNT()") {
        return Shape::Count;
    }
    // Functions and subqueries: Salesforce names those columns.
    if list.is_empty() || list.contains('(') {
        return Shape::FirstRow;
    }
    Shape::Columns(
        list.split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
    )
}

/// A record's fields as they stand in the page: names borrowed, values raw.
pub(crate) struct Fields<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Entries<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Entries<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a record")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> std::result::Result<Fields<'a>, M::Error> {
                let mut out = Vec::with_capacity(8);
                while let Some(entry) = m.next_entry::<&'de str, &'de RawValue>()? {
                    out.push(entry);
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(Entries(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
pub(crate) struct RawPage<'a> {
    #[serde(rename = "totalSize", default)]
    pub(crate) total_size: u64,
    #[serde(borrow)]
    pub(crate) records: Vec<Fields<'a>>,
}

/// The text of a field at `path` (`Account.Name`), or None when absent.
pub(crate) fn raw_lookup<'a>(
    row: &Fields<'a>,
    path: &str,
) -> std::result::Result<Option<Cow<'a, str>>, serde_json::Error> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let found = row
        .0
        .iter()
        .find(|(k, _)| *k == head)
        .or_else(|| row.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(head)));
    let Some((_, raw)) = found else {
        return Ok(None);
    };
    let text = raw.get();
    match rest {
        Some(rest) if text.starts_with('{') => {
            let parent: Fields<'a> = serde_json::from_str(text)?;
            raw_lookup(&parent, rest)
        }
        Some(_) => Ok(None),
        None => Ok(Some(raw_text(text)?)),
    }
}

/// A raw JSON value as CSV text: strings unquoted, null empty, the rest as sent.
fn raw_text(text: &str) -> std::result::Result<Cow<'_, str>, serde_json::Error> {
    Ok(match text.as_bytes().first() {
        Some(b'"') if !text.contains('\\') => Cow::Borrowed(&text[1..text.len() - 1]),
        Some(b'"') => Cow::Owned(serde_json::from_str::<String>(text)?),
        Some(b'n') => Cow::Borrowed(""),
        _ => Cow::Borrowed(text),
    })
}

/// Column paths of a record, parents flattened (`Account.Name`).
fn raw_paths(
    row: &Fields<'_>,
    prefix: &str,
    out: &mut Vec<String>,
) -> std::result::Result<(), serde_json::Error> {
    for (k, v) in &row.0 {
        if *k == "attributes" {
            continue;
        }
        let path = if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        };
        if v.get().starts_with('{') {
            raw_paths(&serde_json::from_str::<Fields<'_>>(v.get())?, &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The columns rows go out in: the select list's, or else the first row's
/// paths. Answers them, and whether this row has just set them.
pub(crate) fn columns_of<'c>(
    columns: &'c mut Option<Vec<String>>,
    row: &Fields<'_>,
) -> std::result::Result<(&'c [String], bool), serde_json::Error> {
    if columns.is_none() {
        let mut c = vec![];
        raw_paths(row, "", &mut c)?;
        return Ok((columns.insert(c), true));
    }
    Ok((columns.as_deref().unwrap_or_default(), false))
}

fn strip_attributes(v: &mut Value) {
    if let Value::Object(m) = v {
        m.remove("attributes");
        m.values_mut().for_each(strip_attributes);
    }
}

/// How long a Bulk API 2.0 query (for SOQL too long for a REST URL) may
/// take before the export gives up.
const BULK_QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// Streams a query's rows to `out`; answers how many were written. Nothing
/// is written before Salesforce has answered: a query that fails leaves
/// `out` untouched (no lone CSV header in a file a script redirected to).
pub async fn write_query<W: Write + Send + ?Sized>(
    client: &salesforce::Client,
    soql: &str,
    all: bool,
    format: Format,
    out: &mut W,
) -> Result<u64> {
    let shape = shape(soql);
    if let Err(too_long) = salesforce::client::check_query_length(soql) {
        // Bulk API 2.0 takes the query in the body, and answers CSV.
        if format != Format::Csv || matches!(shape, Shape::Count) {
            return Err(too_long.into());
        }
        tracing::info!(
            chars = soql.len(),
            "query too long for a REST URL; running it as a Bulk API 2.0 query"
        );
        let mut sink = SendWriter(out);
        let rows = client
            .bulk_query(soql, all, &mut sink, BULK_QUERY_TIMEOUT)
            .await?;
        sink.0.flush()?;
        return Ok(rows);
    }
    if let Shape::Count = shape {
        let page = client.query_page(soql, all).await?;
        writeln!(out, "{}", page.total_size)?;
        out.flush()?;
        return Ok(1);
    }
    let mut count = 0u64;
    match format {
        Format::Csv => {
            count = write_csv_pages(
                client,
                soql,
                all,
                shape,
                CsvStyle::default(),
                out,
                &mut |_, _| true,
            )
            .await?;
        }
        Format::Json => {
            let mut rows = std::pin::pin!(client.query(soql, all));
            let mut next = rows.next().await.transpose()?;
            out.write_all(b"[")?;
            while let Some(mut row) = next {
                strip_attributes(&mut row);
                out.write_all(if count == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, &row)?;
                count += 1;
                next = rows.next().await.transpose()?;
            }
            out.write_all(b"\n]\n")?;
            out.flush()?;
        }
    }
    Ok(count)
}

/// How an export's CSV is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvStyle {
    pub delimiter: u8,
    pub crlf: bool,
}

impl Default for CsvStyle {
    fn default() -> Self {
        CsvStyle {
            delimiter: b',',
            crlf: false,
        }
    }
}

impl CsvStyle {
    fn writer<W: Write>(self, out: W) -> csv::Writer<W> {
        csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .terminator(if self.crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(out)
    }
}

/// A query's pages as CSV rows, the header once the first page is in.
/// `progress(rows so far, rows in all)` after each page; answering false
/// stops (a cancel), and the rows so far are all that was written.
pub(crate) async fn write_csv_pages<W: Write + Send + ?Sized>(
    client: &salesforce::Client,
    soql: &str,
    all: bool,
    shape: Shape,
    style: CsvStyle,
    out: &mut W,
    progress: &mut (dyn FnMut(u64, u64) -> bool + Send),
) -> Result<u64> {
    let mut count = 0u64;
    let mut pages = std::pin::pin!(client.query_pages(soql, all));
    let first = pages.next().await.transpose()?;
    let mut w = style.writer(out);
    let mut columns = match shape {
        Shape::Columns(c) => {
            w.write_record(&c)?;
            Some(c)
        }
        _ => None,
    };
    let mut next = first;
    while let Some(page) = next {
        let page: RawPage<'_> = serde_json::from_slice(&page)?;
        for row in &page.records {
            let (columns, first) = columns_of(&mut columns, row)?;
            if first {
                w.write_record(columns)?;
            }
            for c in columns {
                w.write_field(raw_lookup(row, c)?.as_deref().unwrap_or("").as_bytes())?;
            }
            w.write_record(None::<&[u8]>)?;
            count += 1;
        }
        if !progress(count, page.total_size) {
            break;
        }
        next = pages.next().await.transpose()?;
    }
    w.flush()?;
    Ok(count)
}

/// Lends a writer to the Bulk API client, which takes a sized `dyn Write`.
struct SendWriter<'a, W: Write + Send + ?Sized>(&'a mut W);

impl<W: Write + Send + ?Sized> Write for SendWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Studio {
    /// Runs a query on a saved connection and streams its rows to `out`.
    /// A sign-in that no longer works marks the connection `needs_grant`.
    pub async fn export_query<W: Write + Send + ?Sized>(
        &self,
        name: &str,
        soql: &str,
        all: bool,
        format: Format,
        out: &mut W,
    ) -> Result<u64> {
        self.with_client(name, |client| async move {
            write_query(&client, soql, all, format, out).await
        })
        .await
    }

    /// `export_query` into a file that appears only once it is complete.
    /// The rows go first to a new, uniquely named file beside it (created
    /// exclusively, so no other file is ever touched), which is renamed over
    /// `path` at the end; a failure, or dropping this future (Ctrl-C, a
    /// cancelled export), removes it.
    pub async fn export_query_to_file(
        &self,
        name: &str,
        soql: &str,
        all: bool,
        format: Format,
        path: &Path,
    ) -> Result<u64> {
        let partial = partial_file(path)?;
        let mut out = std::io::BufWriter::new(
            partial
                .as_file()
                .try_clone()
                .map_err(|e| Error::Output(format!("{}: {e}", partial.path().display())))?,
        );
        let n = self.export_query(name, soql, all, format, &mut out).await?;
        out.flush()
            .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
        drop(out);
        partial
            .persist(path)
            .map_err(|e| Error::Output(format!("{}: {}", path.display(), e.error)))?;
        Ok(n)
    }
}

/// Writes a file the user keeps (a flow, a mapping) whole or not at all:
/// into a partial file beside it, renamed over it once complete, so a full
/// disk or a crash never leaves half of it where the old one was.
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut partial = partial_file(path)?;
    partial
        .write_all(bytes)
        .and_then(|_| partial.as_file().sync_all())
        .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
    partial
        .persist(path)
        .map_err(|e| Error::Output(format!("{}: {}", path.display(), e.error)))?;
    Ok(())
}

/// A new file beside `path`, named after it (`.name.csv.XXXXXX.partial`),
/// deleted when dropped unless persisted.
pub fn partial_file(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    if path.is_dir() {
        return Err(Error::Output(format!(
            "{} is a folder; give a file name",
            path.display()
        )));
    }
    tempfile::Builder::new()
        .prefix(&format!(".{stem}."))
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::Output(format!("{}: {e}", dir.join(&stem).display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_written_whole_over_the_old_one_and_nothing_else_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flow.json");
        std::fs::write(&path, "old and longer than the new one").unwrap();
        write_whole(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["flow.json"]);
        let err = write_whole(dir.path(), b"x").unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
    }
    use proptest::prelude::*;

    #[test]
    fn select_lists_as_people_mistype_them() {
        for soql in [
            "SELECT FROM Account",
            "SELECT  FROM Account",
            "select from account where name = 'x'",
            "FROM Account SELECT Id",
            "SELECT ",
            "SELECT Id",
            " FROM SELECT ",
            "SELECT \u{e9}\u{e9} FROM Ac\u{e7}ount",
        ] {
            let _ = shape(soql);
        }
        assert!(matches!(shape("SELECT FROM Account"), Shape::FirstRow));
        match shape("SELECT Id, Account.Name\nFROM Contact") {
            Shape::Columns(c) => assert_eq!(c, ["Id", "Account.Name"]),
            _ => panic!("columns expected"),
        }
        assert!(matches!(shape("select count() from Account"), Shape::Count));
    }

    proptest! {
        #[test]
        fn any_text_has_a_shape(soql in "\\PC{0,200}") {
            let _ = shape(&soql);
        }

        #[test]
        fn keyword_soup_has_a_shape(parts in prop::collection::vec(
            prop::sample::select(vec!["SELECT", "FROM", " ", ",", "(", ")", "Id", "\u{e9}", "\n", "COUNT()", "x"]),
            0..30,
        )) {
            let _ = shape(&parts.concat());
        }
    }
}

/// What `syncstudio export` asks.
#[derive(Debug, Clone)]
pub struct ExportSpec {
    pub connection: String,
    pub soql: String,
    pub out: std::path::PathBuf,
    /// Deleted and archived rows too (queryAll).
    pub all: bool,
    pub api: crate::import::Api,
    pub style: CsvStyle,
}

impl ExportSpec {
    /// The desktop's Export CSV…: commas, LF, REST unless the SOQL is too
    /// long for a URL.
    pub fn csv(connection: &str, soql: &str, all: bool, out: std::path::PathBuf) -> ExportSpec {
        ExportSpec {
            connection: connection.into(),
            soql: soql.into(),
            out,
            all,
            api: crate::import::Api::Auto,
            style: CsvStyle::default(),
        }
    }
}

/// The object a query reads (`FROM X`), for the run's record.
fn object_of(soql: &str) -> String {
    let words: Vec<&str> = soql.split_whitespace().collect();
    words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("FROM"))
        .and_then(|i| words.get(i + 1))
        .map(|w| w.trim_end_matches([',', ')']).to_string())
        .unwrap_or_default()
}

impl Studio {
    /// A query to a CSV file, as a run: progress per page, a cancel
    /// between pages, the file written beside the target and renamed only
    /// when complete. Bulk API 2.0 for `--api bulk` and for SOQL too long
    /// for a REST URL.
    pub async fn export(
        &self,
        spec: &ExportSpec,
        host: &dyn crate::runs::RunHost,
        cancel: &crate::runs::Cancel,
        on_start: impl FnOnce(&str),
    ) -> Result<crate::runs::RunSummary> {
        use crate::runs::{NewRun, RunProgress, RunStatus};
        let partial = partial_file(&spec.out)?;
        let (_, client) = self.client(&spec.connection).await?;
        let bulk = match spec.api {
            crate::import::Api::Bulk => true,
            crate::import::Api::Rest => false,
            crate::import::Api::Auto => salesforce::client::check_query_length(&spec.soql).is_err(),
        };
        let run = self.start_run(NewRun {
            kind: "export",
            connection: &spec.connection,
            object: &object_of(&spec.soql),
            operation: "export",
            input_file: None,
            results: None,
            spec: None,
            retry_of: None,
            flow: None,
        })?;
        on_start(&run.summary.run);
        let mut summary = run.summary.clone();
        summary.success_file = spec.out.display().to_string();
        summary.error_file = String::new();
        let started = std::time::Instant::now();
        let calls_before = client.calls_sent();
        let file = partial
            .as_file()
            .try_clone()
            .map_err(|e| Error::Output(format!("{}: {e}", partial.path().display())))?;
        let mut out = std::io::BufWriter::new(file);
        let run_id = summary.run.clone();
        let written = if bulk {
            self.bulk_export(&client, spec, &mut out).await
        } else {
            let mut report = |done: u64, total: u64| {
                host.progress(&RunProgress {
                    run: run_id.clone(),
                    rows_done: done,
                    rows_total: Some(total),
                    api_calls: client.calls_sent() - calls_before,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                });
                !cancel.is_cancelled()
            };
            write_csv_pages(
                &client,
                &spec.soql,
                spec.all,
                shape(&spec.soql),
                spec.style,
                &mut out,
                &mut report,
            )
            .await
        };
        let flushed = out.flush().map_err(Error::from);
        drop(out);
        summary.api_calls = client.calls_sent() - calls_before;
        let outcome = written.and_then(|n| flushed.map(|_| n));
        let (status, error) = match outcome {
            Ok(n) => {
                summary.rows = n;
                summary.succeeded = n;
                if cancel.is_cancelled() {
                    // The file is left out: half an export is no export.
                    (RunStatus::Cancelled, Some("cancelled".to_string()))
                } else {
                    match partial.persist(&spec.out) {
                        Ok(_) => (RunStatus::Completed, None),
                        Err(e) => (
                            RunStatus::Failed,
                            Some(format!("{}: {}", spec.out.display(), e.error)),
                        ),
                    }
                }
            }
            Err(e) => (RunStatus::Failed, Some(e.to_string())),
        };
        summary.status = status;
        if status != RunStatus::Completed {
            summary.success_file = String::new();
        }
        self.save_run(&summary, error.as_deref(), true)?;
        tracing::info!(run = %summary.run, rows = summary.rows, status = status.as_str(), "export finished");
        Ok(summary)
    }

    /// A Bulk API 2.0 query into `out`, laid out as `spec.style` asks
    /// (Salesforce writes commas and LF; other layouts are rewritten).
    async fn bulk_export<W: Write + Send>(
        &self,
        client: &salesforce::Client,
        spec: &ExportSpec,
        out: &mut W,
    ) -> Result<u64> {
        if spec.style == CsvStyle::default() {
            let mut sink = SendWriter(out);
            return Ok(client
                .bulk_query(&spec.soql, spec.all, &mut sink, BULK_QUERY_TIMEOUT)
                .await?);
        }
        let raw = partial_file(&spec.out)?;
        let mut raw_out = std::io::BufWriter::new(
            raw.as_file()
                .try_clone()
                .map_err(|e| Error::Output(format!("{}: {e}", raw.path().display())))?,
        );
        let n = client
            .bulk_query(&spec.soql, spec.all, &mut raw_out, BULK_QUERY_TIMEOUT)
            .await?;
        raw_out.flush()?;
        drop(raw_out);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(raw.path())
            .map_err(|e| Error::Output(e.to_string()))?;
        let mut w = spec.style.writer(out);
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).map_err(|e| {
            Error::Salesforce(salesforce::Error::Protocol(format!("bulk query CSV: {e}")))
        })? {
            w.write_byte_record(&record)?;
        }
        w.flush()?;
        Ok(n)
    }
}
