//! One error type for the engine, carried to the UI and the CLI as
//! `{kind, message, detail}`: what happened, and what to do next.

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Salesforce(#[from] salesforce::Error),
    /// A saved sign-in that no longer works (revoked, expired, missing).
    #[error("the sign-in of connection {connection:?} no longer works ({reason})")]
    NeedsGrant { connection: String, reason: String },
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
    /// A flow file that cannot run: each problem with its node.
    #[error("{}", flow_problems(.0))]
    FlowProblems(Vec<crate::flows::Problem>),
    #[error("no flow named {0:?}")]
    UnknownFlow(String),
    /// Another runner holds the flow's lease.
    #[error("flow {flow:?} is run by {holder}")]
    FlowHeld { flow: String, holder: String },
    /// Writing results (a file, stdout) failed.
    #[error("cannot write the output: {0}")]
    Output(String),
    /// The reader of the output went away (`| head`): not a failure.
    #[error("the output was closed by its reader")]
    OutputClosed,
    #[error("sign-in cancelled")]
    Cancelled,
    /// A run stopped at the user's request, after its in-flight requests.
    #[error("the run was cancelled")]
    RunCancelled,
    /// A console query stopped because a newer one replaced it.
    #[error("a newer query replaced this one")]
    Superseded,
    /// The built-in playground org could not start or answer.
    #[error("the playground org: {0}")]
    Playground(String),
    /// Another playground already keeps its records in this data folder.
    #[error("the playground's data folder is in use: {0}")]
    PlaygroundInUse(String),
    /// The desktop refused something the app asked of it (start at login,
    /// the clipboard).
    #[error("the desktop refused: {0}")]
    Desktop(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Every kind of failure, named for the UI and scripts: a closed list that
/// the generated bindings carry, so no screen compares free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ErrorKind {
    Api,
    Oauth,
    NeedsGrant,
    Denied,
    PortInUse,
    Timeout,
    StateMismatch,
    ApiCap,
    OutcomeUnknown,
    Network,
    Tls,
    QueryTooLong,
    VersionUnavailable,
    Local,
    Protocol,
    Invalid,
    Keychain,
    Store,
    UnknownConnection,
    DuplicateConnection,
    Output,
    OutputClosed,
    Cancelled,
    Playground,
    PlaygroundInUse,
    /// Another runner (the desktop app, `flows serve`) runs the flow.
    FlowHeld,
    /// The desktop session refused (autostart entry, clipboard).
    Desktop,
    /// Something the engine did not foresee (the UI's own fallback).
    Internal,
}

/// Where the user reads the next step: it names what they can do there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Desktop,
    Cli,
}

/// What the UI shows: the kind, the message and the next step.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Problem {
    pub kind: ErrorKind,
    pub message: String,
    pub detail: String,
}

fn salesforce_kind(e: &salesforce::Error) -> ErrorKind {
    use salesforce::Error as S;
    match e {
        S::Api { .. } => ErrorKind::Api,
        S::OAuth { .. } => ErrorKind::Oauth,
        S::NeedsGrant(_) => ErrorKind::NeedsGrant,
        S::Denied(_) => ErrorKind::Denied,
        S::PortInUse { .. } => ErrorKind::PortInUse,
        S::Timeout(_) => ErrorKind::Timeout,
        S::StateMismatch => ErrorKind::StateMismatch,
        S::ApiCap { .. } => ErrorKind::ApiCap,
        S::OutcomeUnknown { .. } => ErrorKind::OutcomeUnknown,
        S::Network { .. } => ErrorKind::Network,
        S::Tls { .. } => ErrorKind::Tls,
        S::QueryTooLong { .. } => ErrorKind::QueryTooLong,
        S::VersionUnavailable { .. } => ErrorKind::VersionUnavailable,
        S::Local(_) => ErrorKind::Local,
        S::Protocol(_) => ErrorKind::Protocol,
        S::Invalid(_) => ErrorKind::Invalid,
    }
}

