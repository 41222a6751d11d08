//! `syncstudio`: the headless Sync Studio binary. Output that scripts read
//! goes to stdout; logs go to stderr and to `$SYNCSTUDIO_HOME/logs`.
//! Exit status: 0 all good, 1 some records failed, 2 the command could not
//! run (with a one-line reason on stderr).

use clap::{Parser, Subcommand};
use std::io::Write;
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
}

/// A failure that stops the command: exit 2 with this one line.
struct Fatal(String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

fn home() -> PathBuf {
    match std::env::var_os("SYNCSTUDIO_HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h),
        _ => dirs::data_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("sync-studio"),
    }
}

fn init_logging() {
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::EnvFilter::try_from_env("SYNCSTUDIO_LOG")
        .unwrap_or_else(|_| "info".into());
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let logs = home().join("logs");
    let file = std::fs::create_dir_all(&logs)
        .and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(logs.join("syncstudio.log"))
        })
        .ok()
        .map(|f| {
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(f))
                .with_ansi(false)
        });
    tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn playground(
    port: u16,
    tls: bool,
    data: Option<PathBuf>,
    seed: Option<PathBuf>,
    no_demo: bool,
) -> Result<(), Fatal> {
    let seed = match seed {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Fatal(format!("seed file {}: {e}", path.display())))?;
            Some(
                serde_json::from_str::<sf_emulator::Seed>(&text)
                    .map_err(|e| Fatal(format!("seed file {}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    let config = sf_emulator::Config {
        port,
        tls,
        data_dir: data.clone(),
        demo_data: !no_demo,
        seed,
        ..Default::default()
    };
    let org = sf_emulator::Emulator::start(config).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", org.base_url())?;
    writeln!(
        out,
        "sign in as admin@playground.syncstudio with password playground (any client id works)"
    )?;
    if let Some(cert) = org.cert_path() {
        writeln!(out, "tls certificate: {}", cert.display())?;
    }
    writeln!(out, "control API: {}/__emulator/", org.base_url())?;
    out.flush()?;
    drop(out);
    tracing::info!(url = org.base_url(), data = ?data, "playground org started");
    shutdown_signal().await;
    tracing::info!("stopping the playground org");
    org.shutdown()
        .await
        .map_err(|e| Fatal(format!("saving the org: {e}")))?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Playground {
            port,
            tls,
            data,
            seed,
            no_demo,
        } => playground(port, tls, data, seed, no_demo).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fatal(reason)) => {
            eprintln!("syncstudio: {reason}");
            ExitCode::from(2)
        }
    }
}
