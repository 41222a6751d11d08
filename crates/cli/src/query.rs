//! `syncstudio query NAME "SOQL"`: rows streamed as they arrive, as CSV or
//! a JSON array (see `studio::export`). With `--out`, the file appears only
//! once it is complete.

use crate::Fatal;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use studio::export::Format as Output;

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

pub async fn run(args: Args) -> Result<ExitCode, Fatal> {
    let studio = crate::connections::open_studio()?;
    let format = match args.format {
        Format::Csv => Output::Csv,
        Format::Json => Output::Json,
    };
    match &args.out {
        Some(path) => {
            let n = studio
                .export_query_to_file(&args.name, &args.soql, args.all, format, path)
                .await?;
            eprintln!("{n} rows written to {}", path.display());
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            studio
                .export_query(&args.name, &args.soql, args.all, format, &mut out)
                .await?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
