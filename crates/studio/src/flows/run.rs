//! A flow's poll as a run: the trigger's changes, each taken through the
//! nodes after it, each record's outcome written down. A record counts as
//! done (in the trigger's saved state) only once its actions finished: a
//! poll killed midway sends again only the record it was on, with the
//! same `Idempotency-Key`.

use super::check::{self, Checked};
use super::model::{BranchSide, Node, TriggerOn};
use super::schedule;
use super::trigger::{self, Change, TriggerState};
use crate::Studio;
use crate::error::{Error, Result};
use crate::runs::{Cancel, NewRun, RunHost, RunProgress, RunStatus, RunSummary};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};

/// Tries of an HTTP request that failed on the way or with a 5xx or 429.
const HTTP_TRIES: u32 = 3;
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// One HTTP client for every `http.request` of this process (its
/// connections kept between records and polls), trusting `SSL_CERT_FILE`
/// as the Salesforce client does.
fn http() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(salesforce::net::http_client)
}

/// What one node did with one record.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NodeOutcome {
    pub node: String,
    /// `ok`, `filtered` (a filter or branch stopped the record here) or
    /// `failed`.
    pub status: &'static str,
    pub error: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub duration_ms: u64,
    #[cfg_attr(feature = "specta", specta(type = crate::json_type::Json))]
    pub output: Value,
}

/// The key an action sends with a record's change: the same for a given
/// flow, node, record and change, so a resend after a crash is recognised.
pub fn idempotency_key(flow: &str, node: &str, id: &str, stamp: &str) -> String {
    let mut h = Sha256::new();
    for part in [flow, node, id, stamp] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn render(
    env: &minijinja::Environment<'_>,
    text: &str,
    ctx: &Value,
) -> std::result::Result<String, String> {
    env.render_str(text, ctx).map_err(|e| e.to_string())
}

fn truth(
    env: &minijinja::Environment<'_>,
    expr: &str,
    ctx: &Value,
) -> std::result::Result<bool, String> {
    env.compile_expression(expr)
        .and_then(|x| x.eval(ctx))
        .map(|v| v.is_true())
        .map_err(|e| e.to_string())
}

/// Rendered fields for a Salesforce write: an empty value is null.
fn rendered_fields(
    env: &minijinja::Environment<'_>,
    fields: &indexmap::IndexMap<String, String>,
    ctx: &Value,
) -> std::result::Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (k, t) in fields {
        let v = render(env, t, ctx)?;
        out.insert(
            k.clone(),
            if v.is_empty() {
                Value::Null
            } else {
                Value::String(v)
            },
        );
    }
    Ok(out)
}

impl Studio {
    /// One poll of a flow (enabled or not): a run when records fired,
    /// None when nothing did (an idle poll is one API call). A scheduled
    /// flow runs one tick.
    pub async fn run_flow_once(
        &self,
        name: &str,
        host: &dyn RunHost,
        cancel: &Cancel,
    ) -> Result<Option<RunSummary>> {
        let flow = super::parse(&self.export_flow(name)?)?;
        self.run_checked(name, &flow, host, cancel).await
    }

    /// `run_flow_once` on a flow already read (a runner keeps it between
    /// polls until the flow is saved again).
    pub(crate) async fn run_checked(
        &self,
        name: &str,
        flow: &Checked,
        host: &dyn RunHost,
        cancel: &Cancel,
    ) -> Result<Option<RunSummary>> {
        match flow.nodes.get(&flow.start) {
            Some(Node::Trigger(params)) => self.poll(name, flow, params, host, cancel).await,
            _ => self.tick(name, flow, host, cancel).await.map(Some),
        }
    }

