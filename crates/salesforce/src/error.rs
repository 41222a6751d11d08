//! One error type for everything the client can meet, each saying what
//! happened and what to do next.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Salesforce answered with an error body.
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        status: u16,
        code: String,
        message: String,
        fields: Vec<String>,
    },
    /// The token endpoint refused (`invalid_grant`, `invalid_client_id`, …).
    #[error("sign-in refused: {description} ({error})")]
    OAuth { error: String, description: String },
    /// The refresh token no longer works: the user must Grant access again.
    #[error("the saved sign-in no longer works ({0}); Grant access again")]
    NeedsGrant(String),
    #[error("access was denied in the browser: {0}")]
    Denied(String),
    #[error(
        "port {port} on 127.0.0.1 is already in use, so the sign-in redirect cannot be received"
    )]
    PortInUse { port: u16 },
    #[error("no answer from the browser within {0:?}")]
    Timeout(Duration),
    #[error("the browser's answer carried a different state than the request; it was ignored")]
    StateMismatch,
    #[error("stopped before the daily API cap: {used} of {cap} calls used today")]
    ApiCap { used: u64, cap: u64 },
    /// A write whose answer was lost: it may or may not have happened.
    #[error(
        "the connection dropped before Salesforce answered, so it is unknown whether the {what} happened"
    )]
    OutcomeUnknown { what: String },
    #[error("cannot reach {url}: {message}")]
    Network { url: String, message: String },
    #[error("unexpected answer from Salesforce: {0}")]
    Protocol(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A stable name for the UI and scripts.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Api { .. } => "api",
            Error::OAuth { .. } => "oauth",
            Error::NeedsGrant(_) => "needs_grant",
            Error::Denied(_) => "denied",
            Error::PortInUse { .. } => "port_in_use",
            Error::Timeout(_) => "timeout",
            Error::StateMismatch => "state_mismatch",
            Error::ApiCap { .. } => "api_cap",
            Error::OutcomeUnknown { .. } => "outcome_unknown",
            Error::Network { .. } => "network",
            Error::Protocol(_) => "protocol",
            Error::Invalid(_) => "invalid",
        }
    }

    /// What the user can do about it.
    pub fn next_step(&self) -> String {
        match self {
            Error::Api { code, .. } => match code.as_str() {
                "REQUEST_LIMIT_EXCEEDED" => "The org's daily API allowance is spent; wait until it resets or ask Salesforce for more.".into(),
                "INVALID_SESSION_ID" => "Grant access again.".into(),
                "MALFORMED_QUERY" | "INVALID_FIELD" | "INVALID_TYPE" => "Fix the query; the message points at the problem.".into(),
                _ => "Check the record values named in the message.".into(),
            },
            Error::OAuth { .. } => "Check the consumer key, secret and login URL of the connection.".into(),
            Error::NeedsGrant(_) => "Click Grant access (or run `syncstudio connections add` again).".into(),
            Error::Denied(_) => "Grant access again and choose Allow.".into(),
            Error::PortInUse { port } => format!("Close the program using port {port}, or pick another callback port (it must match the connected app)."),
            Error::Timeout(_) => "Grant access again and finish signing in in the browser.".into(),
            Error::StateMismatch => "Grant access again; close other sign-in tabs first.".into(),
            Error::ApiCap { .. } => "Raise the connection's daily cap or wait for tomorrow.".into(),
            Error::OutcomeUnknown { .. } => "Look the record up before trying again, so it is not created twice.".into(),
            Error::Network { .. } => "Check the network and the instance URL, then try again.".into(),
            Error::Protocol(_) | Error::Invalid(_) => "Report this with the log file.".into(),
        }
    }

    pub fn api_code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}
