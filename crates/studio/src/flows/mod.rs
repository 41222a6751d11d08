//! Flows: a trigger or a schedule, steps and actions, kept as the flow
//! file users keep in git (`model`), checked before they are saved
//! (`check`, and the org's side here: objects and fields in describe).

pub mod check;
pub mod model;
pub mod run;
pub mod schedule;
pub mod serve;
pub mod trigger;

pub use check::Problem;
pub use model::FlowFile;

use crate::Studio;
use crate::error::{Error, Result};
use crate::store::FlowRow;
use model::Node;
use std::collections::HashSet;

/// A flow as the list shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FlowInfo {
    pub name: String,
    pub enabled: bool,
    /// The start node, in words: `Contact created_or_updated every 60 s`.
    pub start: String,
    /// How often it polls, in seconds.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub every_seconds: Option<u64>,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub nodes: usize,
    pub updated_at: String,
}

/// Reads a flow file's text: its JSON and its shape.
/// A flow file as the user keeps it (the editor's Import…).
pub fn read_file(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", path.display())))
}

/// Writes a flow file where the user chose (the editor's Export…).
pub fn write_file(path: &std::path::Path, text: &str) -> Result<()> {
    crate::export::write_whole(path, text.as_bytes())
}

pub fn parse(text: &str) -> Result<check::Checked> {
    let file: FlowFile = serde_json::from_str(text).map_err(|e| {
        Error::Invalid(format!(
            "the flow file is not a flow (version, name, nodes, edges): {e}"
        ))
    })?;
    check::check(file).map_err(Error::FlowProblems)
}