    /// One tick of a scheduled flow: its steps run once, with `record`
    /// holding `scheduled_at`. A tick cut short (a kill) is run again
    /// under the same time, so its actions keep their Idempotency-Keys.
    async fn tick(
        &self,
        name: &str,
        flow: &Checked,
        host: &dyn RunHost,
        cancel: &Cancel,
    ) -> Result<RunSummary> {
        let mut state: schedule::ScheduleState = self
            .store
            .flow_state(name, &flow.start)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let at = state
            .pending
            .clone()
            .unwrap_or_else(|| schedule::stamp(chrono::Utc::now()));
        state.pending = Some(at.clone());
        let save = |s: &schedule::ScheduleState| -> Result<()> {
            self.store
                .save_flow_state(name, &flow.start, &serde_json::to_string(s)?)
        };
        save(&state)?;
        let change = scheduled(at.clone());
        // The run is counted against the first connection the flow uses.
        let client = match flow.nodes.values().find_map(Node::connection) {
            Some(c) => Some(self.client(c).await?),
            None => None,
        };
        let target = client.as_ref().map(|(row, _)| row.name.clone());
        let summary = self
            .fire(
                name,
                flow,
                (target.as_deref().unwrap_or_default(), "", None),
                (
                    client.as_ref().map(|(_, c)| c),
                    client.as_ref().map_or(0, |(_, c)| c.calls_sent()),
                ),
                vec![change],
                (host, cancel),
                |_| {},
                &mut |_| Ok(()),
            )
            .await?;
        if summary.status != RunStatus::Cancelled {
            state.last = Some(at);
            state.pending = None;
            save(&state)?;
        }
        Ok(summary)
    }

    async fn poll(
        &self,
        name: &str,
        flow: &Checked,
        params: &super::model::TriggerParams,
        host: &dyn RunHost,
        cancel: &Cancel,
    ) -> Result<Option<RunSummary>> {
        let (_, client) = self.client(&params.connection).await?;
        let calls_before = client.calls_sent();
        let mut state: TriggerState = self
            .store
            .flow_state(name, &flow.start)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        // What a poll cut short (a kill) had finished.
        for done in self.store.flow_done(name, &flow.start)? {
            trigger::take_done(&mut state, &done);
        }
        let first = state.since.is_none();
        if first {
            if trigger::needs_recycle_bin(params) {
                use futures::TryStreamExt;
                let bin: Vec<Value> = client
                    .query(&trigger::recycle_bin_soql(params), true)
                    .try_collect()
                    .await?;
                trigger::know_deleted(&mut state, bin);
            }
            state.since = Some(match params.start.as_deref() {
                None | Some("now") => covered(&client, &params.object, None).await?,
                Some(at) => at.to_string(),
            });
        }
        let since = state.since.clone().unwrap_or_default();
        let records: Vec<Value> = {
            use futures::TryStreamExt;
            client
                .query(&trigger::soql(params, &since), true)
                .try_collect()
                .await?
        };
        let before = state.clone();
        // A trigger that starts from now passes over what is there.
        let pass_over = first && matches!(params.start.as_deref(), None | Some("now"));
        let fired = trigger::changes(params, &mut state, records, pass_over);
        let save = |s: &TriggerState| -> Result<()> {
            self.store
                .save_flow_state(name, &flow.start, &serde_json::to_string(s)?)
        };
        if fired.is_empty() {
            trigger::settle(&mut state);
            learn_covered(&client, &params.object, &mut state).await;
            save(&state)?;
            return Ok(None);
        }
        // Saved as done: everything but the records still to fire (what
        // was known of them before, so a kill fires them again as they
        // were, a restore still a restore).
        let mut done = state.clone();
        for c in &fired {
            for (now, was) in [
                (&mut done.seen, &before.seen),
                (&mut done.deleted, &before.deleted),
            ] {
                match was.get(&c.id) {
                    Some(prev) => now.insert(c.id.clone(), prev.clone()),
                    None => now.remove(&c.id),
                };
            }
        }
        save(&done)?;
        let summary = self
            .fire(
                name,
                flow,
                (&params.connection, &params.object, None),
                (Some(&client), calls_before),
                fired,
                (host, cancel),
                |_| {},
                &mut |change| {
                    // Done: what the poll learnt of this record is kept
                    // (a record first seen deleted stays known deleted,
                    // whatever event it fired as), noted on its own row.
                    let noted = crate::store::FlowDone {
                        id: change.id.clone(),
                        seen: state.seen.get(&change.id).cloned(),
                        deleted: state.deleted.get(&change.id).cloned(),
                    };
                    trigger::take_done(&mut done, &noted);
                    self.store.note_flow_done(name, &flow.start, &noted)
                },
            )
            .await?;
        if summary.status != RunStatus::Cancelled {
            trigger::settle(&mut done);
            learn_covered(&client, &params.object, &mut done).await;
            save(&done)?;
        }
        Ok(Some(summary))
    }

