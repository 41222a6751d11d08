//! `syncstudio`: the headless Sync Studio binary. Output that scripts read
//! goes to stdout; logs go to stderr and to `$SYNCSTUDIO_HOME/logs`.
//! Exit status: 0 all good, 1 some records failed, 2 the command could not
//! run (with a one-line reason on stderr).

mod browser;
mod connections;
mod playground;
mod query;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "syncstudio",
    version,
    about = "Keep Salesforce in step with the rest of your business"
)]
struct Cli {
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
}

/// A failure that stops the command: exit 2 with this one line.
pub struct Fatal(pub String);

impl From<studio::Error> for Fatal {
    fn from(e: studio::Error) -> Self {
        Fatal(format!("{e}. {}", e.next_step()))
    }
}

impl From<salesforce::Error> for Fatal {
    fn from(e: salesforce::Error) -> Self {
        Fatal(format!("{e}. {}", e.next_step()))
    }
}

impl From<std::io::Error> for Fatal {
    fn from(e: std::io::Error) -> Self {
        Fatal(e.to_string())
    }
}

impl From<sf_emulator::EmulatorError> for Fatal {
    fn from(e: sf_emulator::EmulatorError) -> Self {
        Fatal(e.to_string())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    studio::logging::init(&studio::home::home().join("logs"), "syncstudio.log");
    let result = match cli.command {
        Command::Playground {
            port,
            tls,
            data,
            seed,
            no_demo,
        } => playground::run(port, tls, data, seed, no_demo).await,
        Command::Connections(c) => connections::run(c).await,
        Command::Query(args) => query::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(Fatal(reason)) => {
            eprintln!("syncstudio: {}", reason.replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
