//! `syncstudio query NAME "SOQL"`: rows streamed as they arrive, as CSV
//! (columns from the SELECT list, parent fields as `Account.Name`) or as a
//! JSON array. With `--out`, the file appears only once it is complete.

use crate::Fatal;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The connection to query.
    name: String,
    /// The SOQL query.
    soql: String,
    /// Include deleted and archived rows (queryAll).
    #[arg(long)]
    all: bool,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Json,
}

/// How rows become columns.
enum Shape {
    /// `SELECT COUNT()`: one number.
    Count,
    /// The select list's fields as written (`Id`, `Account.Name`).
    Columns(Vec<String>),
    /// A select list this reader does not follow: Salesforce judges the
    /// query, and the first row names the columns.
    FirstRow,
}

fn shape(soql: &str) -> Shape {
    let upper = soql.to_ascii_uppercase();
    let (Some(start), Some(end)) = (upper.find("SELECT "), upper.find(" FROM ")) else {
        return Shape::FirstRow;
    };
    if end <= start + 7
        || soql[start + 7..end].contains('(')
            && !soql[start + 7..end]
                .replace(' ', "")
                .eq_ignore_ascii_case("COUNT()")
    {
        return Shape::FirstRow;
    }
    let list: Vec<String> = soql[start + 7..end]
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if list.len() == 1 && list[0].replace(' ', "").eq_ignore_ascii_case("COUNT()") {
        return Shape::Count;
    }
    Shape::Columns(list)
}

/// A record's fields as they stand in the page: names borrowed, values raw.
struct Fields<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Entries<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a record")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Fields<'a>, M::Error> {
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
struct RawPage<'a> {
    #[serde(borrow)]
    records: Vec<Fields<'a>>,
}

/// The text of a field at `path` (`Account.Name`), or None when absent.
fn raw_lookup<'a>(row: &Fields<'a>, path: &str) -> Result<Option<Cow<'a, str>>, serde_json::Error> {
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
fn raw_text(text: &str) -> Result<Cow<'_, str>, serde_json::Error> {
    Ok(match text.as_bytes().first() {
        Some(b'"') if !text.contains('\\') => Cow::Borrowed(&text[1..text.len() - 1]),
        Some(b'"') => Cow::Owned(serde_json::from_str::<String>(text)?),
        Some(b'n') => Cow::Borrowed(""),
        _ => Cow::Borrowed(text),
    })
}

/// Column paths of a record, parents flattened (`Account.Name`).
fn raw_paths(row: &Fields, prefix: &str, out: &mut Vec<String>) -> Result<(), serde_json::Error> {
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
            raw_paths(&serde_json::from_str::<Fields>(v.get())?, &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn strip_attributes(v: &mut Value) {
    if let Value::Object(m) = v {
        m.remove("attributes");
        m.values_mut().for_each(strip_attributes);
    }
}

pub async fn run(args: Args) -> Result<ExitCode, Fatal> {
    let studio = crate::connections::open_studio()?;
    let (row, client) = studio.client(&args.name).await?;
    let shape = shape(&args.soql);
    let (sink, partial): (Box<dyn Write>, Option<(PathBuf, PathBuf)>) = match &args.out {
        Some(path) => {
            let tmp = path.with_extension("partial");
            let f = std::fs::File::create(&tmp)
                .map_err(|e| Fatal(format!("{}: {e}", tmp.display())))?;
            (
                Box::new(std::io::BufWriter::new(f)),
                Some((tmp, path.clone())),
            )
        }
        None => (
            Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            None,
        ),
    };
    let result = write_rows(&client, &args, shape, sink).await;
    match (&result, &partial) {
        (Ok(_), Some((tmp, path))) => std::fs::rename(tmp, path)?,
        (Err(_), Some((tmp, _))) => {
            let _ = std::fs::remove_file(tmp);
        }
        _ => {}
    }
    match result {
        Ok(count) => {
            if let Some(path) = &args.out {
                eprintln!("{count} rows written to {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(Failure::Salesforce(e)) => {
            // A dead sign-in shows as "needs Grant access" in the list.
            if matches!(e, salesforce::Error::NeedsGrant(_)) {
                studio.note_failure(&row, &e);
            }
            Err(e.into())
        }
        Err(Failure::Local(f)) => Err(f),
    }
}

/// Why writing rows stopped: Salesforce's answer, or a local problem.
enum Failure {
    Salesforce(salesforce::Error),
    Local(Fatal),
}

impl From<salesforce::Error> for Failure {
    fn from(e: salesforce::Error) -> Self {
        Failure::Salesforce(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Local(e.into())
    }
}

impl From<csv::Error> for Failure {
    fn from(e: csv::Error) -> Self {
        Failure::Local(Fatal(e.to_string()))
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::Local(Fatal(e.to_string()))
    }
}

async fn write_rows(
    client: &salesforce::Client,
    args: &Args,
    shape: Shape,
    mut out: Box<dyn Write>,
) -> Result<u64, Failure> {
    if let Shape::Count = shape {
        let page = client.query_page(&args.soql, args.all).await?;
        writeln!(out, "{}", page.total_size)?;
        out.flush()?;
        return Ok(1);
    }
    let mut count = 0u64;
    match args.format {
        Format::Csv => {
            let mut pages = std::pin::pin!(client.query_pages(&args.soql, args.all));
            let mut w = csv::Writer::from_writer(out);
            let mut columns = match shape {
                Shape::Columns(c) => {
                    w.write_record(&c)?;
                    Some(c)
                }
                _ => None,
            };
            while let Some(page) = pages.next().await {
                let page = page?;
                let page: RawPage = serde_json::from_slice(&page)?;
                for row in &page.records {
                    if columns.is_none() {
                        let mut c = vec![];
                        raw_paths(row, "", &mut c)?;
                        w.write_record(&c)?;
                        columns = Some(c);
                    }
                    for c in columns.as_ref().expect("set above") {
                        w.write_field(raw_lookup(row, c)?.as_deref().unwrap_or("").as_bytes())?;
                    }
                    w.write_record(None::<&[u8]>)?;
                    count += 1;
                }
            }
            w.flush()?;
        }
        Format::Json => {
            let mut rows = std::pin::pin!(client.query(&args.soql, args.all));
            out.write_all(b"[")?;
            while let Some(row) = rows.next().await {
                let mut row = row?;
                strip_attributes(&mut row);
                out.write_all(if count == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut out, &row)?;
                count += 1;
            }
            out.write_all(b"\n]\n")?;
            out.flush()?;
        }
    }
    Ok(count)
}