fn flow_problems(problems: &[crate::flows::Problem]) -> String {
    let each: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    match problems.len() {
        1 => format!("the flow has a problem: {}", each[0]),
        n => format!("the flow has {n} problems: {}", each.join("; ")),
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Salesforce(e) => salesforce_kind(e),
            Error::NeedsGrant { .. } => ErrorKind::NeedsGrant,
            Error::Keychain(_) => ErrorKind::Keychain,
            Error::Store { .. } => ErrorKind::Store,
            Error::UnknownConnection(_) => ErrorKind::UnknownConnection,
            Error::DuplicateConnection(_) => ErrorKind::DuplicateConnection,
            Error::Invalid(_) | Error::FlowProblems(_) => ErrorKind::Invalid,
            Error::UnknownFlow(_) => ErrorKind::Invalid,
            Error::FlowHeld { .. } => ErrorKind::FlowHeld,
            Error::Output(_) => ErrorKind::Output,
            Error::OutputClosed => ErrorKind::OutputClosed,
            Error::Cancelled | Error::RunCancelled | Error::Superseded => ErrorKind::Cancelled,
            Error::Playground(_) => ErrorKind::Playground,
            Error::PlaygroundInUse(_) => ErrorKind::PlaygroundInUse,
            Error::Desktop(_) => ErrorKind::Desktop,
        }
    }

    /// The next step, in the desktop app's words.
    pub fn next_step(&self) -> String {
        self.next_step_for(Surface::Desktop)
    }

    /// The next step, in the words of the surface the user is on: a button
    /// in the app, a command in the CLI.
    pub fn next_step_for(&self, surface: Surface) -> String {
        let cli = surface == Surface::Cli;
        match self {
            Error::NeedsGrant { connection, .. } if cli => format!(
                "Sign in again with `syncstudio connections grant {}`.",
                shell_word(connection)
            ),
            Error::NeedsGrant { .. } => {
                "Click Grant access on the Connections screen to sign in again.".into()
            }
            Error::Salesforce(salesforce::Error::NeedsGrant(_)) if cli => {
                "Sign in again with `syncstudio connections grant NAME`.".into()
            }
            Error::Salesforce(salesforce::Error::NeedsGrant(_)) => {
                "Click Grant access on the Connections screen to sign in again.".into()
            }
            Error::Salesforce(salesforce::Error::QueryTooLong { .. }) if cli => {
                "Run it with `--format csv` (Bulk API 2.0 takes the query in the request body), or shorten it, for example by splitting a long IN list.".into()
            }
            Error::Salesforce(e) => e.next_step(),
            Error::Keychain(_) => "Start a Secret Service and unlock it: on a desktop, log in to a GNOME or KDE session; \
on a server, run `dbus-run-session -- sh -c 'echo PASSWORD | gnome-keyring-daemon --unlock --components=secrets; syncstudio ...'`."
                .into(),
            Error::Store { .. } => {
                "Check that SYNCSTUDIO_HOME is writable and not used by another version.".into()
            }
            Error::UnknownConnection(_) if cli => {
                "List the connections with `syncstudio connections list`.".into()
            }
            Error::UnknownConnection(_) => "Pick a connection from the list.".into(),
            Error::DuplicateConnection(name) if cli => format!(
                "Pick another name; to sign the existing one in again, run `syncstudio connections grant {}`.",
                shell_word(name)
            ),
            Error::DuplicateConnection(_) => {
                "Pick another name, or use Grant access on the existing connection.".into()
            }
            Error::Invalid(_) => "Correct the value and try again.".into(),
            Error::FlowProblems(_) => "Correct each node named, then save or import the flow again.".into(),
            Error::UnknownFlow(_) if cli => "List the flows with `syncstudio flows list`.".into(),
            Error::UnknownFlow(_) => "Pick a flow from the list.".into(),
            Error::FlowHeld { .. } => {
                "It runs there already; stop that runner to run it here (its lease runs out a minute after it stops).".into()
            }
            Error::Output(_) => "Check the destination exists, is writable and has room.".into(),
            Error::OutputClosed => "Nothing to do.".into(),
            Error::Cancelled if cli => {
                "Run the command again to sign in.".into()
            }
            Error::Cancelled => "Click Grant access to try again.".into(),
            Error::RunCancelled if cli => {
                "Finish it with `syncstudio runs resume RUN` (the run id is the first line the command printed).".into()
            }
            Error::RunCancelled => "Finish it with Resume on the Runs screen.".into(),
            Error::Superseded => "Nothing to do: the newer query's rows are shown.".into(),
            Error::Playground(_) if cli => {
                "Pick another port with --port if this one is taken, then start it again.".into()
            }
            Error::Playground(_) => "Pick another playground port in Settings if this one is taken, then start it again.".into(),
            Error::PlaygroundInUse(_) => {
                "Stop the other playground first, or give this one another data folder.".into()
            }
            Error::Desktop(_) => {
                "Check that your desktop session is running and your home folder is writable, then try again.".into()
            }
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: self.kind(),
            message: self.to_string(),
            detail: self.next_step(),
        }
    }
}

/// A name as typed in a shell: quoted when it has spaces or quotes.
fn shell_word(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.@:/".contains(c))
    {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
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
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Error::OutputClosed;
        }
        Error::Output(e.to_string())
    }
}

impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Self {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => io.into(),
            other => Error::Output(format!("{other:?}")),
        }
    }
}

/// A page Salesforce sent that is not the JSON it should be.
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        if let Some(kind) = e.io_error_kind() {
            return std::io::Error::new(kind, e.to_string()).into();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_steps_speak_the_surface_language() {
        let e = Error::NeedsGrant {
            connection: "Acme Prod".into(),
            reason: "expired".into(),
        };
        assert_eq!(e.kind(), ErrorKind::NeedsGrant);
        let cli = e.next_step_for(Surface::Cli);
        assert!(
            cli.contains("syncstudio connections grant 'Acme Prod'"),
            "{cli}"
        );
        assert!(!cli.to_lowercase().contains("click"), "{cli}");
        assert!(e.next_step().contains("Grant access"));
        let closed: Error = std::io::Error::from(std::io::ErrorKind::BrokenPipe).into();
        assert_eq!(closed.kind(), ErrorKind::OutputClosed);
        assert_eq!(
            serde_json::to_value(ErrorKind::OutputClosed).unwrap(),
            "output_closed"
        );
    }
}
