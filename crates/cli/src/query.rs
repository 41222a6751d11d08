//! `syncstudio query NAME "SOQL"`: rows streamed as they arrive, as CSV or
//! a JSON array (see `studio::export`). The SOQL may come from a file or
//! stdin. With `--out FILE`, the file appears only once it is complete.

use crate::Fatal;
use crate::output::note;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use studio::export::Format as Output;

#[derive(clap::Args)]
pub struct Args {
    /// The connection to query.
    name: String,
    /// The SOQL query; `-` reads it from stdin.
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    soql: Option<String>,
    /// Read the SOQL from this file (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Include deleted and archived rows (queryAll).
    #[arg(long)]
    all: bool,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write here instead of stdout (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Json,
}

fn read_stdin() -> Result<String, Fatal> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Fatal::new(format!("cannot read the SOQL from stdin: {e}")))?;
    Ok(text)
}

/// The query as given: inline, `-` for stdin, or `--file`.
fn soql_of(args: &Args) -> Result<String, Fatal> {
    let text = match (&args.soql, &args.file) {
        (Some(s), _) if s == "-" => read_stdin()?,
        (Some(s), _) => s.clone(),
        (None, Some(f)) if f.as_os_str() == "-" => read_stdin()?,
        (None, Some(f)) => std::fs::read_to_string(f).map_err(|e| {
            Fatal::new(format!(
                "cannot read the SOQL file {}: {e}. Check the path.",
                f.display()
            ))
        })?,
        (None, None) => String::new(),
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(Fatal::new(
            "the query is empty. Give the SOQL as an argument, with --file FILE, or on stdin with -.",
        ));
    }
    Ok(text)
}

pub async fn run(args: Args) -> Result<ExitCode, Fatal> {
    let soql = soql_of(&args)?;
    let studio = crate::connections::open_studio()?;
    let format = match args.format {
        Format::Csv => Output::Csv,
        Format::Json => Output::Json,
    };
    match args.out.as_ref().filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            let n = studio
                .export_query_to_file(&args.name, &soql, args.all, format, path)
                .await?;
            note(format!("{n} rows written to {}", path.display()));
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            studio
                .export_query(&args.name, &soql, args.all, format, &mut out)
                .await?;
            out.flush().map_err(Fatal::output)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