fn start_words(node: Option<&Node>) -> String {
    match node {
        Some(Node::Trigger(t)) => format!(
            "{} {} every {} s",
            t.object,
            serde_json::to_value(t.on)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            t.every_seconds
        ),
        Some(Node::Schedule(s)) => match (s.every_seconds, s.every_minutes, s.every_hours, &s.cron)
        {
            (Some(n), ..) => format!("every {n} s"),
            (_, Some(n), ..) => format!("every {n} min"),
            (_, _, Some(n), _) => format!("every {n} h"),
            (.., Some(c)) => format!("cron {c}"),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

impl Studio {
    /// Checks a flow against the orgs its nodes name: the connections
    /// exist, and so do the objects and fields (readable by the trigger,
    /// writable by the actions that write them).
    pub async fn check_flow(&self, checked: &check::Checked) -> Result<()> {
        let mut problems = vec![];
        for id in &checked.order {
            let node = &checked.nodes[id];
            let Some(conn) = node.connection() else {
                continue;
            };
            let at = |m: String| Problem {
                node: Some(id.clone()),
                message: m,
            };
            if conn.is_empty() {
                problems.push(at("choose a connection".into()));
                continue;
            }
            let client = match self.client(conn).await {
                Ok((_, c)) => c,
                Err(Error::UnknownConnection(_)) => {
                    problems.push(at(format!("there is no connection named {conn:?}")));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (object, read, write): (Option<&str>, Vec<&str>, Vec<&str>) = match node {
                Node::Trigger(t) => (
                    Some(&t.object),
                    t.fields.iter().map(String::as_str).collect(),
                    vec![],
                ),
                Node::Get(g) => (
                    Some(&g.object),
                    g.fields.iter().map(String::as_str).collect(),
                    vec![],
                ),
                Node::Query(q) => (
                    q.object.as_deref(),
                    q.fields
                        .iter()
                        .chain(q.conditions.iter().map(|c| &c.field))
                        .map(String::as_str)
                        .collect(),
                    vec![],
                ),
                Node::Create(w) => (
                    Some(&w.object),
                    vec![],
                    w.fields.keys().map(String::as_str).collect(),
                ),
                Node::Update(w) => (
                    Some(&w.object),
                    vec![],
                    w.fields.keys().map(String::as_str).collect(),
                ),
                Node::Upsert(w) => (
                    Some(&w.object),
                    vec![],
                    w.fields.keys().map(String::as_str).collect(),
                ),
                Node::Delete(d) => (d.object.as_deref(), vec![], vec![]),
                _ => (None, vec![], vec![]),
            };
            let Some(object) = object else {
                continue;
            };
            if object.is_empty() {
                problems.push(at("choose an object".into()));
                continue;
            }
            let describe = match client.describe(object).await {
                Ok(d) => d,
                Err(salesforce::Error::Api { status: 404, .. }) => {
                    problems.push(at(format!("the org has no object {object:?}")));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let fields: Vec<&serde_json::Value> = describe["fields"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let find = |name: &str| {
                fields.iter().find(|f| {
                    f["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
            };
            let mut missing: Vec<&str> =
                read.iter().copied().filter(|f| find(f).is_none()).collect();
            missing.dedup();
            for f in missing {
                problems.push(at(format!("{object} has no field {f:?}")));
            }
            let creating = matches!(node, Node::Create(_) | Node::Upsert(_));
            let updating = matches!(node, Node::Update(_) | Node::Upsert(_));
            for f in write {
                match find(f) {
                    None => problems.push(at(format!("{object} has no field {f:?}"))),
                    Some(meta) => {
                        let can = |k: &str| meta[k].as_bool().unwrap_or(false);
                        if (creating && !can("createable")) && (!updating || !can("updateable")) {
                            problems.push(at(format!("{object}.{f} cannot be written")));
                        } else if updating && !creating && !can("updateable") {
                            problems.push(at(format!("{object}.{f} cannot be updated")));
                        }
                    }
                }
            }
            if let Node::Upsert(u) = node
                && let Some(meta) = find(&u.external_id)
                && !meta["externalId"].as_bool().unwrap_or(false)
                && !u.external_id.eq_ignore_ascii_case("Id")
            {
                problems.push(at(format!(
                    "{object}.{} is not an external id field",
                    u.external_id
                )));
            }
            if let Node::Trigger(t) = node
                && let Some(w) = &t.condition
            {
                let soql = format!("SELECT Id FROM {object} WHERE {w} LIMIT 1");
                if let Err(e) = client.query_page(&soql, false).await {
                    problems.push(at(format!(
                        "where {w:?} is not a SOQL condition the org takes: {e}"
                    )));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::FlowProblems(problems))
        }
    }

    /// Checks a flow file and saves it under its name (a flow saved again
    /// keeps whether it was enabled).
    pub async fn import_flow(&self, text: &str) -> Result<FlowInfo> {
        let checked = parse(text)?;
        self.check_flow(&checked).await?;
        let name = checked.file.name.clone();
        let definition = serde_json::to_string_pretty(&checked.file)?;
        self.store.save_flow(&name, &definition)?;
        self.flow_info(&name)
    }

    /// The flow file, as saved.
    pub fn export_flow(&self, name: &str) -> Result<String> {
        Ok(self
            .store
            .flow(name)?
            .ok_or_else(|| Error::UnknownFlow(name.to_string()))?
            .definition)
    }

    pub fn flows(&self) -> Result<Vec<FlowInfo>> {
        self.store.flows()?.iter().map(info_of).collect()
    }

    /// Whether a flow is enabled: then closing the desktop window keeps
    /// the app running (in the tray) so the flow keeps running.
    pub fn any_flow_enabled(&self) -> bool {
        self.flows()
            .map(|f| f.iter().any(|f| f.enabled))
            .unwrap_or(false)
    }

    pub fn flow_info(&self, name: &str) -> Result<FlowInfo> {
        let row = self
            .store
            .flow(name)?
            .ok_or_else(|| Error::UnknownFlow(name.to_string()))?;
        info_of(&row)
    }

    /// Enabling a disabled flow starts it afresh: from now (no flood of
    /// the changes made while it was off), or from its `start`. "Now" is
    /// the moment of enabling: a trigger that starts from now takes in
    /// what the org holds at once, so a change made before its first
    /// scheduled poll still fires.
    pub async fn set_flow_enabled(&self, name: &str, enabled: bool) -> Result<FlowInfo> {
        let was = self.flow_info(name)?.enabled;
        if enabled && !was {
            self.store.clear_flow_state(name)?;
        }
        if !self.store.set_flow_enabled(name, enabled)? {
            return Err(Error::UnknownFlow(name.to_string()));
        }
        if enabled && !was && self.starts_from_now(name)? {
            let lock = self.flow_poll_lock(name);
            let _one_at_a_time = lock.lock().await;
            let cancel = crate::runs::Cancel::new();
            // The first poll of a trigger from now fires nothing; if the
            // org cannot be reached, the runner's first poll does it.
            if let Err(e) = self
                .run_flow_once(name, &crate::runs::QuietHost, &cancel)
                .await
            {
                tracing::warn!(
                    flow = name,
                    "enabled; the trigger starts at its first poll: {e}"
                );
            }
        }
        self.flow_info(name)
    }

    fn starts_from_now(&self, name: &str) -> Result<bool> {
        let flow = parse(&self.export_flow(name)?)?;
        Ok(matches!(
            flow.nodes.get(&flow.start),
            Some(Node::Trigger(t)) if matches!(t.start.as_deref(), None | Some("now"))
        ))
    }
}

/// A flow with how it has been running: the Flows screen's list.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FlowOverview {
    pub info: FlowInfo,
    /// Who polls it now (this app, `flows serve`), when last and next.
    pub runner: Option<serve::FlowRunner>,
    /// Its latest run (a poll that fired, or a tick).
    pub last_run: Option<crate::runs::RunRecord>,
    /// Records that failed in its runs since midnight (local time).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub errors_today: u64,
}

impl Studio {
    pub fn flow_overview(&self) -> Result<Vec<FlowOverview>> {
        let runs = self.run_records()?;
        let midnight = chrono::Local::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(chrono::Local).earliest())
            .map(|t| t.with_timezone(&chrono::Utc));
        self.flows()?
            .into_iter()
            .map(|info| {
                let mine = || {
                    runs.iter()
                        .filter(|r| r.flow.as_deref() == Some(&info.name))
                };
                let last_run = mine()
                    .max_by(|a, b| a.started_at.cmp(&b.started_at))
                    .cloned();
                let errors_today = mine()
                    .filter(|r| {
                        chrono::DateTime::parse_from_rfc3339(&r.started_at)
                            .is_ok_and(|t| Some(t.with_timezone(&chrono::Utc)) >= midnight)
                    })
                    .map(|r| r.summary.failed)
                    .sum();
                Ok(FlowOverview {
                    runner: self.flow_runner(&info.name)?,
                    info,
                    last_run,
                    errors_today,
                })
            })
            .collect()
    }

    /// What is wrong with a flow file not saved yet, each problem with
    /// its node; empty when it would save. An org that cannot be asked
    /// (no sign-in, offline) is an error, not a problem of the flow.
    pub async fn flow_problems(&self, text: &str) -> Result<Vec<Problem>> {
        let checked = match parse(text) {
            Ok(c) => c,
            Err(Error::FlowProblems(p)) => return Ok(p),
            Err(e) => return Err(e),
        };
        match self.check_flow(&checked).await {
            Ok(()) => Ok(vec![]),
            Err(Error::FlowProblems(p)) => Ok(p),
            Err(e) => Err(e),
        }
    }

    /// Removes a flow (its runs stay on the Runs screen).
    pub fn delete_flow(&self, name: &str) -> Result<()> {
        if self.store.delete_flow(name)? {
            Ok(())
        } else {
            Err(Error::UnknownFlow(name.to_string()))
        }
    }
}

fn info_of(row: &FlowRow) -> Result<FlowInfo> {
    let file: FlowFile = serde_json::from_str(&row.definition)?;
    let start = file
        .nodes
        .iter()
        .filter_map(|n| Node::read(n).ok())
        .find(Node::is_start);
    let ids: HashSet<&str> = file.nodes.iter().map(|n| n.id.as_str()).collect();
    Ok(FlowInfo {
        name: row.name.clone(),
        enabled: row.enabled,
        start: start_words(start.as_ref()),
        every_seconds: start.as_ref().and_then(Node::interval_seconds),
        nodes: ids.len(),
        updated_at: row.updated_at.clone(),
    })
}
