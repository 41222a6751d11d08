//! `syncstudio query NAME "SOQL"`: rows streamed as they arrive, as CSV
//! (columns from the SELECT list, parent fields as `Account.Name`) or as a
//! JSON array. With `--out`, the file appears only once it is complete.

use crate::Fatal;
use futures::StreamExt;
use serde_json::Value;
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

/// `Account.Name`-style paths of a row's fields, parents flattened.
fn paths_of(row: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Object(m) = row {
        for (k, v) in m {
            if k == "attributes" {
                continue;
            }
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if v.is_object() {
                paths_of(v, &path, out)
            } else {
                out.push(path)
            }
        }
    }
}

fn lookup<'a>(row: &'a Value, path: &str) -> &'a Value {
    let mut cur = row;
    for part in path.split('.') {
        let next = cur.as_object().and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v)
        });
        match next {
            Some(v) => cur = v,
            None => return &Value::Null,
        }
    }
    cur
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
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
    let mut rows = std::pin::pin!(client.query(&args.soql, args.all));
    let mut count = 0u64;
    match args.format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            let mut columns = match shape {
                Shape::Columns(c) => {
                    w.write_record(&c)?;
                    Some(c)
                }
                _ => None,
            };
            while let Some(row) = rows.next().await {
                let row = row?;
                if columns.is_none() {
                    let mut c = vec![];
                    paths_of(&row, "", &mut c);
                    w.write_record(&c)?;
                    columns = Some(c);
                }
                let cols = columns.as_ref().expect("set above");
                w.write_record(cols.iter().map(|c| cell(lookup(&row, c))))?;
                count += 1;
            }
            w.flush()?;
        }
        Format::Json => {
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