    /// Takes each change through the flow as one run, its outcomes in the
    /// run's files; `after_each` keeps the start's state once a change is
    /// done. Stops between changes when cancelled.
    #[allow(clippy::too_many_arguments)]
    async fn fire(
        &self,
        name: &str,
        flow: &Checked,
        (connection, object, retry_of): (&str, &str, Option<&str>),
        (client, calls_before): (Option<&salesforce::Client>, u64),
        fired: Vec<Change>,
        (host, cancel): (&dyn RunHost, &Cancel),
        on_start: impl FnOnce(&str),
        after_each: &mut (dyn FnMut(&Change) -> Result<()> + Send),
    ) -> Result<RunSummary> {
        let calls = || client.map_or(0, salesforce::Client::calls_sent);
        let handle = self.start_run(NewRun {
            kind: "flow",
            connection,
            object,
            operation: "flow",
            input_file: None,
            results: None,
            spec: None,
            retry_of,
            flow: Some(name),
        })?;
        let mut summary = handle.summary.clone();
        on_start(&summary.run);
        let folder = self.runs_folder().join(&summary.run);
        let mut ok = csv::Writer::from_path(&summary.success_file)?;
        ok.write_record(["Id", "SystemModstamp", "event"])?;
        let mut bad = csv::Writer::from_path(&summary.error_file)?;
        bad.write_record(["Id", "SystemModstamp", "node", "sf__Error"])?;
        let mut outcomes = csv::Writer::from_path(folder.join("outcomes.csv"))?;
        outcomes.write_record([
            "Id",
            "SystemModstamp",
            "node",
            "status",
            "error",
            "duration_ms",
        ])?;
        let started = Instant::now();
        let total = fired.len() as u64;
        let mut stopped = false;
        for change in fired {
            if cancel.is_cancelled() {
                stopped = true;
                break;
            }
            summary.rows += 1;
            if change.event == trigger::Event::Superseded {
                // A retry of a change the record has moved on from: the
                // trigger took the later change through.
                summary.succeeded += 1;
                summary.unchanged += 1;
                ok.write_record([change.id.as_str(), change.stamp.as_str(), "superseded"])?;
                ok.flush()?;
                continue;
            }
            let run = self.take_through(name, flow, &change, false).await;
            for o in &run {
                outcomes.write_record([
                    change.id.as_str(),
                    change.stamp.as_str(),
                    o.node.as_str(),
                    o.status,
                    o.error.as_deref().unwrap_or_default(),
                    &o.duration_ms.to_string(),
                ])?;
            }
            match run.iter().find(|o| o.status == "failed") {
                Some(f) => {
                    summary.failed += 1;
                    bad.write_record([
                        change.id.as_str(),
                        change.stamp.as_str(),
                        f.node.as_str(),
                        f.error.as_deref().unwrap_or_default(),
                    ])?;
                }
                None => {
                    summary.succeeded += 1;
                    match change.event {
                        trigger::Event::Created => summary.created += 1,
                        trigger::Event::Updated | trigger::Event::Restored => summary.updated += 1,
                        trigger::Event::Deleted => summary.deleted += 1,
                        trigger::Event::Scheduled | trigger::Event::Superseded => {}
                    }
                    let event = serde_json::to_value(change.event)?;
                    ok.write_record([
                        change.id.as_str(),
                        change.stamp.as_str(),
                        event.as_str().unwrap_or_default(),
                    ])?;
                }
            }
            ok.flush()?;
            bad.flush()?;
            outcomes.flush()?;
            after_each(&change)?;
            summary.api_calls = calls() - calls_before;
            self.save_run(&summary, None, false)?;
            host.progress(&RunProgress {
                run: summary.run.clone(),
                rows_done: summary.rows,
                rows_total: Some(total),
                api_calls: summary.api_calls,
                elapsed_ms: started.elapsed().as_millis() as u64,
            });
        }
        summary.api_calls = calls() - calls_before;
        summary.status = if stopped {
            RunStatus::Cancelled
        } else if summary.failed > 0 {
            RunStatus::CompletedWithErrors
        } else {
            RunStatus::Completed
        };
        self.save_run(&summary, None, true)?;
        tracing::info!(flow = name, run = %summary.run, records = summary.rows, failed = summary.failed, "flow poll finished");
        Ok(summary)
    }

