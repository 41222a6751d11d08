//! `syncstudio export CONN --query SOQL --out F.csv`: a query to a CSV file,
//! as a run (the run line first, progress on a terminal, the summary last).
//! The file appears only once complete.

use crate::Fatal;
use crate::import::{ApiArg, Format};
use crate::output::line;
use clap::ValueEnum;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use studio::export::{CsvStyle, ExportSpec};
use studio::runs::{Cancel, RunStatus};

#[derive(Clone, Copy, ValueEnum)]
pub enum DelimiterArg {
    Comma,
    Semicolon,
    Tab,
    Pipe,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LineEnding {
    Lf,
    Crlf,
}

#[derive(clap::Args)]
pub struct Args {
    /// The connection to read from.
    connection: String,
    /// The SOQL query (`-` reads it from stdin).
    #[arg(long)]
    query: String,
    /// The CSV file to write.
    #[arg(long)]
    out: PathBuf,
    /// Include deleted and archived rows (queryAll).
    #[arg(long)]
    all: bool,
    #[arg(long, value_enum, default_value = "auto")]
    api: ApiArg,
    #[arg(long, value_enum, default_value = "comma")]
    delimiter: DelimiterArg,
    #[arg(long, value_enum, default_value = "lf")]
    line_ending: LineEnding,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub async fn run(args: Args) -> Result<ExitCode, Fatal> {
    let soql = if args.query == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Fatal::new(format!("cannot read the SOQL from stdin: {e}")))?;
        text
    } else {
        args.query.clone()
    };
    if soql.trim().is_empty() {
        return Err(Fatal::new(
            "the query is empty. Give the SOQL with --query.",
        ));
    }
    let studio = crate::connections::open_studio()?;
    let spec = ExportSpec {
        connection: args.connection.clone(),
        soql: soql.trim().to_string(),
        out: args.out.clone(),
        all: args.all,
        api: args.api.into(),
        style: CsvStyle {
            delimiter: match args.delimiter {
                DelimiterArg::Comma => b',',
                DelimiterArg::Semicolon => b';',
                DelimiterArg::Tab => b'\t',
                DelimiterArg::Pipe => b'|',
            },
            crlf: matches!(args.line_ending, LineEnding::Crlf),
        },
    };
    let cancel = Cancel::new();
    let stopper = cancel.clone();
    let stop = crate::stop_requested();
    tokio::spawn(async move {
        stop.await;
        stopper.cancel();
    });
    let bar = crate::import::Bar {
        terminal: std::io::stderr().is_terminal(),
    };
    let mut started: Result<(), Fatal> = Ok(());
    let summary = studio
        .export(&spec, &bar, &cancel, |id| {
            started = line(format!("run {id}"))
        })
        .await?;
    started?;
    if bar.terminal {
        crate::output::note("");
    }
    match args.format {
        Format::Json => {
            line(serde_json::to_string(&summary).map_err(|e| Fatal::new(e.to_string()))?)?
        }
        Format::Text => line(format!(
            "{}: {} rows to {}; {} API calls",
            summary.status.as_str(),
            summary.rows,
            spec.out.display(),
            summary.api_calls
        ))?,
    }
    match summary.status {
        RunStatus::Completed => Ok(ExitCode::SUCCESS),
        RunStatus::Cancelled => Ok(ExitCode::from(130)),
        _ => {
            let error = studio.run_error(&summary.run)?.unwrap_or_default();
            Err(Fatal::new(format!("the export failed: {error}")))
        }
    }
}
