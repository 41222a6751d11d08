//! One error type for the engine, carried to the UI and the CLI as
//! `{kind, message, detail}`: what happened, and what to do next.

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Salesforce(#[from] salesforce::Error),
    #[error("the OS keychain is not available: {0}")]
    Keychain(String),
    #[error("the local database {path}: {message}")]
    Store { path: String, message: String },
    #[error("no connection named {0:?}")]
    UnknownConnection(String),
    #[error("a connection named {0:?} exists already")]
    DuplicateConnection(String),
    #[error("{0}")]
    Invalid(String),
    /// Writing results (a file, stdout) failed.
    #[error("cannot write the output: {0}")]
    Output(String),
    #[error("sign-in cancelled")]
    Cancelled,
    /// The built-in playground org could not start or answer.
    #[error("the playground org: {0}")]
    Playground(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// What the UI shows: the kind, the message and the next step.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Problem {
    pub kind: String,
    pub message: String,
    pub detail: String,
}

impl Error {
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Salesforce(e) => e.kind(),
            Error::Keychain(_) => "keychain",
            Error::Store { .. } => "store",
            Error::UnknownConnection(_) => "unknown_connection",
            Error::DuplicateConnection(_) => "duplicate_connection",
            Error::Invalid(_) => "invalid",
            Error::Output(_) => "output",
            Error::Cancelled => "cancelled",
            Error::Playground(_) => "playground",
        }
    }

    pub fn next_step(&self) -> String {
        match self {
            Error::Salesforce(e) => e.next_step(),
            Error::Keychain(_) => "Start a Secret Service and unlock it: on a desktop, log in to a GNOME or KDE session; \
on a server, run `dbus-run-session -- sh -c 'echo PASSWORD | gnome-keyring-daemon --unlock --components=secrets; syncstudio ...'`."
                .into(),
            Error::Store { .. } => "Check that SYNCSTUDIO_HOME is writable and not used by another version.".into(),
            Error::UnknownConnection(_) => "List the connections with `syncstudio connections list`.".into(),
            Error::DuplicateConnection(_) => "Pick another name, or remove the old connection first.".into(),
            Error::Invalid(_) => "Correct the value and try again.".into(),
            Error::Output(_) => "Check the destination exists, is writable and has room.".into(),
            Error::Cancelled => "Click Grant access to try again.".into(),
            Error::Playground(_) => "Pick another playground port in Settings if this one is taken, then start it again.".into(),
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: self.kind().into(),
            message: self.to_string(),
            detail: self.next_step(),
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store {
            path: String::new(),
            message: e.to_string(),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Output(e.to_string())
    }
}

impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Self {
        Error::Output(e.to_string())
    }
}

/// A page Salesforce sent that is not the JSON it should be.
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Salesforce(salesforce::Error::Protocol(e.to_string()))
    }
}

/// Turns keyring's errors into what users can act on.
pub fn keychain_error(e: keyring::Error) -> Error {
    let text = e.to_string();
    let why = if text.contains("autolaunch")
        || text.contains("DISPLAY")
        || text.contains("DBUS_SESSION_BUS_ADDRESS")
    {
        "no D-Bus session is running".to_string()
    } else if text.contains("org.freedesktop.secrets") {
        "no Secret Service (such as gnome-keyring) is running".to_string()
    } else if text.to_ascii_lowercase().contains("locked") {
        "the keyring is locked".to_string()
    } else {
        text
    };
    Error::Keychain(why)
}