    /// Takes one change through the nodes after the trigger, in order;
    /// `dry`: actions are rendered (what they would send), not done.
    async fn take_through(
        &self,
        flow_name: &str,
        flow: &Checked,
        change: &Change,
        dry: bool,
    ) -> Vec<NodeOutcome> {
        let env = check::environment();
        let mut outputs: Map<String, Value> = Map::new();
        let mut reached: HashSet<&str> = HashSet::from([flow.start.as_str()]);
        let mut branch_side: HashMap<&str, BranchSide> = HashMap::new();
        let mut out = vec![];
        for id in flow.order.iter().filter(|id| **id != flow.start) {
            let comes = flow.file.edges.iter().any(|e| {
                e.to == *id
                    && reached.contains(e.from.as_str())
                    && (e.branch.is_none() || e.branch == branch_side.get(e.from.as_str()).copied())
            });
            if !comes {
                continue;
            }
            let ctx = json!({"record": change.record, "nodes": outputs});
            let began = Instant::now();
            let node = &flow.nodes[id];
            let result =
                if dry && let Some(would) = would_send(flow_name, id, node, &env, &ctx, change) {
                    would.map(Step::Go)
                } else {
                    self.do_node(flow_name, id, node, &env, &ctx, change).await
                };
            let duration_ms = began.elapsed().as_millis() as u64;
            let (status, error, output) = match result {
                Ok(Step::Go(v)) => ("ok", None, v),
                Ok(Step::Stop) => ("filtered", None, Value::Null),
                Ok(Step::Side(side)) => {
                    branch_side.insert(id, side);
                    ("ok", None, json!({"result": side == BranchSide::Then}))
                }
                Err(e) => ("failed", Some(e), Value::Null),
            };
            if status == "ok" {
                reached.insert(id);
                outputs.insert(id.clone(), output.clone());
            }
            out.push(NodeOutcome {
                node: id.clone(),
                status,
                error,
                duration_ms,
                output,
            });
        }
        out
    }

