//! The desktop shell: Tauri commands and events, each a thin call into
//! `studio`. What the screens do lives in `ui/`; what the app does lives in
//! `crates/studio`. Nothing here decides anything.

mod commands;
mod desktop;
#[cfg(test)]
mod licenses;
mod tray;

use std::sync::Arc;
use std::time::Instant;
use tauri::Manager;

pub use commands::{ConnectionsChanged, FlowsChanged, SignInStarted};
pub use desktop::NoticeOpened;

/// When `main` began, for the "first screen painted" log line.
pub struct Started(pub Instant);

/// Every command and event the UI may use; also what the TypeScript
/// bindings are generated from.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            commands::list_connections,
            commands::add_connection,
            commands::grant_access,
            commands::cancel_sign_in,
            commands::test_connection,
            commands::remove_connection,
            commands::list_objects,
            commands::describe_object,
            commands::run_query,
            commands::start_export,
            commands::playground_status,
            commands::start_playground,
            commands::stop_playground,
            commands::connect_playground,
            commands::get_settings,
            commands::save_settings,
            commands::open_log_folder,
            commands::about,
            commands::copy_diagnostics,
            commands::start_at_login,
            commands::set_start_at_login,
            commands::preview_import_file,
            commands::propose_mapping,
            commands::load_mapping,
            commands::save_mapping,
            commands::start_run,
            commands::cancel_run,
            commands::list_runs,
            commands::run_rates,
            commands::result_rows,
            commands::open_result_file,
            commands::app_ready,
            commands::list_flows,
            commands::get_flow,
            commands::check_flow,
            commands::save_flow,
            commands::set_flow_enabled,
            commands::delete_flow,
            commands::test_flow,
            commands::run_flow_now,
            commands::read_flow_file,
            commands::write_flow_file,
        ])
        .events(tauri_specta::collect_events![
            SignInStarted,
            ConnectionsChanged,
            FlowsChanged,
            NoticeOpened
        ])
        // The flow file crosses as JSON text; the canvas reads it as this.
        .typ::<studio::flows::FlowFile>()
        .constant(
            "DEFAULT_CALLBACK_PORT",
            studio::connections::DEFAULT_CALLBACK_PORT,
        )
}

/// Where the TypeScript bindings live, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/bindings.ts";

pub fn typescript() -> specta_typescript::Typescript {
    specta_typescript::Typescript::default()
        .header("// Generated from src-tauri by `UPDATE_BINDINGS=1 cargo test -p sync-studio`. Do not edit.")
}

pub fn run() {
    let started = Instant::now();
    let home = studio::home::home();
    let studio = match studio::Studio::open(&home) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            let p = e.problem();
            eprintln!("Sync Studio cannot start: {}. {}", p.message, p.detail);
            std::process::exit(2);
        }
    };
    studio::logging::init(
        &studio.log_folder(),
        "sync-studio.log",
        studio::logging::Stderr::On("info"),
    );
    let builder = specta_builder();
    let playground_at_start = std::env::args().any(|a| a == "--playground");
    let runner_name = studio::flows::serve::holder_name("the Sync Studio app");
    let stop_flows = studio::runs::Cancel::new();
    let stop_on_exit = stop_flows.clone();
    desktop::plugins(tauri::Builder::default())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(builder.invoke_handler())
        .manage(studio.clone())
        .manage(Started(started))
        .manage(commands::FlowRunnerName(runner_name.clone()))
        .setup(move |app| {
            builder.mount_events(app);
            tray::install(app);
            desktop::show_unless_minimized(app);
            desktop::install_notifications(app.handle(), &studio);
            // Enabled flows run while the app is open (and in the tray).
            let runner = studio.clone();
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let tell = |line: &str| {
                    let _ = tauri_specta::Event::emit(
                        &FlowsChanged {
                            line: line.to_string(),
                        },
                        &handle,
                    );
                };
                if let Err(e) = runner.serve_flows(&runner_name, &stop_flows, &tell).await {
                    tracing::error!("the flow runner stopped: {e}");
                }
            });
            if playground_at_start {
                // `scripts/playground.sh`: start the built-in org and connect it.
                let studio = studio.clone();
                let handle = app.handle().clone();
                tauri::async_runtime::spawn(async move {
                    let problem = studio.connect_playground().await.err().map(|e| e.problem());
                    if let Some(p) = &problem {
                        tracing::error!("playground: {}", p.message);
                    }
                    let _ = tauri_specta::Event::emit(&ConnectionsChanged { problem }, &handle);
                });
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the Tauri runtime starts")
        .run(move |app, event| {
            tray::on_run_event(app, &event);
            if let tauri::RunEvent::Exit = event {
                stop_on_exit.cancel();
                // Save the playground org's records before leaving.
                let studio = app.state::<Arc<studio::Studio>>().inner().clone();
                tauri::async_runtime::block_on(async move {
                    let _ = studio.stop_playground().await;
                });
            }
        });
}

#[cfg(test)]
mod tests {
    /// The checked-in bindings must match the Rust types; set
    /// UPDATE_BINDINGS=1 to rewrite them.
    #[test]
    fn typescript_bindings_are_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(super::BINDINGS_PATH);
        let fresh = std::env::temp_dir().join(format!("bindings-{}.ts", std::process::id()));
        super::specta_builder()
            .export(super::typescript(), &fresh)
            .expect("bindings export");
        let fresh_text = std::fs::read_to_string(&fresh).unwrap();
        let _ = std::fs::remove_file(&fresh);
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh_text).unwrap();
            return;
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == fresh_text,
            "ui/src/bindings.ts is out of date: run `UPDATE_BINDINGS=1 cargo test -p sync-studio typescript_bindings`"
        );
    }
}
