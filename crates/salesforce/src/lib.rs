//! The Salesforce API client for Sync Studio: sign-in (OAuth 2.0 + PKCE
//! over a loopback redirect, refresh, client credentials), REST calls with
//! retries and single-flight refresh, query streams, API-use tracking and
//! typed errors. It knows nothing of flows or storage.

pub mod auth;
pub mod bulk;
pub mod client;
pub mod error;
pub mod net;
pub mod records;

pub use auth::{App, Environment, Loopback, Tokens};
pub use bulk::{Ingest, JobOutcome};
pub use client::{Client, Config, QueryPage, Replay};
pub use error::{Error, Result};
pub use records::{Collection, RecordError, RecordResult};