    async fn do_node(
        &self,
        flow_name: &str,
        id: &str,
        node: &Node,
        env: &minijinja::Environment<'_>,
        ctx: &Value,
        change: &Change,
    ) -> std::result::Result<Step, String> {
        let client = |conn: &str| {
            let conn = conn.to_string();
            async move {
                self.client(&conn)
                    .await
                    .map(|(_, c)| c)
                    .map_err(|e| e.to_string())
            }
        };
        Ok(match node {
            Node::Trigger(_) | Node::Schedule(_) => Step::Go(Value::Null),
            Node::Filter(p) => {
                if truth(env, &p.condition, ctx)? {
                    Step::Go(json!({"passed": true}))
                } else {
                    Step::Stop
                }
            }
            Node::Branch(p) => Step::Side(if truth(env, &p.condition, ctx)? {
                BranchSide::Then
            } else {
                BranchSide::Else
            }),
            Node::Set(p) => {
                let mut out = Map::new();
                for (k, t) in &p.fields {
                    out.insert(k.clone(), Value::String(render(env, t, ctx)?));
                }
                Step::Go(Value::Object(out))
            }
            Node::Http(p) => {
                let key = idempotency_key(flow_name, id, &change.id, &change.stamp);
                Step::Go(http_send(env, p, ctx, &key).await?)
            }
            Node::CsvAppend(p) => {
                let path = render(env, &p.path, ctx)?;
                let mut row = vec![];
                for t in p.columns.values() {
                    row.push(render(env, t, ctx)?);
                }
                append_csv(&path, p.columns.keys(), &row).map_err(|e| format!("{path}: {e}"))?;
                Step::Go(json!({"path": path}))
            }
            Node::Create(p) => {
                let c = client(&p.connection).await?;
                let fields = rendered_fields(env, &p.fields, ctx)?;
                let id = c
                    .create(&p.object, &Value::Object(fields))
                    .await
                    .map_err(|e| e.to_string())?;
                Step::Go(json!({"id": id, "created": true}))
            }
            Node::Update(p) => {
                let c = client(&p.connection).await?;
                let target = render(env, &p.id, ctx)?;
                let fields = rendered_fields(env, &p.fields, ctx)?;
                c.update(&p.object, &target, &Value::Object(fields))
                    .await
                    .map_err(|e| e.to_string())?;
                Step::Go(json!({"id": target}))
            }
            Node::Upsert(p) => {
                let c = client(&p.connection).await?;
                let mut fields = rendered_fields(env, &p.fields, ctx)?;
                let key = fields
                    .remove(&p.external_id)
                    .and_then(|v| v.as_str().map(str::to_string))
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| format!("the external id {} rendered empty", p.external_id))?;
                let answer = c
                    .upsert(&p.object, &p.external_id, &key, &Value::Object(fields))
                    .await
                    .map_err(|e| e.to_string())?;
                Step::Go(serde_json::to_value(answer).unwrap_or(Value::Null))
            }
            Node::Delete(p) => {
                let c = client(&p.connection).await?;
                let target = render(env, &p.id, ctx)?;
                // By id alone (a collection delete): the object need not be named.
                let answer = c
                    .delete_many(std::slice::from_ref(&target), false)
                    .await
                    .map_err(|e| e.to_string())?;
                match answer.first() {
                    Some(r) if r.success => Step::Go(json!({"id": target, "deleted": true})),
                    Some(r) => {
                        let why: Vec<String> = r
                            .errors
                            .iter()
                            .map(|e| format!("{}: {}", e.code, e.message))
                            .collect();
                        return Err(why.join("; "));
                    }
                    None => return Err("Salesforce answered nothing for the delete".into()),
                }
            }
            Node::Get(p) => {
                let c = client(&p.connection).await?;
                let target = render(env, &p.id, ctx)?;
                let fields: Vec<&str> = p.fields.iter().map(String::as_str).collect();
                let mut v = c
                    .get(&p.object, &target, Some(&fields))
                    .await
                    .map_err(|e| e.to_string())?;
                if let Some(m) = v.as_object_mut() {
                    m.remove("attributes");
                }
                Step::Go(v)
            }
            Node::Query(p) => {
                let c = client(&p.connection).await?;
                let soql = match &p.soql {
                    Some(t) => render(env, t, ctx)?,
                    None => get_records_soql(&c, p, env, ctx).await?,
                };
                let page = c
                    .query_page(&soql, false)
                    .await
                    .map_err(|e| e.to_string())?;
                let records: Vec<Value> = page
                    .records
                    .into_iter()
                    .map(|mut r| {
                        if let Some(m) = r.as_object_mut() {
                            m.remove("attributes");
                        }
                        r
                    })
                    .collect();
                Step::Go(json!({"totalSize": page.total_size, "records": records}))
            }
            Node::Search(p) => {
                let c = client(&p.connection).await?;
                let sosl = render(env, &p.sosl, ctx)?;
                let found = c.search(&sosl).await.map_err(|e| e.to_string())?;
                Step::Go(json!({"records": found}))
            }
            Node::Request(p) => {
                let c = client(&p.connection).await?;
                let path = render(env, &p.path, ctx)?;
                let mut query = vec![];
                for (k, t) in &p.query {
                    query.push((k.clone(), render(env, t, ctx)?));
                }
                let query: Vec<(&str, &str)> = query
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let body = match &p.body {
                    Some(t) => {
                        let text = render(env, t, ctx)?;
                        Some(serde_json::from_str::<Value>(&text).map_err(|e| {
                            format!("the body is not JSON once rendered ({e}): {text}")
                        })?)
                    }
                    None => None,
                };
                let method = reqwest::Method::from_bytes(p.method.to_ascii_uppercase().as_bytes())
                    .map_err(|e| e.to_string())?;
                let answer = c
                    .request(method, path.trim_start_matches('/'), &query, body.as_ref())
                    .await
                    .map_err(|e| e.to_string())?;
                Step::Go(answer.unwrap_or(Value::Null))
            }
        })
    }
}

