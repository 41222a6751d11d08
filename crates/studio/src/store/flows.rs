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

/// What each flow's start node remembers between polls, and which runs
/// belong to a flow.
pub(super) const STATE_MIGRATION: &str = "CREATE TABLE flow_state (
    flow TEXT NOT NULL,
    node TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (flow, node)
);
ALTER TABLE runs ADD COLUMN flow TEXT;
CREATE TABLE flow_leases (
    flow TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);";

/// When each flow's runner last polled it and will next.
pub(super) const POLL_MIGRATION: &str = "ALTER TABLE flow_leases ADD COLUMN polled_ms INTEGER;
ALTER TABLE flow_leases ADD COLUMN next_ms INTEGER;";

/// Records a poll has finished, noted one by one while it runs (the whole
/// state is saved once at its end): what a killed poll did survives it at
/// the cost of one small insert a record.
pub(super) const DONE_MIGRATION: &str = "CREATE TABLE flow_done (
    flow TEXT NOT NULL,
    node TEXT NOT NULL,
    id TEXT NOT NULL,
    seen TEXT,
    deleted TEXT,
    PRIMARY KEY (flow, node, id)
);";

/// One record a poll finished: its stamp as seen, and its deletion's
/// stamp if it is known deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowDone {
    pub id: String,
    pub seen: Option<String>,
    pub deleted: Option<String>,
}

/// Who runs a flow, when it last polled and when it will next.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowLease {
    pub holder: String,
    pub expires_ms: i64,
    pub polled_ms: Option<i64>,
    pub next_ms: Option<i64>,
}

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

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FlowRow> {
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

impl Store {
    /// A node's saved state (JSON), if any.
    pub(crate) fn flow_state(&self, flow: &str, node: &str) -> Result<Option<String>> {
        Ok(self
            .db()
            .query_row(
                "SELECT state FROM flow_state WHERE flow = ?1 AND node = ?2",
                params![flow, node],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Saves a node's whole state; the records noted done are in it now.
    pub(crate) fn save_flow_state(&self, flow: &str, node: &str, state: &str) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute(
            "INSERT INTO flow_state (flow, node, state, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(flow, node) DO UPDATE SET state = excluded.state,
                 updated_at = excluded.updated_at",
            params![flow, node, state, now()],
        )?;
        tx.execute(
            "DELETE FROM flow_done WHERE flow = ?1 AND node = ?2",
            params![flow, node],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Notes one record a poll finished (until the state is saved whole).
    pub(crate) fn note_flow_done(&self, flow: &str, node: &str, done: &FlowDone) -> Result<()> {
        self.db().execute(
            "INSERT INTO flow_done (flow, node, id, seen, deleted) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(flow, node, id) DO UPDATE SET seen = excluded.seen,
                 deleted = excluded.deleted",
            params![flow, node, done.id, done.seen, done.deleted],
        )?;
        Ok(())
    }

    /// The records noted done since the state was last saved whole.
    pub(crate) fn flow_done(&self, flow: &str, node: &str) -> Result<Vec<FlowDone>> {
        let db = self.db();
        let mut q =
            db.prepare("SELECT id, seen, deleted FROM flow_done WHERE flow = ?1 AND node = ?2")?;
        let rows = q
            .query_map(params![flow, node], |r| {
                Ok(FlowDone {
                    id: r.get(0)?,
                    seen: r.get(1)?,
                    deleted: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Forgets a flow's state: enabled again, it starts afresh.
    pub(crate) fn clear_flow_state(&self, flow: &str) -> Result<()> {
        let db = self.db();
        db.execute("DELETE FROM flow_state WHERE flow = ?1", [flow])?;
        db.execute("DELETE FROM flow_done WHERE flow = ?1", [flow])?;
        Ok(())
    }
}

impl Store {
    /// Takes or renews a flow's lease for `holder` until `expires_ms`;
    /// answers who holds it instead when another holder's has not run out.
    pub(crate) fn take_flow_lease(
        &self,
        flow: &str,
        holder: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<std::result::Result<(), String>> {
        let db = self.db();
        let taken = db.execute(
            "INSERT INTO flow_leases (flow, holder, expires_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(flow) DO UPDATE SET holder = excluded.holder,
                 expires_ms = excluded.expires_ms
             WHERE flow_leases.holder = excluded.holder OR flow_leases.expires_ms < ?4",
            params![flow, holder, expires_ms, now_ms],
        )?;
        if taken > 0 {
            return Ok(Ok(()));
        }
        let other: String = db.query_row(
            "SELECT holder FROM flow_leases WHERE flow = ?1",
            [flow],
            |r| r.get(0),
        )?;
        Ok(Err(other))
    }

    /// Takes a lease from a holder known to be gone; false when someone
    /// else took it first.
    pub(crate) fn take_flow_lease_from(
        &self,
        flow: &str,
        gone: &str,
        holder: &str,
        expires_ms: i64,
    ) -> Result<bool> {
        let n = self.db().execute(
            "UPDATE flow_leases SET holder = ?3, expires_ms = ?4 WHERE flow = ?1 AND holder = ?2",
            params![flow, gone, holder, expires_ms],
        )?;
        Ok(n > 0)
    }

    /// Notes a poll by the lease's holder and when it will poll next.
    pub(crate) fn record_flow_poll(
        &self,
        flow: &str,
        holder: &str,
        polled_ms: i64,
        next_ms: i64,
    ) -> Result<()> {
        self.db().execute(
            "UPDATE flow_leases SET polled_ms = ?3, next_ms = ?4 WHERE flow = ?1 AND holder = ?2",
            params![flow, holder, polled_ms, next_ms],
        )?;
        Ok(())
    }

    pub(crate) fn flow_lease(&self, flow: &str) -> Result<Option<FlowLease>> {
        Ok(self
            .db()
            .query_row(
                "SELECT holder, expires_ms, polled_ms, next_ms FROM flow_leases WHERE flow = ?1",
                [flow],
                |r| {
                    Ok(FlowLease {
                        holder: r.get(0)?,
                        expires_ms: r.get(1)?,
                        polled_ms: r.get(2)?,
                        next_ms: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Removes a flow, its state and its lease (its runs stay, for the
    /// record).
    pub(crate) fn delete_flow(&self, flow: &str) -> Result<bool> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute("DELETE FROM flow_state WHERE flow = ?1", [flow])?;
        tx.execute("DELETE FROM flow_done WHERE flow = ?1", [flow])?;
        tx.execute("DELETE FROM flow_leases WHERE flow = ?1", [flow])?;
        let n = tx.execute("DELETE FROM flows WHERE name = ?1", [flow])?;
        tx.commit()?;
        Ok(n > 0)
    }

    pub(crate) fn release_flow_lease(&self, flow: &str, holder: &str) -> Result<()> {
        self.db().execute(
            "DELETE FROM flow_leases WHERE flow = ?1 AND holder = ?2",
            [flow, holder],
        )?;
        Ok(())
    }

    pub(crate) fn release_flow_leases(&self, holder: &str) -> Result<()> {
        self.db()
            .execute("DELETE FROM flow_leases WHERE holder = ?1", [holder])?;
        Ok(())
    }
}
