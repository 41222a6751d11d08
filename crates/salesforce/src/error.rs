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
    /// The server's certificate is not trusted: retrying will not mend it.
    #[error("{url} presented a TLS certificate this machine does not trust: {message}")]
    Tls { url: String, message: String },
    /// The query is too long for the URL of a REST query.
    #[error(
        "the query is {length} characters long; a REST query carries at most {limit} in its URL"
    )]
    QueryTooLong { length: usize, limit: usize },
    /// A pinned API version the org does not offer.
    #[error("the org does not offer API version {version} (it offers {offered})")]
    VersionUnavailable { version: String, offered: String },
    /// Something on this machine failed (a socket, a file): no retry mends it.
    #[error("{0}")]
    Local(String),
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
            Error::Tls { .. } => "tls",
            Error::QueryTooLong { .. } => "query_too_long",
            Error::VersionUnavailable { .. } => "version_unavailable",
            Error::Local(_) => "local",
            Error::Protocol(_) => "protocol",
            Error::Invalid(_) => "invalid",
        }
    }

    /// What the user can do about it.
    pub fn next_step(&self) -> String {
        match self {
            Error::Api { code, status, .. } => api_next_step(code, *status).into(),
            Error::OAuth { .. } => "Check the consumer key, secret and login URL of the connection.".into(),
            Error::NeedsGrant(_) => "Grant access to the connection again.".into(),
            Error::Denied(_) => "Grant access again and choose Allow.".into(),
            Error::PortInUse { port } => format!("Close the program using port {port}, or pick another callback port (it must match the connected app)."),
            Error::Timeout(_) => "Grant access again and finish signing in in the browser.".into(),
            Error::StateMismatch => "Grant access again; close other sign-in tabs first.".into(),
            Error::ApiCap { .. } => "Raise the connection's daily cap or wait until Salesforce's 24-hour count goes down.".into(),
            Error::OutcomeUnknown { .. } => "Look the record up before trying again, so it is not created twice.".into(),
            Error::Network { .. } => "Check the network and the instance URL, then try again.".into(),
            Error::Tls { .. } => "If the server is yours (a corporate proxy, the playground with --tls), put its certificate in a PEM file and set SSL_CERT_FILE to that file; otherwise check the login URL.".into(),
            Error::QueryTooLong { .. } => "Export it as CSV (Bulk API 2.0 takes the query in the request body), or shorten it, for example by splitting a long IN list.".into(),
            Error::VersionUnavailable { .. } => "Pick a version the org offers, or leave the version out to use the newest.".into(),
            Error::Invalid(_) => "Correct the value and try again.".into(),
            Error::Local(_) => "This failed on this machine, so trying again will not help; check the message (disk space, permissions, ports), or report it with the log file.".into(),
            Error::Protocol(_) => "Salesforce's answer was not what its API documents; report this with the log file.".into(),
        }
    }

    pub fn api_code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The next step for an error Salesforce answered, by its code: a query
/// error is mended in the query, a record error in the values, a limit by
/// waiting; anything else by reading Salesforce's message.
fn api_next_step(code: &str, status: u16) -> &'static str {
    match code {
        "REQUEST_LIMIT_EXCEEDED" => {
            "The org's daily API allowance is spent; wait until Salesforce's 24-hour count goes down, or ask Salesforce for more."
        }
        "INVALID_SESSION_ID" => "Grant access to the connection again.",
        "MALFORMED_QUERY"
        | "INVALID_FIELD"
        | "INVALID_TYPE"
        | "NUMBER_OUTSIDE_VALID_RANGE"
        | "INVALID_QUERY_FILTER_OPERATOR"
        | "QUERY_TOO_COMPLICATED"
        | "INVALID_QUERY_LOCATOR"
        | "MALFORMED_SEARCH" => "Fix the query; the message points at the problem.",
        "REQUIRED_FIELD_MISSING"
        | "STRING_TOO_LONG"
        | "INVALID_TYPE_ON_FIELD_IN_RECORD"
        | "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        | "DUPLICATE_VALUE"
        | "INVALID_CROSS_REFERENCE_KEY"
        | "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        | "INVALID_EMAIL_ADDRESS"
        | "MALFORMED_ID"
        | "ENTITY_IS_DELETED" => "Check the record values named in the message.",
        "UNABLE_TO_LOCK_ROW" => {
            "Another job holds these records; try again in a moment, or run the job serially."
        }
        "INSUFFICIENT_ACCESS"
        | "INSUFFICIENT_ACCESS_OR_READONLY"
        | "API_DISABLED_FOR_ORG"
        | "API_CURRENTLY_DISABLED" => "The signed-in user lacks a permission; ask the org's admin.",
        "NOT_FOUND" => "Check the object, record id and API version in the request.",
        _ if status >= 500 => "Salesforce had a problem; try again in a few minutes.",
        _ => "Salesforce refused the request; its message says why.",
    }
}