/// What an action that writes would send, rendered but not sent; None
/// for steps and reads (a get, a query, a search, a GET request), which run
/// as they are so the nodes after them see real data.
fn would_send(
    flow_name: &str,
    id: &str,
    node: &Node,
    env: &minijinja::Environment<'_>,
    ctx: &Value,
    change: &Change,
) -> Option<std::result::Result<Value, String>> {
    let r = |t: &str| render(env, t, ctx);
    let fields = |f: &indexmap::IndexMap<String, String>| rendered_fields(env, f, ctx);
    let would = || -> std::result::Result<Option<Value>, String> {
        Ok(Some(match node {
            Node::Http(p) => {
                let mut headers = Map::new();
                for (k, t) in &p.headers {
                    headers.insert(k.clone(), Value::String(r(t)?));
                }
                headers.insert(
                    "Idempotency-Key".into(),
                    Value::String(idempotency_key(flow_name, id, &change.id, &change.stamp)),
                );
                json!({"would_send": {"method": p.method.to_ascii_uppercase(), "url": r(&p.url)?,
                    "headers": headers, "body": p.body.as_deref().map(r).transpose()?}})
            }
            Node::CsvAppend(p) => {
                let mut row = Map::new();
                for (k, t) in &p.columns {
                    row.insert(k.clone(), Value::String(r(t)?));
                }
                json!({"would_append": {"path": r(&p.path)?, "row": row}})
            }
            Node::Create(p) => {
                json!({"would_create": {"object": p.object, "fields": fields(&p.fields)?}})
            }
            Node::Update(p) => {
                json!({"would_update": {"object": p.object, "id": r(&p.id)?, "fields": fields(&p.fields)?}})
            }
            Node::Upsert(p) => {
                json!({"would_upsert": {"object": p.object, "external_id": p.external_id, "fields": fields(&p.fields)?}})
            }
            Node::Delete(p) => json!({"would_delete": {"id": r(&p.id)?}}),
            Node::Request(p) if !p.method.eq_ignore_ascii_case("GET") => {
                json!({"would_request": {"method": p.method.to_ascii_uppercase(), "path": r(&p.path)?,
                    "body": p.body.as_deref().map(r).transpose()?}})
            }
            _ => return Ok(None),
        }))
    };
    would().transpose()
}

impl Studio {
    /// Takes a flow run's failed records through the flow (as saved now)
    /// again, as a new run: each under the Idempotency-Key of its change,
    /// so a receiver that did get it before knows it. A record changed
    /// since is not sent again: the trigger took its later change through
    /// (it counts as unchanged, "superseded" in the success file). The
    /// trigger's own state is left alone.
    pub async fn retry_flow_run(
        &self,
        run: &str,
        host: &dyn RunHost,
        cancel: &Cancel,
        on_start: impl FnOnce(&str),
    ) -> Result<RunSummary> {
        let first = self.run(run)?;
        let Some(name) = self.run_flow(&first.run)? else {
            return Err(Error::Invalid(format!(
                "run {} is not a flow's run",
                first.run
            )));
        };
        if first.failed == 0 {
            return Err(Error::Invalid(format!(
                "run {} has no failed records to retry",
                first.run
            )));
        }
        let flow = super::parse(&self.export_flow(&name)?)?;
        let mut failed: Vec<(String, String)> = vec![];
        let mut reader = csv::Reader::from_path(&first.error_file)?;
        for row in reader.records() {
            let row = row?;
            let pair = (row[0].to_string(), row[1].to_string());
            if !failed.contains(&pair) {
                failed.push(pair);
            }
        }
        let (client, target, changes) = match flow.nodes.get(&flow.start) {
            Some(Node::Trigger(p)) => {
                let (_, client) = self.client(&p.connection).await?;
                let mut now: HashMap<String, trigger::Observed> = HashMap::new();
                for ids in failed.chunks(200) {
                    use futures::TryStreamExt;
                    let ids: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
                    let rows: Vec<Value> = client
                        .query(&trigger::by_id_soql(p, &ids), true)
                        .try_collect()
                        .await?;
                    now.extend(
                        rows.into_iter()
                            .filter_map(trigger::observe)
                            .map(|o| (o.id.clone(), o)),
                    );
                }
                let changes = failed
                    .iter()
                    .map(|(id, stamp)| match now.remove(id) {
                        Some(o) if o.stamp == *stamp => Change {
                            event: if o.is_deleted {
                                trigger::Event::Deleted
                            } else if o.created == o.stamp {
                                trigger::Event::Created
                            } else {
                                trigger::Event::Updated
                            },
                            id: o.id,
                            stamp: o.stamp,
                            record: o.record,
                        },
                        _ => Change {
                            id: id.clone(),
                            stamp: stamp.clone(),
                            event: trigger::Event::Superseded,
                            record: Map::new(),
                        },
                    })
                    .collect();
                (
                    Some(client),
                    (p.connection.clone(), p.object.clone()),
                    changes,
                )
            }
            _ => {
                let changes = failed.into_iter().map(|(_, at)| scheduled(at)).collect();
                (None, (String::new(), String::new()), changes)
            }
        };
        let calls_before = client.as_ref().map_or(0, salesforce::Client::calls_sent);
        self.fire(
            &name,
            &flow,
            (&target.0, &target.1, Some(&first.run)),
            (client.as_ref(), calls_before),
            changes,
            (host, cancel),
            on_start,
            &mut |_| Ok(()),
        )
        .await
    }
}

