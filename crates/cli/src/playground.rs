//! `syncstudio playground`: the built-in org for newcomers and tests.

use crate::Fatal;
use sf_emulator::org::{ADMIN_USERNAME, PLAYGROUND_PASSWORD};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

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

pub async fn run(
    port: u16,
    tls: bool,
    data: Option<PathBuf>,
    seed: Option<PathBuf>,
    no_demo: bool,
) -> Result<ExitCode, Fatal> {
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
    out.flush()?;
    // Only the first line is the contract; a reader that has gone away
    // (`| head -1`) must not stop the org.
    let _ = writeln!(
        out,
        "sign in as {ADMIN_USERNAME} with password {PLAYGROUND_PASSWORD} (any client id works)"
    );
    if let Some(cert) = org.cert_path() {
        let _ = writeln!(out, "tls certificate: {}", cert.display());
    }
    let _ = writeln!(out, "control API: {}/__emulator/", org.base_url());
    let _ = out.flush();
    drop(out);
    tracing::info!(url = org.base_url(), data = ?data, "playground org started");
    shutdown_signal().await;
    tracing::info!("stopping the playground org");
    org.shutdown()
        .await
        .map_err(|e| Fatal(format!("saving the org: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
