//! One-line commands over `studio`. Errors cross as `{kind, message, detail}`.

use crate::Started;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use studio::flows::run::FlowTest;
use studio::flows::{FlowInfo, FlowOverview, Problem as FlowProblem};
use studio::grid::{GridPage, QuerySummary};
use studio::import::RunJob;
use studio::import::plan::{MapFile, Operation};
use studio::import::preview::{self, FilePreview, MappingProposal};
use studio::import::source::{DelimiterChoice, EncodingChoice};
use studio::playground::PlaygroundStatus;
use studio::runs::{
    RateSample, ResultFile, ResultRows, RunHost, RunProgress, RunRecord, RunSummary,
};
use studio::schema::{ObjectDetail, ObjectSummary};
use studio::settings::{Settings, SettingsChange};
use studio::{ConnectionForm, ConnectionRow, Problem, SignIn, Studio};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;
use tauri_specta::Event;

type Result<T> = std::result::Result<T, Problem>;
type StudioState<'a> = State<'a, Arc<Studio>>;

/// How long Grant access waits for the browser before giving up.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);

fn problem(e: studio::Error) -> Problem {
    e.problem()
}

/// The authorization URL the browser was sent to, for the waiting screen
/// ("if nothing opened, visit ...").
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct SignInStarted {
    pub url: String,
}

/// Connections changed outside a screen's own call (the playground connected
/// at start-up); `problem` says why when that failed.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ConnectionsChanged {
    pub problem: Option<Problem>,
}

/// `$SYNCSTUDIO_BROWSER` when set, the system browser otherwise; tells the
/// UI which URL it was.
fn browser(app: AppHandle) -> impl FnOnce(&str) -> studio::connections::ClientResult<()> {
    move |url: &str| {
        let _ = SignInStarted { url: url.into() }.emit(&app);
        let opened = match studio::browser::open_with_override(url) {
            Some(r) => r.map(|_| ()).map_err(|e| e.to_string()),
            None => app
                .opener()
                .open_url(url, None::<&str>)
                .map_err(|e| e.to_string()),
        };
        if let Err(e) = opened {
            // The waiting screen shows the URL to open by hand.
            tracing::warn!("could not open the browser: {e}");
        }
        Ok(())
    }
}

