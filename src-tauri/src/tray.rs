//! The tray icon: closing the window while flows are enabled keeps the app
//! running there (so the flows keep running); Quit in its menu leaves.

use std::sync::Arc;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{App, AppHandle, Manager, RunEvent, WindowEvent};
use tauri_plugin_window_state::AppHandleExt;

pub fn show(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// Adds the icon; a desktop without a tray (no StatusNotifier host) only
/// loses closing to the tray: the window then closes as usual.
pub fn install(app: &App) {
    let made = (|| -> tauri::Result<()> {
        let open = MenuItem::with_id(app, "open", "Open Sync Studio", true, None::<&str>)?;
        let quit = MenuItem::with_id(app, "quit", "Quit (stops the flows)", true, None::<&str>)?;
        let menu = Menu::with_items(app, &[&open, &quit])?;
        let mut tray = TrayIconBuilder::with_id("main")
            .tooltip("Sync Studio")
            .menu(&menu)
            .on_menu_event(|app, event| match event.id().as_ref() {
                "open" => show(app),
                "quit" => app.exit(0),
                _ => {}
            });
        if let Some(icon) = app.default_window_icon() {
            tray = tray.icon(icon.clone());
        }
        tray.build(app)?;
        Ok(())
    })();
    if let Err(e) = made {
        tracing::warn!("no tray icon ({e}); closing the window quits");
    }
}

/// Keeps running in the tray when the window closes with flows enabled.
pub fn on_run_event(app: &AppHandle, event: &RunEvent) {
    let RunEvent::WindowEvent {
        label,
        event: WindowEvent::CloseRequested { api, .. },
        ..
    } = event
    else {
        return;
    };
    // Kept now, not only at exit: a session logout kills a tray app.
    let _ = app.save_window_state(crate::desktop::window_state_flags());
    if app.state::<Arc<studio::Studio>>().any_flow_enabled()
        && app.tray_by_id("main").is_some()
        && let Some(w) = app.get_webview_window(label)
    {
        api.prevent_close();
        let _ = w.hide();
        tracing::info!("window closed; enabled flows keep running in the tray");
    }
}
