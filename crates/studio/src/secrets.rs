//! Tokens and consumer secrets in the OS keychain (Secret Service, Keychain,
//! Credential Manager), one entry per connection id. Never a file.

use crate::error::{Result, keychain_error};
use serde::{Deserialize, Serialize};

const SERVICE: &str = "sync-studio";

/// What the keychain holds for one connection. Debug hides it all.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Secret {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

fn entry(connection_id: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, connection_id).map_err(keychain_error)
}

pub fn save(connection_id: &str, secret: &Secret) -> Result<()> {
    let text = serde_json::to_string(secret).expect("json");
    entry(connection_id)?
        .set_password(&text)
        .map_err(keychain_error)
}

/// The saved secret, or None when there is none.
pub fn load(connection_id: &str) -> Result<Option<Secret>> {
    match entry(connection_id)?.get_password() {
        Ok(text) => Ok(serde_json::from_str(&text).ok()),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(keychain_error(e)),
    }
}

pub fn delete(connection_id: &str) -> Result<()> {
    match entry(connection_id)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keychain_error(e)),
    }
}

/// Fails early, with the fix, when no keychain service is running.
pub fn check_available() -> Result<()> {
    match entry("availability-check")?.get_password() {
        Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keychain_error(e)),
    }
}
