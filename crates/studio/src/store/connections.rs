//! The `connections` table: each connection's non-secret fields and the
//! API use Salesforce last reported for it.

use super::{Store, now};
use crate::error::{Error, Result};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A connection as stored: nothing secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionRow {
    pub id: String,
    pub name: String,
    pub login_url: String,
    pub client_id: String,
    pub callback_port: u16,
    pub api_version: Option<String>,
    // A plain number in the UI; daily API counts stay far below 2^32.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub daily_cap: Option<u64>,
    pub instance_url: Option<String>,
    pub username: Option<String>,
    pub org_id: Option<String>,
    pub user_id: Option<String>,
    /// `connected`, `needs_grant` or `error`.
    pub status: String,
    pub status_message: Option<String>,
    // A plain number in the UI; daily API counts stay far below 2^32.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub api_used: Option<u64>,
    // A plain number in the UI; daily API counts stay far below 2^32.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub api_limit: Option<u64>,
}

impl Store {
    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConnectionRow> {
        Ok(ConnectionRow {
            id: r.get("id")?,
            name: r.get("name")?,
            login_url: r.get("login_url")?,
            client_id: r.get("client_id")?,
            callback_port: r.get("callback_port")?,
            api_version: r.get("api_version")?,
            daily_cap: r.get("daily_cap")?,
            instance_url: r.get("instance_url")?,
            username: r.get("username")?,
            org_id: r.get("org_id")?,
            user_id: r.get("user_id")?,
            status: r.get("status")?,
            status_message: r.get("status_message")?,
            api_used: r.get("api_used")?,
            api_limit: r.get("api_limit")?,
        })
    }

    pub fn insert(&self, c: &ConnectionRow) -> Result<()> {
        let n = self.db().execute(
            "INSERT INTO connections (id, name, login_url, client_id, callback_port, api_version, daily_cap, instance_url,
                username, org_id, user_id, status, status_message, api_used, api_limit, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)
             ON CONFLICT(name) DO NOTHING",
            params![
                c.id, c.name, c.login_url, c.client_id, c.callback_port, c.api_version, c.daily_cap,
                c.instance_url, c.username, c.org_id, c.user_id, c.status, c.status_message,
                c.api_used, c.api_limit, now()
            ],
        )?;
        if n == 0 {
            return Err(Error::DuplicateConnection(c.name.clone()));
        }
        Ok(())
    }

    pub fn update(&self, c: &ConnectionRow) -> Result<()> {
        self.db().execute(
            "UPDATE connections SET login_url = ?2, client_id = ?3, callback_port = ?4, api_version = ?5, daily_cap = ?6,
                instance_url = ?7, username = ?8, org_id = ?9, user_id = ?10, status = ?11, status_message = ?12,
                api_used = ?13, api_limit = ?14, updated_at = ?15 WHERE id = ?1",
            params![
                c.id, c.login_url, c.client_id, c.callback_port, c.api_version, c.daily_cap, c.instance_url,
                c.username, c.org_id, c.user_id, c.status, c.status_message, c.api_used,
                c.api_limit, now()
            ],
        )?;
        Ok(())
    }

    /// Keeps the API use Salesforce just reported for a connection.
    pub fn record_usage(&self, id: &str, used: u64, limit: u64) -> Result<()> {
        self.db().execute(
            "UPDATE connections SET api_used = ?2, api_limit = ?3, api_usage_at = ?4 WHERE id = ?1",
            params![id, used, limit, now()],
        )?;
        Ok(())
    }

    /// The API use last reported for a connection, if within Salesforce's
    /// 24-hour window (older figures say nothing of today).
    pub fn recent_usage(&self, id: &str) -> Result<Option<(u64, u64)>> {
        let since = (chrono::Utc::now() - chrono::Duration::hours(24)).to_rfc3339();
        Ok(self
            .db()
            .query_row(
                "SELECT api_used, api_limit FROM connections
                 WHERE id = ?1 AND api_used IS NOT NULL AND api_usage_at > ?2",
                params![id, since],
                |r| Ok((r.get(0)?, r.get::<_, Option<u64>>(1)?.unwrap_or(0))),
            )
            .optional()?)
    }

    /// A connection by name; the name is trimmed as it was when saved.
    pub fn by_name(&self, name: &str) -> Result<ConnectionRow> {
        let name = name.trim();
        self.db()
            .query_row(
                "SELECT * FROM connections WHERE name = ?1",
                [name],
                Self::row,
            )
            .optional()?
            .ok_or_else(|| Error::UnknownConnection(name.to_string()))
    }

    pub fn list(&self) -> Result<Vec<ConnectionRow>> {
        let db = self.db();
        let mut st = db.prepare("SELECT * FROM connections ORDER BY name")?;
        let rows = st
            .query_map([], Self::row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn delete(&self, id: &str) -> Result<()> {
        self.db()
            .execute("DELETE FROM connections WHERE id = ?1", [id])?;
        Ok(())
    }
}
