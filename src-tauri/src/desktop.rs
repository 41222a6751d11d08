//! The manners of an installed app, each a plugin wired to `studio`: one
//! instance, the window where it was left, start at login in the tray,
//! notifications that open what they are about.

use crate::tray;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use studio::notices::{Notice, NoticeHost, Opens};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;
use tauri_plugin_window_state::StateFlags;

/// The argument the login entry starts the app with: straight to the tray.
pub const MINIMIZED: &str = "--minimized";

/// A click on a notification: the screen it opens.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct NoticeOpened {
    pub opens: Opens,
}

/// Where the window was is restored; whether it was shown is not (the
/// tray and `--minimized` decide that).
pub fn window_state_flags() -> StateFlags {
    StateFlags::all() - StateFlags::VISIBLE
}

pub fn plugins(builder: tauri::Builder<tauri::Wry>) -> tauri::Builder<tauri::Wry> {
    builder
        // First, so a second launch stops before it opens anything.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tracing::info!("started again: showing the running window");
            tray::show(app);
        }))
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(window_state_flags())
                .build(),
        )
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .args([MINIMIZED])
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_clipboard_manager::init())
}

/// Shows the engine's notices as desktop notifications.
struct Notifications(AppHandle);

impl NoticeHost for Notifications {
    fn notice(&self, notice: &Notice) {
        tracing::info!(title = %notice.title, "notification");
        let shown = self
            .0
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .extra("opens", &notice.opens)
            .show();
        if let Err(e) = shown {
            tracing::warn!("no notification shown: {e}");
        }
    }
}

/// Notices from now on; a click shows the window at what it is about.
pub fn install_notifications(app: &AppHandle, studio: &studio::Studio) {
    let handle = app.clone();
    let listening = app.notification().on_action(move |performed| {
        if performed.action_id() != "tap" {
            return;
        }
        let opens = performed
            .notification()
            .and_then(|n| n.extra().get("opens").cloned())
            .and_then(|v| serde_json::from_value::<Opens>(v).ok());
        tray::show(&handle);
        if let Some(opens) = opens {
            let _ = tauri_specta::Event::emit(&NoticeOpened { opens }, &handle);
        }
    });
    if let Err(e) = listening {
        tracing::warn!("notification clicks are not heard: {e}");
    }
    studio.set_notice_host(Arc::new(Notifications(app.clone())));
}

/// The window starts hidden (so nothing flashes) and shows here, unless
/// the login entry started the app: then it stays in the tray. With no
/// tray the window is the only way in, so it shows anyway.
pub fn show_unless_minimized<R: Runtime>(app: &tauri::App<R>) {
    let Some(w) = app.get_webview_window("main") else {
        return;
    };
    if std::env::args().any(|a| a == MINIMIZED) && app.tray_by_id("main").is_some() {
        tracing::info!("started at login: in the tray");
    } else {
        let _ = w.show();
    }
}
