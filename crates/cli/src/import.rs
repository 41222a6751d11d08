//! `syncstudio import`: a CSV file into one object, as a run. The run id
//! is the first stdout line; a progress bar goes to stderr on a terminal;
//! the summary ends stdout (one JSON object with `--format json`). Exit 0
//! when every row succeeded, 1 when some failed (the error file says
//! which), 2 when the import could not run.

use crate::Fatal;
use crate::output::line;
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use studio::import::plan::{DateFormat, Operation};
use studio::import::source::{DelimiterChoice, EncodingChoice};
use studio::import::{Api, ImportSpec, RunJob};
use studio::runs::{Cancel, RunHost, RunProgress, RunStatus, RunSummary};

#[derive(Clone, Copy, ValueEnum)]
pub enum OperationArg {
    Insert,
    Update,
    Upsert,
    Delete,
    HardDelete,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ApiArg {
    Auto,
    Bulk,
    Rest,
}

impl From<ApiArg> for Api {
    fn from(a: ApiArg) -> Api {
        match a {
            ApiArg::Auto => Api::Auto,
            ApiArg::Bulk => Api::Bulk,
            ApiArg::Rest => Api::Rest,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum EncodingArg {
    Auto,
    #[value(name = "utf-8")]
    Utf8,
    #[value(name = "windows-1252")]
    Windows1252,
    #[value(name = "utf-16")]
    Utf16,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DelimiterArg {
    Auto,
    Comma,
    Semicolon,
    Tab,
    Pipe,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DateFormatArg {
    #[value(name = "ISO")]
    Iso,
    #[value(name = "DMY")]
    Dmy,
    #[value(name = "MDY")]
    Mdy,
}

#[derive(Clone, Copy, Default, ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The connection to write to.
    connection: String,
    /// The object's API name (Account, Invoice__c, ...).
    #[arg(long)]
    object: String,
    #[arg(long, value_enum)]
    operation: OperationArg,
    /// The CSV file: a header row of field names (or labels), then the rows.
    #[arg(long)]
    file: PathBuf,
    /// The field that finds existing records in an upsert.
    #[arg(long)]
    external_id: Option<String>,
    /// A mapping file: {"columns": {"CSV column": "Field" | "Parent.ExtId__c" | null}, "constants": {"Field": "value"}}.
    #[arg(long)]
    map: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    api: ApiArg,
    /// Rows per request (at most 200).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=200))]
    batch_size: u64,
    /// One request at a time (they already are, over REST).
    #[arg(long)]
    serial: bool,
    #[arg(long, value_enum, default_value = "auto")]
    encoding: EncodingArg,
    #[arg(long, value_enum, default_value = "auto")]
    delimiter: DelimiterArg,
    /// How dates are written in the file (ISO is YYYY-MM-DD).
    #[arg(long, value_enum, default_value = "ISO")]
    date_format: DateFormatArg,
    /// The time zone of date-times written without an offset.
    #[arg(long, default_value = "UTC")]
    time_zone: String,
    /// An empty cell blanks the field (otherwise it is left as it is).
    #[arg(long)]
    insert_nulls: bool,
    /// Skip rows whose values already match the record: no API call spent on them.
    #[arg(long)]
    only_changed: bool,
    /// A parent lookup (`Account.ERP_Id__c`) that finds no parent: reject
    /// the row (the default), or leave the lookup empty and write the rest.
    #[arg(long, value_enum, default_value = "reject")]
    missing_parent: MissingParentArg,
    /// Read only: predict each row (create, update, unchanged, reject) and
    /// the API calls the import will use; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where the result files go (default: the run's folder).
    #[arg(long)]
    results: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MissingParentArg {
    Reject,
    Null,
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
pub struct Bar {
    pub terminal: bool,
}

impl RunHost for Bar {
    fn progress(&self, p: &RunProgress) {
        if !self.terminal {
            return;
        }
        let secs = (p.elapsed_ms as f64 / 1000.0).max(0.001);
        let rate = p.rows_done as f64 / secs;
        let total = p.rows_total.map(|t| format!("/{t}")).unwrap_or_default();
        let eta = match p.rows_total {
            Some(t) if rate > 0.0 && t > p.rows_done => {
                format!("  ETA {:.0}s", (t - p.rows_done) as f64 / rate)
            }
            _ => String::new(),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{}{total} rows  {rate:.0} rows/s{eta}  {} API calls   ",
            p.rows_done, p.api_calls
        );
        let _ = err.flush();
    }

    fn shows_total(&self) -> bool {
        self.terminal
    }
}

/// The summary as the contract prints it, and the exit status it means.
pub fn finish(
    summary: &RunSummary,
    format: Format,
    error: Option<&str>,
) -> Result<ExitCode, Fatal> {
    match format {
        Format::Json => {
            line(serde_json::to_string(summary).map_err(|e| Fatal::new(e.to_string()))?)?
        }
        Format::Text => {
            line(format!(
                "{}: {} rows, {} succeeded ({} created, {} updated, {} unchanged, {} deleted), {} failed, {} unknown; {} API calls",
                summary.status.as_str(),
                summary.rows,
                summary.succeeded,
                summary.created,
                summary.updated,
                summary.unchanged,
                summary.deleted,
                summary.failed,
                summary.unknown,
                summary.api_calls
            ))?;
            if let Some(calls) = summary.forecast_api_calls {
                line(format!(
                    "dry run: nothing was written; the import will use about {calls} API calls{}",
                    summary
                        .api_calls_left
                        .map(|left| format!(" ({left} left today)"))
                        .unwrap_or_default()
                ))?;
            }
            line(format!("success file: {}", summary.success_file))?;
            line(format!("error file: {}", summary.error_file))?;
            if let Some(u) = &summary.unknown_file {
                line(format!("unknown file: {u}"))?;
            }
        }
    }
    Ok(match summary.status {
        RunStatus::Failed => {
            crate::output::note(format!(
                "syncstudio: the run stopped: {}. Rows not sent are in the error file; `syncstudio runs resume {}` finishes the run.",
                error.unwrap_or("see the log"),
                summary.run
            ));
            ExitCode::from(2)
        }
        RunStatus::Cancelled => ExitCode::from(130),
        _ if summary.failed + summary.unknown > 0 => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

pub async fn run(args: Args) -> Result<ExitCode, Fatal> {
    let mut spec = ImportSpec::new(
        &args.connection,
        &args.object,
        match args.operation {
            OperationArg::Insert => Operation::Insert,
            OperationArg::Update => Operation::Update,
            OperationArg::Upsert => Operation::Upsert,
            OperationArg::Delete => Operation::Delete,
            OperationArg::HardDelete => Operation::HardDelete,
        },
        args.file.clone(),
    );
    spec.external_id = args.external_id.clone();
    spec.map = args.map.clone();
    spec.api = args.api.into();
    spec.batch_size = args.batch_size as usize;
    spec.encoding = match args.encoding {
        EncodingArg::Auto => EncodingChoice::Auto,
        EncodingArg::Utf8 => EncodingChoice::Utf8,
        EncodingArg::Windows1252 => EncodingChoice::Windows1252,
        EncodingArg::Utf16 => EncodingChoice::Utf16,
    };
    spec.delimiter = match args.delimiter {
        DelimiterArg::Auto => DelimiterChoice::Auto,
        DelimiterArg::Comma => DelimiterChoice::Comma,
        DelimiterArg::Semicolon => DelimiterChoice::Semicolon,
        DelimiterArg::Tab => DelimiterChoice::Tab,
        DelimiterArg::Pipe => DelimiterChoice::Pipe,
    };
    spec.date_format = match args.date_format {
        DateFormatArg::Iso => DateFormat::Iso,
        DateFormatArg::Dmy => DateFormat::Dmy,
        DateFormatArg::Mdy => DateFormat::Mdy,
    };
    spec.time_zone = args.time_zone.clone();
    spec.insert_nulls = args.insert_nulls;
    spec.dry_run = args.dry_run;
    spec.only_changed = args.only_changed;
    spec.null_missing_parents = matches!(args.missing_parent, MissingParentArg::Null);
    spec.results = args.results.clone();
    drive(
        RunJob::Import {
            spec: Box::new(spec),
        },
        args.format,
    )
    .await
}

/// Runs an import-like job as the CLI shows one: the run line first, a
/// progress bar on a terminal, Ctrl-C to stop after the requests in
/// flight, the summary last.
pub async fn drive(job: RunJob, format: Format) -> Result<ExitCode, Fatal> {
    let studio = crate::connections::open_studio()?;
    let cancel = Cancel::new();
    let stopper = cancel.clone();
    let stop = crate::stop_requested();
    tokio::spawn(async move {
        stop.await;
        stopper.cancel();
    });
    let bar = Bar {
        terminal: std::io::stderr().is_terminal(),
    };
    let mut started: Result<(), Fatal> = Ok(());
    let on_start = |id: &str| started = line(format!("run {id}"));
    let summary = studio.run_job(&job, &bar, &cancel, on_start).await?;
    started?;
    if bar.terminal {
        crate::output::note("");
    }
    let error = studio.run_error(&summary.run)?;
    finish(&summary, format, error.as_deref())
}