#[tauri::command]
#[specta::specta]
pub fn list_connections(studio: StudioState<'_>) -> Result<Vec<ConnectionRow>> {
    studio.connections().map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn add_connection(
    app: AppHandle,
    studio: StudioState<'_>,
    form: ConnectionForm,
) -> Result<ConnectionRow> {
    let new = form.try_into().map_err(problem)?;
    let sign_in = SignIn::Browser {
        timeout: SIGN_IN_TIMEOUT,
    };
    studio
        .add_connection(new, sign_in, browser(app))
        .await
        .map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn grant_access(
    app: AppHandle,
    studio: StudioState<'_>,
    name: String,
) -> Result<ConnectionRow> {
    let sign_in = SignIn::Browser {
        timeout: SIGN_IN_TIMEOUT,
    };
    studio
        .grant_again(&name, sign_in, browser(app))
        .await
        .map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub fn cancel_sign_in(studio: StudioState<'_>) {
    studio.cancel_sign_in();
}

#[tauri::command]
#[specta::specta]
pub async fn test_connection(studio: StudioState<'_>, name: String) -> Result<ConnectionRow> {
    studio.test_connection(&name).await.map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_connection(studio: StudioState<'_>, name: String) -> Result<studio::Removal> {
    studio.remove_connection(&name).await.map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn list_objects(
    studio: StudioState<'_>,
    connection: String,
) -> Result<Vec<ObjectSummary>> {
    studio.objects(&connection).await.map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn describe_object(
    studio: StudioState<'_>,
    connection: String,
    object: String,
) -> Result<ObjectDetail> {
    studio.object(&connection, &object).await.map_err(problem)
}

/// Streams pages of rows to `pages` as they arrive.
#[tauri::command]
#[specta::specta]
pub async fn run_query(
    studio: StudioState<'_>,
    connection: String,
    soql: String,
    include_deleted: bool,
    pages: Channel<GridPage>,
) -> Result<QuerySummary> {
    studio
        .query_grid(&connection, &soql, include_deleted, |page| {
            let _ = pages.send(page);
        })
        .await
        .map_err(problem)
}

/// Writes the query's rows as CSV to `path` (chosen in the save dialog),
/// as an export run: progress, Cancel, and a line in Runs.
#[tauri::command]
#[specta::specta]
pub async fn start_export(
    studio: StudioState<'_>,
    connection: String,
    soql: String,
    include_deleted: bool,
    path: String,
    progress: Channel<RunProgress>,
) -> Result<RunSummary> {
    let spec = studio::export::ExportSpec::csv(&connection, &soql, include_deleted, path.into());
    let host = ProgressChannel(progress);
    let tracked = studio.track();
    studio
        .export(&spec, &host, &tracked.cancel, |id| {
            tracked.started(id);
            host.started(id);
        })
        .await
        .map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn playground_status(studio: StudioState<'_>) -> Result<PlaygroundStatus> {
    Ok(studio.playground_status().await)
}

#[tauri::command]
#[specta::specta]
pub async fn start_playground(studio: StudioState<'_>) -> Result<PlaygroundStatus> {
    studio.start_playground().await.map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn stop_playground(studio: StudioState<'_>) -> Result<PlaygroundStatus> {
    studio.stop_playground().await.map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn connect_playground(studio: StudioState<'_>) -> Result<ConnectionRow> {
    studio.connect_playground().await.map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub fn get_settings(studio: StudioState<'_>) -> Result<Settings> {
    studio.settings().map_err(problem)
}

fn shell_facts(app: &AppHandle) -> studio::about::ShellFacts {
    studio::about::ShellFacts {
        app_version: app.package_info().version.to_string(),
        tauri_version: tauri::VERSION.to_string(),
        webview_version: tauri::webview_version().unwrap_or_else(|e| format!("unknown ({e})")),
    }
}

fn desktop(e: impl std::fmt::Display) -> Problem {
    problem(studio::Error::Desktop(e.to_string()))
}

#[tauri::command]
#[specta::specta]
pub fn about(app: AppHandle, studio: StudioState<'_>) -> studio::about::About {
    studio.about(&shell_facts(&app))
}

/// Puts the diagnostics on the clipboard and answers them, to be shown.
#[tauri::command]
#[specta::specta]
pub fn copy_diagnostics(app: AppHandle, studio: StudioState<'_>) -> Result<String> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let text = studio.diagnostics(&shell_facts(&app));
    app.clipboard().write_text(text.clone()).map_err(desktop)?;
    Ok(text)
}

/// Whether the app starts at login (in the tray).
#[tauri::command]
#[specta::specta]
pub fn start_at_login(app: AppHandle) -> Result<bool> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(desktop)
}

#[tauri::command]
#[specta::specta]
pub fn set_start_at_login(app: AppHandle, enabled: bool) -> Result<bool> {
    use tauri_plugin_autostart::ManagerExt;
    let login = app.autolaunch();
    if enabled {
        login.enable().map_err(desktop)?;
    } else {
        login.disable().map_err(desktop)?;
    }
    login.is_enabled().map_err(desktop)
}

#[tauri::command]
#[specta::specta]
pub fn save_settings(studio: StudioState<'_>, change: SettingsChange) -> Result<Settings> {
    studio.save_settings(change).map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub fn open_log_folder(app: AppHandle, studio: StudioState<'_>) -> Result<()> {
    let folder = studio.log_folder();
    app.opener()
        .open_path(folder.display().to_string(), None::<&str>)
        .map_err(|e| studio::Error::Output(format!("{}: {e}", folder.display())))
        .map_err(problem)
}

/// The UI calls this once its first screen is painted.
#[tauri::command]
#[specta::specta]
pub fn app_ready(started: State<'_, Started>) {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    tracing::info!(
        since_main_ms = started.0.elapsed().as_millis() as u64,
        epoch_ms = since_epoch.as_millis() as u64,
        "first screen painted"
    );
}

/// A run's progress, sent to the screen that started it.
struct ProgressChannel(Channel<RunProgress>);

impl RunHost for ProgressChannel {
    fn progress(&self, progress: &RunProgress) {
        let _ = self.0.send(progress.clone());
    }
}

impl ProgressChannel {
    /// The run's id at once (with nothing done), so Cancel can name it.
    fn started(&self, run: &str) {
        self.progress(&RunProgress {
            run: run.to_string(),
            rows_done: 0,
            rows_total: None,
            api_calls: 0,
            elapsed_ms: 0,
        });
    }
}

#[tauri::command]
#[specta::specta]
pub async fn preview_import_file(
    path: String,
    encoding: EncodingChoice,
    delimiter: DelimiterChoice,
) -> Result<FilePreview> {
    // Counting a large file's rows is disk work: off the async threads.
    tauri::async_runtime::spawn_blocking(move || {
        preview::preview_file(std::path::Path::new(&path), encoding, delimiter)
    })
    .await
    .map_err(|e| studio::Error::Output(e.to_string()))
    .and_then(|r| r)
    .map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn propose_mapping(
    studio: StudioState<'_>,
    connection: String,
    object: String,
    operation: Operation,
    header: Vec<String>,
    saved: Option<MapFile>,
) -> Result<MappingProposal> {
    studio
        .propose_mapping(&connection, &object, operation, &header, saved.as_ref())
        .await
        .map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub fn load_mapping(path: String) -> Result<MapFile> {
    MapFile::load(std::path::Path::new(&path)).map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub fn save_mapping(path: String, mapping: MapFile) -> Result<()> {
    mapping.save(std::path::Path::new(&path)).map_err(problem)
}

/// An import (or its dry run, with `spec.dry_run`), a retry of its failed
/// rows, the rest of a stopped one, or its undo: to its end or its cancel.
#[tauri::command]
#[specta::specta]
pub async fn start_run(
    studio: StudioState<'_>,
    job: RunJob,
    progress: Channel<RunProgress>,
) -> Result<RunSummary> {
    let host = ProgressChannel(progress);
    let tracked = studio.track();
    studio
        .run_job(&job, &host, &tracked.cancel, |id| {
            tracked.started(id);
            host.started(id);
        })
        .await
        .map_err(problem)
}

/// Asks a running job to stop after its in-flight requests; false when it
/// is not running here.
#[tauri::command]
#[specta::specta]
pub fn cancel_run(studio: StudioState<'_>, run: String) -> bool {
    studio.cancel_run(&run)
}

#[tauri::command]
#[specta::specta]
pub fn list_runs(studio: StudioState<'_>) -> Result<Vec<RunRecord>> {
    studio.run_records().map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub fn run_rates(studio: StudioState<'_>, run: String) -> Result<Vec<RateSample>> {
    studio.run_rates(&run).map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub fn result_rows(
    studio: StudioState<'_>,
    run: String,
    which: ResultFile,
    limit: u32,
) -> Result<ResultRows> {
    studio
        .result_rows(&run, which, limit as usize)
        .map_err(problem)
}

/// Opens a result file in the app the system uses for CSV.
#[tauri::command]
#[specta::specta]
pub fn open_result_file(
    app: AppHandle,
    studio: StudioState<'_>,
    run: String,
    which: ResultFile,
) -> Result<()> {
    let path = studio.result_path(&run, which).map_err(problem)?;
    app.opener()
        .open_path(path.display().to_string(), None::<&str>)
        .map_err(|e| studio::Error::Output(format!("{}: {e}", path.display())))
        .map_err(problem)
}

// ---- flows ------------------------------------------------------------

/// The name this app's flow runner holds leases under.
pub struct FlowRunnerName(pub String);

/// A flow's runner finished a poll that fired, or a poll failed: the
/// Flows screen refreshes its list.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct FlowsChanged {
    pub line: String,
}

#[tauri::command]
#[specta::specta]
pub fn list_flows(studio: StudioState<'_>) -> Result<Vec<FlowOverview>> {
    studio.flow_overview().map_err(problem)
}

/// The flow file as saved (JSON text).
#[tauri::command]
#[specta::specta]
pub fn get_flow(studio: StudioState<'_>, name: String) -> Result<String> {
    studio.export_flow(&name).map_err(problem)
}

/// What is wrong with a flow file not saved yet, each with its node.
#[tauri::command]
#[specta::specta]
pub async fn check_flow(studio: StudioState<'_>, text: String) -> Result<Vec<FlowProblem>> {
    studio.flow_problems(&text).await.map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn save_flow(studio: StudioState<'_>, text: String) -> Result<FlowInfo> {
    studio.import_flow(&text).await.map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn set_flow_enabled(
    studio: StudioState<'_>,
    name: String,
    enabled: bool,
) -> Result<FlowInfo> {
    studio
        .set_flow_enabled(&name, enabled)
        .await
        .map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub fn delete_flow(studio: StudioState<'_>, name: String) -> Result<()> {
    studio.delete_flow(&name).map_err(problem)
}

/// The canvas's Test: the latest matching record through the flow as
/// drawn, nothing written.
#[tauri::command]
#[specta::specta]
pub async fn test_flow(studio: StudioState<'_>, text: String) -> Result<FlowTest> {
    studio.test_flow_draft(&text).await.map_err(problem)
}

#[tauri::command]
#[specta::specta]
pub async fn run_flow_now(
    studio: StudioState<'_>,
    runner: State<'_, FlowRunnerName>,
    name: String,
) -> Result<Option<RunSummary>> {
    let cancel = studio::runs::Cancel::new();
    studio
        .run_flow_now(&name, &runner.0, &studio::runs::QuietHost, &cancel)
        .await
        .map_err(problem)
}

/// Reads a flow file the user picked (Import…).
#[tauri::command]
#[specta::specta]
pub fn read_flow_file(path: String) -> Result<String> {
    studio::flows::read_file(std::path::Path::new(&path)).map_err(problem)
}

/// Writes the flow file where the user chose (Export…).
#[tauri::command]
#[specta::specta]
pub fn write_flow_file(path: String, text: String) -> Result<()> {
    studio::flows::write_file(std::path::Path::new(&path), &text).map_err(problem)
}