/// A schedule's tick as the change its steps take: `record.scheduled_at`.
fn scheduled(at: String) -> Change {
    Change {
        id: "schedule".into(),
        stamp: at.clone(),
        event: trigger::Event::Scheduled,
        record: [("scheduled_at".to_string(), Value::String(at))]
            .into_iter()
            .collect(),
    }
}

/// A flow tried on one record without writing anything.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FlowTest {
    /// The record the trigger would hand over (the latest that matches).
    #[cfg_attr(feature = "specta", specta(type = Option<crate::json_type::Json>))]
    pub record: Option<Value>,
    pub nodes: Vec<NodeOutcome>,
}

impl Studio {
    /// Takes the latest record the trigger matches through the flow:
    /// steps run, actions are rendered (what each would send), nothing
    /// is written and the trigger's state is left alone.
    pub async fn test_flow(&self, name: &str) -> Result<FlowTest> {
        self.test_flow_draft(&self.export_flow(name)?).await
    }

    /// `test_flow` on a flow file not saved yet (the canvas's Test).
    pub async fn test_flow_draft(&self, text: &str) -> Result<FlowTest> {
        let flow = super::parse(text)?;
        let name = flow.file.name.clone();
        let name = name.as_str();
        let Some(Node::Trigger(params)) = flow.nodes.get(&flow.start) else {
            // A schedule: one tick, now.
            let change = scheduled(schedule::stamp(chrono::Utc::now()));
            let nodes = self.take_through(name, &flow, &change, true).await;
            return Ok(FlowTest {
                record: Some(Value::Object(change.record)),
                nodes,
            });
        };
        let (_, client) = self.client(&params.connection).await?;
        let soql = trigger::latest_soql(params);
        let page = client.query_page(&soql, true).await?;
        let Some(seen) = page.records.into_iter().next().and_then(trigger::observe) else {
            return Ok(FlowTest {
                record: None,
                nodes: vec![],
            });
        };
        let change = Change {
            id: seen.id,
            stamp: seen.stamp,
            event: match params.on {
                TriggerOn::Deleted => trigger::Event::Deleted,
                TriggerOn::Restored => trigger::Event::Restored,
                TriggerOn::Created => trigger::Event::Created,
                _ => trigger::Event::Updated,
            },
            record: seen.record,
        };
        let nodes = self.take_through(name, &flow, &change, true).await;
        Ok(FlowTest {
            record: Some(Value::Object(change.record)),
            nodes,
        })
    }
}

