//! `syncstudio`: the headless Sync Studio binary. Output that scripts read
//! goes to stdout; logs go to the log file in `$SYNCSTUDIO_HOME/logs` (and
//! to stderr with `-v` or `SYNCSTUDIO_LOG`).
//! Exit status: 0 all good, 1 some records failed, 2 the command could not
//! run (with a one-line reason on stderr).

// jemalloc: an import allocates and frees millions of small strings, where
// it spends a third less time than the system allocator.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// One arena for all threads, and small thread caches: an import's rows are
// made on the reader thread and freed on another, and an arena per thread
// kept about 10 MB more resident for the same speed (71 against 62 MB for
// a 1,000,000-row import). Read by jemalloc at start (its `malloc_conf`,
// prefixed as this build names its symbols).
// (The one unsafe item: a symbol for jemalloc to read, holding a constant.)
#[allow(non_upper_case_globals, unsafe_code)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8; 26] = b"narenas:1,tcache_max:1024\0";

mod browser;
mod connections;
mod export;
mod flows;
mod import;
mod output;
mod playground;
mod query;
mod runs;

use clap::{ArgAction, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use studio::Surface;

#[derive(Parser)]
#[command(
    name = "syncstudio",
    version,
    about = "Keep Salesforce in step with the rest of your business"
)]
struct Cli {
    /// Show the log on stderr as well (-v info, -vv debug); SYNCSTUDIO_LOG
    /// sets the filter.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the built-in playground org: a local Salesforce emulator with demo data.
    Playground {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Serve HTTPS with a self-signed certificate kept in the data folder.
        #[arg(long)]
        tls: bool,
        /// Keep the org in this folder across restarts (in memory otherwise).
        #[arg(long)]
        data: Option<PathBuf>,
        /// A seed file (JSON): custom objects and fields, apps, users, records.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Start with an empty org instead of the demo records.
        #[arg(long)]
        no_demo: bool,
    },
    /// Add, list, test and remove connections to Salesforce orgs.
    #[command(subcommand)]
    Connections(connections::Command),
    /// Run a SOQL query and stream its rows as CSV or JSON.
    Query(query::Args),
    /// Import a CSV file into one object (insert, update, upsert, delete), as a run.
    Import(import::Args),
    /// Export a query to a CSV file, as a run.
    Export(export::Args),
    /// List runs and show one run's counts and result files.
    #[command(subcommand)]
    Runs(runs::Command),
    /// Import, export, list, enable and disable flows.
    #[command(subcommand)]
    Flows(flows::Command),
}

/// Why a command stops early.
pub enum Fatal {
    /// Exit 2 with this one line.
    Reason(String),
    /// The reader of stdout went away: stop quietly.
    ClosedPipe,
    /// Ctrl-C or SIGTERM: whatever was half-written has been removed.
    Interrupted(&'static str),
}

impl Fatal {
    pub fn new(reason: impl Into<String>) -> Fatal {
        Fatal::Reason(reason.into())
    }

    /// A failed write to stdout.
    pub fn output(e: std::io::Error) -> Fatal {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Fatal::ClosedPipe;
        }
        Fatal::Reason(format!(
            "cannot write to standard output: {e}. Check the disk or file it goes to has room."
        ))
    }
}

impl From<studio::Error> for Fatal {
    fn from(e: studio::Error) -> Self {
        if let studio::Error::OutputClosed = e {
            return Fatal::ClosedPipe;
        }
        Fatal::Reason(format!("{e}. {}", e.next_step_for(Surface::Cli)))
    }
}

impl From<salesforce::Error> for Fatal {
    fn from(e: salesforce::Error) -> Self {
        studio::Error::from(e).into()
    }
}

impl From<sf_emulator::EmulatorError> for Fatal {
    fn from(e: sf_emulator::EmulatorError) -> Self {
        let next = match &e {
            sf_emulator::EmulatorError::InUse { .. } => {
                "Stop the other playground first, or give this one another --data folder."
            }
            sf_emulator::EmulatorError::Bind { .. } => {
                "Pick another port with --port, or 0 for any free one."
            }
            _ => "Check the data folder is writable and has room.",
        };
        Fatal::Reason(format!("{e}. {next}"))
    }
}

