//! `syncstudio runs list | show RUN`: the record of every run.

use crate::Fatal;
use crate::import::{Format, finish};
use crate::output::line;
use clap::Subcommand;
use std::process::ExitCode;
use studio::import::RunJob;

#[derive(Subcommand)]
pub enum Command {
    /// Every run, newest first.
    List {
        /// Only this flow's runs.
        #[arg(long)]
        flow: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// One run's counts and result files.
    Show {
        run: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Send an import's failed rows again (from its error file, or a fixed
    /// copy of it), as a new run linked to the first.
    Retry {
        run: String,
        /// The error file, fixed by hand.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Finish an interrupted or cancelled import: nothing lost, nothing
    /// sent twice.
    Resume {
        run: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Undo an import: delete what it created, restore what it updated,
    /// undelete what it deleted. Records changed since are left alone.
    Undo {
        run: String,
        /// Overwrite records changed since the import.
        #[arg(long)]
        force: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub async fn run(cmd: Command) -> Result<ExitCode, Fatal> {
    let open = crate::connections::open_studio;
    match cmd {
        Command::Retry { run, file, format } => {
            crate::import::drive(RunJob::Retry { run, file }, format).await
        }
        Command::Resume { run, format } => {
            crate::import::drive(RunJob::Resume { run }, format).await
        }
        Command::Undo { run, force, format } => {
            crate::import::drive(RunJob::Undo { run, force }, format).await
        }
        Command::List { flow, format } => {
            let studio = open()?;
            let runs = match &flow {
                Some(f) => {
                    studio.flow_info(f)?;
                    studio.flow_runs(f)?
                }
                None => studio.runs()?,
            };
            match format {
                Format::Json => {
                    line(serde_json::to_string(&runs).map_err(|e| Fatal::new(e.to_string()))?)?
                }
                Format::Text => {
                    line(
                        "RUN                   STATUS                 OPERATION  OBJECT          ROWS  OK  FAILED  UNKNOWN",
                    )?;
                    for r in &runs {
                        line(format!(
                            "{:<21} {:<22} {:<10} {:<15} {:>5} {:>3} {:>7} {:>8}",
                            r.run,
                            r.status.as_str(),
                            r.operation,
                            r.object,
                            r.rows,
                            r.succeeded,
                            r.failed,
                            r.unknown
                        ))?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { run, format } => {
            let studio = open()?;
            let summary = studio.run(&run)?;
            let error = studio.run_error(&summary.run)?;
            finish(&summary, format, error.as_deref()).map(|_| ExitCode::SUCCESS)
        }
    }
}
