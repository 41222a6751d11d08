//! `--data DIR`: the org saved to `DIR/org.json`, written to a temporary file
//! and renamed into place so a crash never leaves half a file.

use crate::org::{ApiUsage, ClientApp, Clock, Org, RefreshGrant, Session, Settings, Table};
use crate::schema::{FieldSpec, ObjectSpec};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SavedTable {
    /// Field names in index order, so a schema change remaps values.
    fields: Vec<String>,
    table: Table,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    custom_objects: Vec<ObjectSpec>,
    added_fields: Vec<(String, Vec<FieldSpec>)>,
    tables: HashMap<String, SavedTable>,
    clock: Clock,
    settings: Settings,
    usage: ApiUsage,
    sessions: HashMap<String, Session>,
    refresh_grants: HashMap<String, RefreshGrant>,
    passwords: HashMap<String, String>,
    clients: Vec<ClientApp>,
    next_serial: u64,
}

pub const FILE: &str = "org.json";

pub fn save(org: &Org, usage: ApiUsage, dir: &Path) -> std::io::Result<()> {
    let tables = org
        .schema
        .objects
        .iter()
        .zip(&org.tables)
        .map(|(def, t)| {
            (
                def.name.clone(),
                SavedTable {
                    fields: def.fields.iter().map(|f| f.name.clone()).collect(),
                    table: Table {
                        slots: t.slots.clone(),
                        auto_number: t.auto_number,
                        index: Default::default(),
                    },
                },
            )
        })
        .collect();
    let snap = Snapshot {
        format: FORMAT,
        custom_objects: org.schema.custom_specs.clone(),
        added_fields: org.schema.added_fields.clone(),
        tables,
        clock: org.clock,
        settings: org.settings.clone(),
        usage,
        sessions: org.sessions.clone(),
        refresh_grants: org.refresh_grants.clone(),
        passwords: org.passwords.clone(),
        clients: org.clients.clone(),
        next_serial: org.next_serial,
    };
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        serde_json::to_writer(&mut f, &snap).map_err(std::io::Error::other)?;
        f.flush()?;
        f.get_ref().sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(FILE))
}

/// Loads a saved org; Ok(None) when the folder has none yet.
pub fn load(dir: &Path) -> std::io::Result<Option<Org>> {
    let path = dir.join(FILE);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let snap: Snapshot = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
    if snap.format != FORMAT {
        return Err(std::io::Error::other(format!(
            "{}: unknown format {}",
            path.display(),
            snap.format
        )));
    }
    let mut org = Org::new();
    org.tables.iter_mut().for_each(|t| *t = Table::default());
    for spec in &snap.custom_objects {
        org.schema.add_custom(spec).map_err(std::io::Error::other)?;
        org.tables.push(Table::default());
    }
    for (object, fields) in &snap.added_fields {
        org.schema
            .add_fields(object, fields)
            .map_err(std::io::Error::other)?;
    }
    for (name, saved) in snap.tables {
        let Some(obj) = org.object(&name) else {
            continue;
        };
        let def = org.def(obj);
        let remap: Vec<Option<u16>> = saved
            .fields
            .iter()
            .map(|n| def.field(n).map(|i| i as u16))
            .collect();
        let mut table = saved.table;
        for rec in table.slots.iter_mut().flatten() {
            let mut fields: Vec<(u16, crate::values::Val)> = rec
                .fields
                .drain(..)
                .filter_map(|(i, v)| remap.get(i as usize).copied().flatten().map(|n| (n, v)))
                .collect();
            fields.sort_by_key(|(i, _)| *i);
            rec.fields = fields;
        }
        org.tables[obj] = table;
    }
    org.clock = snap.clock;
    org.settings = snap.settings;
    org.usage = snap.usage;
    org.sessions = snap.sessions;
    org.refresh_grants = snap.refresh_grants;
    org.passwords = snap.passwords;
    org.clients = snap.clients;
    org.next_serial = snap.next_serial;
    org.reindex_all();
    Ok(Some(org))
}