/// Resolves when the user asks the command to stop (Ctrl-C or SIGTERM).
/// The handlers are in place when this returns, before any work starts: a
/// signal that came before the first poll would otherwise kill the process
/// and skip the clean-up.
pub fn stop_requested() -> impl std::future::Future<Output = &'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let handlers = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        );
        async move {
            let (Ok(mut int), Ok(mut term)) = handlers else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = int.recv() => "interrupted",
                _ = term.recv() => "terminated",
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        "interrupted"
    }
}

/// Runs a command until it ends or the user stops it. Dropping the
/// command's future runs its clean-up: a half-written export is removed.
async fn interruptible(
    work: impl std::future::Future<Output = Result<ExitCode, Fatal>>,
) -> Result<ExitCode, Fatal> {
    let stop = stop_requested();
    tokio::select! {
        done = work => done,
        signal = stop => Err(Fatal::Interrupted(signal)),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    studio::logging::init(
        &studio::home::home().join("logs"),
        "syncstudio.log",
        studio::logging::Stderr::from_verbosity(cli.verbose),
    );
    let result = match cli.command {
        // The playground saves its org on Ctrl-C itself.
        Command::Playground {
            port,
            tls,
            data,
            seed,
            no_demo,
        } => playground::run(port, tls, data, seed, no_demo).await,
        Command::Connections(c) => interruptible(connections::run(c)).await,
        Command::Query(args) => interruptible(query::run(args)).await,
        // An import handles Ctrl-C itself: it stops after the requests in
        // flight, with every row in a result file.
        Command::Import(args) => import::run(args).await,
        Command::Export(args) => export::run(args).await,
        // A retry, resume or undo is an import: it handles Ctrl-C itself.
        Command::Runs(
            c @ (runs::Command::Retry { .. }
            | runs::Command::Undo { .. }
            | runs::Command::Resume { .. }),
        ) => runs::run(c).await,
        Command::Runs(c) => interruptible(runs::run(c)).await,
        // Serve stops itself at Ctrl-C, after the record under way.
        Command::Flows(c @ flows::Command::Serve) => flows::run(c).await,
        Command::Flows(c) => interruptible(flows::run(c)).await,
    };
    match result {
        Ok(code) => code,
        Err(Fatal::ClosedPipe) => {
            tracing::info!("stdout was closed by its reader; stopping");
            ExitCode::SUCCESS
        }
        Err(Fatal::Interrupted(how)) => {
            tracing::warn!("{how}; stopped");
            output::note(format!(
                "syncstudio: {how}; stopped, nothing half-written left behind"
            ));
            ExitCode::from(if how == "terminated" { 143 } else { 130 })
        }
        Err(Fatal::Reason(reason)) => {
            let line = reason.replace(['\n', '\r'], " ");
            tracing::error!("{line}");
            output::note(format!("syncstudio: {line}"));
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::{CommandFactory, Parser};
    use proptest::prelude::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "query",
                "connections",
                "add",
                "list",
                "test",
                "remove",
                "grant",
                "playground",
                "--out",
                "-",
                "--file",
                "--format",
                "json",
                "csv",
                "--all",
                "--daily-cap",
                "0",
                "-1",
                "18446744073709551616",
                "--port",
                "65536",
                "--login-url",
                "--client-id",
                "--api-version",
                "-v",
                "-vvv",
                "--",
                "--help",
                "=",
                "--out=",
            ])
            .prop_map(str::to_string),
            "\\PC{0,12}",
        ]
    }

    proptest! {
        /// Whatever is typed, parsing answers (a command or a usage error);
        /// it never panics.
        #[test]
        fn any_arguments_parse_or_are_refused(args in prop::collection::vec(word(), 0..8)) {
            let _ = Cli::try_parse_from(std::iter::once("syncstudio".to_string()).chain(args));
        }
    }
}
