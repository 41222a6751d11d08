//! `syncstudio playground`: the built-in org for newcomers and tests.

use crate::Fatal;
use sf_emulator::org::{ADMIN_USERNAME, PLAYGROUND_PASSWORD};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

pub async fn run(
    port: u16,
    tls: bool,
    data: Option<PathBuf>,
    seed: Option<PathBuf>,
    no_demo: bool,
) -> Result<ExitCode, Fatal> {
    // In place before the org starts, so a stop during start-up still saves.
    let stop = crate::stop_requested();
    let seed = match seed {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Fatal::new(format!(
                    "seed file {}: {e}. Check the path.",
                    path.display()
                ))
            })?;
            Some(
                serde_json::from_str::<sf_emulator::Seed>(&text).map_err(|e| {
                    Fatal::new(format!(
                        "seed file {}: {e}. Fix the JSON at that line.",
                        path.display()
                    ))
                })?,
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
    writeln!(out, "listening on {}", org.base_url())
        .and_then(|_| out.flush())
        .map_err(Fatal::output)?;
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
    stop.await;
    tracing::info!("stopping the playground org");
    org.shutdown().await.map_err(|e| {
        Fatal::new(format!(
            "saving the org: {e}. Check the data folder has room."
        ))
    })?;
    Ok(ExitCode::SUCCESS)
}
