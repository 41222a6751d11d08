//! The `flows` table: each flow's file as imported or saved, by name, and
//! whether it runs.

use super::{Store, now};
use crate::error::Result;
use rusqlite::{OptionalExtension, params};

pub(super) const MIGRATION: &str = "CREATE TABLE flows (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);";

/// A flow as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FlowRow {
    pub name: String,
    /// The flow file's JSON.
    pub definition: String,
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<FlowRow> {
    Ok(FlowRow {
        name: r.get("name")?,
        definition: r.get("definition")?,
        enabled: r.get("enabled")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

impl Store {
    /// Saves a flow's file under its name; a flow saved again keeps
    /// whether it was enabled.
    pub(crate) fn save_flow(&self, name: &str, definition: &str) -> Result<()> {
        let at = now();
        self.db().execute(
            "INSERT INTO flows (name, definition, enabled, created_at, updated_at)
             VALUES (?1, ?2, 0, ?3, ?3)
             ON CONFLICT(name) DO UPDATE SET definition = excluded.definition,
                 updated_at = excluded.updated_at",
            params![name, definition, at],
        )?;
        Ok(())
    }

    pub(crate) fn flow(&self, name: &str) -> Result<Option<FlowRow>> {
        Ok(self
            .db()
            .query_row("SELECT * FROM flows WHERE name = ?1", [name], row)
            .optional()?)
    }

    pub(crate) fn flows(&self) -> Result<Vec<FlowRow>> {
        let db = self.db();
        let mut q = db.prepare("SELECT * FROM flows ORDER BY name")?;
        let rows = q.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Answers whether the flow exists.
    pub(crate) fn set_flow_enabled(&self, name: &str, enabled: bool) -> Result<bool> {
        let n = self.db().execute(
            "UPDATE flows SET enabled = ?2, updated_at = ?3 WHERE name = ?1",
            params![name, enabled, now()],
        )?;
        Ok(n > 0)
    }
}
