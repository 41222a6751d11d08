//! `syncstudio flows import | export | list | enable | disable`: flows
//! kept as files in git, checked against the org when imported.

use crate::Fatal;
use crate::import::Format;
use crate::output::line;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum Command {
    /// Check a flow file (its shape, templates, and the objects and fields
    /// it names in the org) and save it under its name.
    Import { file: PathBuf },
    /// Print a flow's file (or write it to --out).
    Export {
        name: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Every flow: whether it runs, what starts it.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Let a flow run (in the desktop app while it is open, or `flows serve`).
    Enable { name: String },
    /// Stop a flow from running.
    Disable { name: String },
    /// Try a flow on the latest record its trigger matches, writing
    /// nothing: steps run, each action shows what it would send.
    Test {
        name: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Run every enabled flow, each at its interval, until Ctrl-C or
    /// SIGTERM (the record under way is finished first).
    Serve,
    /// Poll a flow's trigger now and take what changed through its nodes.
    Run {
        name: String,
        /// One poll, then exit (the only way for now; `flows serve` keeps polling).
        #[arg(long, required = true)]
        once: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub async fn run(cmd: Command) -> Result<ExitCode, Fatal> {
    let studio = crate::connections::open_studio()?;
    match cmd {
        Command::Run { name, format, .. } => return run_once(&studio, &name, format).await,
        Command::Serve => return serve(&studio).await,
        Command::Test { name, format } => {
            let t = studio.test_flow(&name).await?;
            match format {
                Format::Json => {
                    line(serde_json::to_string(&t).map_err(|e| Fatal::new(e.to_string()))?)?
                }
                Format::Text => {
                    let Some(record) = &t.record else {
                        line(format!("flow {name:?}: no record matches its trigger yet"))?;
                        return Ok(ExitCode::SUCCESS);
                    };
                    line(format!(
                        "record {}",
                        record["Id"].as_str().unwrap_or_default()
                    ))?;
                    for n in &t.nodes {
                        let what = match (&n.error, n.status) {
                            (Some(e), _) => format!("failed: {e}"),
                            (None, "filtered") => "stops the record here".to_string(),
                            (None, _) => n.output.to_string(),
                        };
                        line(format!("  {}: {what}", n.node))?;
                    }
                }
            }
        }
        Command::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Fatal::new(format!("{}: {e}", file.display())))?;
            let flow = studio.import_flow(&text).await?;
            line(format!(
                "flow {:?} saved: {} nodes, starts on {}{}",
                flow.name,
                flow.nodes,
                flow.start,
                if flow.enabled {
                    " (enabled)".to_string()
                } else {
                    format!("; enable it with `syncstudio flows enable {:?}`", flow.name)
                }
            ))?;
        }
        Command::Export { name, out } => {
            let text = studio.export_flow(&name)?;
            match out {
                Some(path) => {
                    let tmp = path.with_extension("json.tmp");
                    std::fs::write(&tmp, format!("{text}\n"))
                        .and_then(|_| std::fs::rename(&tmp, &path))
                        .map_err(|e| Fatal::new(format!("{}: {e}", path.display())))?;
                }
                None => line(text)?,
            }
        }
        Command::List { format } => {
            let flows = studio.flows()?;
            match format {
                Format::Json => {
                    line(serde_json::to_string(&flows).map_err(|e| Fatal::new(e.to_string()))?)?
                }
                Format::Text => {
                    line(format!(
                        "{:<32} {:<8} {:>5}  STARTS ON",
                        "NAME", "ENABLED", "NODES"
                    ))?;
                    for f in &flows {
                        line(format!(
                            "{:<32} {:<8} {:>5}  {}",
                            f.name,
                            if f.enabled { "yes" } else { "no" },
                            f.nodes,
                            f.start
                        ))?;
                    }
                }
            }
        }
        Command::Enable { name } => {
            let f = studio.set_flow_enabled(&name, true).await?;
            line(format!("flow {:?} enabled", f.name))?;
        }
        Command::Disable { name } => {
            let f = studio.set_flow_enabled(&name, false).await?;
            line(format!("flow {:?} disabled", f.name))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_once(studio: &studio::Studio, name: &str, format: Format) -> Result<ExitCode, Fatal> {
    let cancel = studio::runs::Cancel::new();
    // Under the flow's lease, so a `flows serve` running it is not raced.
    let holder = studio::flows::serve::holder_name("syncstudio flows run");
    let ran = studio
        .run_flow_now(name, &holder, &studio::runs::QuietHost, &cancel)
        .await?;
    match (&ran, format) {
        (Some(s), Format::Json) => {
            line(serde_json::to_string(s).map_err(|e| Fatal::new(e.to_string()))?)?
        }
        (None, Format::Json) => line(r#"{"run":null,"rows":0}"#)?,
        (Some(s), Format::Text) => line(format!(
            "run {}: {} records, {} sent, {} failed ({})",
            s.run,
            s.rows,
            s.succeeded,
            s.failed,
            s.status.as_str()
        ))?,
        (None, Format::Text) => line(format!("flow {name:?}: nothing changed"))?,
    }
    Ok(match ran {
        Some(s) if s.failed > 0 => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

async fn serve(studio: &studio::Studio) -> Result<ExitCode, Fatal> {
    let stop = studio::runs::Cancel::new();
    let stopper = stop.clone();
    let signal = crate::stop_requested();
    tokio::spawn(async move {
        let how = signal.await;
        tracing::info!("{how}: stopping after the record under way");
        stopper.cancel();
    });
    let holder = studio::flows::serve::holder_name("syncstudio flows serve");
    let enabled = studio.flows()?.iter().filter(|f| f.enabled).count();
    crate::output::note(format!(
        "syncstudio: running {enabled} enabled flow(s) as {holder}; Ctrl-C stops"
    ));
    studio
        .serve_flows(&holder, &stop, &|event| {
            crate::output::note(format!("syncstudio: {event}"))
        })
        .await?;
    crate::output::note("syncstudio: stopped");
    Ok(ExitCode::SUCCESS)
}