/// Get Records as SOQL: the conditions' values rendered and written as
/// SOQL literals for their fields' types (quoted for text, as is for
/// numbers, dates and booleans).
async fn get_records_soql(
    client: &salesforce::Client,
    p: &super::model::QueryParams,
    env: &minijinja::Environment<'_>,
    ctx: &Value,
) -> std::result::Result<String, String> {
    let object = p.object.as_deref().unwrap_or_default();
    let describe = client.describe(object).await.map_err(|e| e.to_string())?;
    let kind = |field: &str| {
        describe["fields"]
            .as_array()
            .and_then(|fs| {
                fs.iter().find(|f| {
                    f["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(field))
                })
            })
            .and_then(|f| f["type"].as_str())
            .unwrap_or("string")
            .to_string()
    };
    let literal = |field: &str, value: &str| -> String {
        let bare = matches!(
            kind(field).as_str(),
            "int" | "double" | "currency" | "percent" | "boolean" | "date" | "datetime" | "time"
        ) || value.eq_ignore_ascii_case("null");
        if bare {
            value.to_string()
        } else {
            format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
        }
    };
    let mut clauses = vec![];
    for c in &p.conditions {
        let value = render(env, &c.value, ctx)?;
        let op = c.op.to_ascii_lowercase();
        let rhs = if op == "in" || op == "not in" {
            let items: Vec<String> = value
                .split(',')
                .map(|v| literal(&c.field, v.trim()))
                .collect();
            format!("({})", items.join(", "))
        } else {
            literal(&c.field, &value)
        };
        let op = match op.as_str() {
            "=" | "!=" | "<" | "<=" | ">" | ">=" | "like" | "in" | "not in" => op.to_uppercase(),
            other => return Err(format!("{other:?} is not a condition operator")),
        };
        clauses.push(format!("{} {op} {rhs}", c.field));
    }
    let mut soql = format!("SELECT {} FROM {object}", p.fields.join(", "));
    if !clauses.is_empty() {
        let join = match p.join {
            super::model::Join::And => " AND ",
            super::model::Join::Or => " OR ",
        };
        soql.push_str(&format!(" WHERE {}", clauses.join(join)));
    }
    if let Some(sort) = &p.sort {
        soql.push_str(&format!(
            " ORDER BY {}{}",
            sort.field,
            if sort.descending { " DESC" } else { "" }
        ));
    }
    if let Some(limit) = p.limit {
        soql.push_str(&format!(" LIMIT {limit}"));
    }
    Ok(soql)
}

enum Step {
    Go(Value),
    Stop,
    Side(BranchSide),
}

async fn http_send(
    env: &minijinja::Environment<'_>,
    p: &super::model::HttpParams,
    ctx: &Value,
    key: &str,
) -> std::result::Result<Value, String> {
    let url = render(env, &p.url, ctx)?;
    let body = p.body.as_deref().map(|b| render(env, b, ctx)).transpose()?;
    let mut headers = vec![];
    for (k, t) in &p.headers {
        headers.push((k.clone(), render(env, t, ctx)?));
    }
    let method = reqwest::Method::from_bytes(p.method.to_ascii_uppercase().as_bytes())
        .map_err(|e| e.to_string())?;
    let mut last = String::new();
    for attempt in 1..=HTTP_TRIES {
        let mut req = http()
            .request(method.clone(), &url)
            .timeout(HTTP_TIMEOUT)
            .header("Idempotency-Key", key);
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        if let Some(b) = &body {
            req = req.body(b.clone());
        }
        match req.send().await {
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                if status.is_success() {
                    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    return Ok(json!({"status": status.as_u16(), "body": body}));
                }
                last = format!(
                    "{method} {url} answered {status}: {}",
                    text.chars().take(300).collect::<String>()
                );
                if !(status.is_server_error() || status.as_u16() == 429) {
                    return Err(last);
                }
            }
            Err(e) => last = format!("{method} {url}: {}", salesforce::net::describe(&e)),
        }
        if attempt < HTTP_TRIES {
            tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt - 1))).await;
        }
    }
    Err(last)
}

fn append_csv<'a>(
    path: &str,
    header: impl Iterator<Item = &'a String>,
    row: &[String],
) -> std::io::Result<()> {
    let new = std::fs::metadata(path)
        .map(|m| m.len() == 0)
        .unwrap_or(true);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut w = csv::Writer::from_writer(f);
    if new {
        w.write_record(header)?;
    }
    w.write_record(row)?;
    w.flush()?;
    let mut f = w
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    f.flush()
}

/// Asks the org how far it covers, for the next poll to move the window
/// to once its own query is read; only while records are remembered (an
/// idle trigger stays at one call a poll). When the org cannot say (a
/// window start more than 30 days back, a failed call), the window stays
/// where it is: the next poll reads a little more, nothing is lost.
async fn learn_covered(client: &salesforce::Client, object: &str, state: &mut TriggerState) {
    if state.seen.is_empty() {
        return;
    }
    let since = state.since.clone();
    match covered(client, object, since.as_deref()).await {
        Ok(latest) => state.covered = Some(latest),
        Err(e) => tracing::warn!(
            object,
            ?since,
            "the trigger's window stays where it is: {e}"
        ),
    }
}

/// The org's `latestDateCovered` for an object's changes from `since`
/// (or from a day ago): where the next window can start safely.
async fn covered(client: &salesforce::Client, object: &str, since: Option<&str>) -> Result<String> {
    let now = chrono::Utc::now();
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string();
    let start = match since {
        Some(s) => s.to_string(),
        None => fmt(now - chrono::Duration::days(1)),
    };
    // The org caps what it covers at its own now: this machine's clock
    // may be a day off either way.
    let end = fmt(now + chrono::Duration::days(1));
    let v = client
        .request(
            reqwest::Method::GET,
            &format!("sobjects/{object}/updated/"),
            &[("start", start.as_str()), ("end", end.as_str())],
            None,
        )
        .await?
        .unwrap_or(Value::Null);
    v["latestDateCovered"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::Invalid(format!("getUpdated for {object} gave no latestDateCovered")))
}
