//! Undo for every import. While an import writes, its journal
//! (`undo.jsonl` in the run's folder) keeps, for each row written, the
//! record's id, what was sent and, for an update, the values it replaced.
//! `Studio::undo` reads it back as a run of its own: records the import
//! created are deleted, updated ones restored, deleted ones brought back
//! from the recycle bin (SOAP `undelete`). A record someone changed since
//! is a conflict, left alone unless forced.

use super::lookup::{self, Existing};
use super::plan::{Operation, Plan};
use crate::Studio;
use crate::error::{Error, Result};
use crate::runs::{Cancel, NewRun, RunHost, RunProgress, RunStatus, RunSummary};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::io::{BufRead, Write};
use std::path::Path;

const JOURNAL: &str = "undo.jsonl";
/// Records restored, deleted or undeleted per call.
const BATCH: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Did {
    Created,
    Updated,
    Deleted,
}

/// One journal line: a record an import wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    line: u64,
    id: String,
    did: Did,
    /// What the import sent (a lookup by external id as `{"Rel": {"Ext": v}}`).
    #[serde(default)]
    after: Map<String, Value>,
    /// The values an update replaced (a lookup as its own Id field).
    #[serde(default)]
    before: Map<String, Value>,
}

pub(crate) struct Journal(std::io::BufWriter<std::fs::File>);

impl Journal {
    pub(crate) fn create(folder: &Path) -> Result<Journal> {
        let path = folder.join(JOURNAL);
        let f = std::fs::File::create(&path)
            .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
        Ok(Journal(std::io::BufWriter::new(f)))
    }

    /// The journal of a run being resumed, written on.
    pub(crate) fn append(folder: &Path) -> Result<Journal> {
        let path = folder.join(JOURNAL);
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
        Ok(Journal(std::io::BufWriter::new(f)))
    }

    pub(crate) fn note(
        &mut self,
        plan: &Plan,
        line: u64,
        id: &str,
        created: bool,
        sent: Map<String, Value>,
        found: &Existing,
    ) -> Result<()> {
        let mut after = sent;
        after.remove("Id");
        let did = match plan.operation {
            Operation::Delete | Operation::HardDelete => Did::Deleted,
            _ if created => Did::Created,
            _ => Did::Updated,
        };
        let mut before = Map::new();
        if let (Did::Updated, Existing::Found { record, .. }) = (did, found) {
            for (k, v) in &after {
                let field = match v {
                    // A lookup set by external id: restore the Id it held.
                    Value::Object(_) => plan
                        .fields
                        .iter()
                        .find(|f| f.relationship.as_deref() == Some(k.as_str()))
                        .map(|f| f.name.clone()),
                    _ => Some(k.clone()),
                };
                if let Some(field) = field
                    && plan.external_id.as_deref() != Some(field.as_str())
                {
                    before.insert(
                        field.clone(),
                        record.get(&field).cloned().unwrap_or(Value::Null),
                    );
                }
            }
        }
        if did == Did::Deleted {
            after.clear();
        }
        // Written as an Entry is read, without copying the record into one.
        #[derive(Serialize)]
        struct Written<'a> {
            line: u64,
            id: &'a str,
            did: Did,
            after: &'a Map<String, Value>,
            before: &'a Map<String, Value>,
        }
        let entry = Written {
            line,
            id,
            did,
            after: &after,
            before: &before,
        };
        serde_json::to_writer(&mut self.0, &entry)?;
        self.0.write_all(b"\n")?;
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> Result<()> {
        self.0.flush()?;
        Ok(())
    }
}

/// The fields to read back to see whether a record still holds what the
/// import wrote.
fn select_of(entries: &[&Entry]) -> Vec<String> {
    let mut select = vec!["Id".to_string()];
    for e in entries {
        for (k, v) in &e.after {
            let name = match v {
                Value::Object(m) => match m.keys().next() {
                    Some(f) => format!("{k}.{f}"),
                    None => continue,
                },
                _ => k.clone(),
            };
            if !select.contains(&name) {
                select.push(name);
            }
        }
    }
    select
}

/// Whether `current` still holds what the import wrote.
fn untouched(after: &Map<String, Value>, current: &Map<String, Value>) -> bool {
    after.iter().all(|(k, v)| match v {
        Value::Object(m) => m.iter().all(|(pf, pv)| {
            let parent = current.get(k).unwrap_or(&Value::Null);
            lookup::same(pv, parent.get(pf).unwrap_or(&Value::Null))
        }),
        _ => lookup::same(v, current.get(k).unwrap_or(&Value::Null)),
    })
}

impl Studio {
    /// Undoes an import as a run of its own, with result files: creations
    /// deleted, updates restored, deletions undeleted. A record changed
    /// since the import is a conflict (in the error file) unless `force`.
    pub async fn undo(
        &self,
        run: &str,
        force: bool,
        host: &dyn RunHost,
        cancel: &Cancel,
        on_start: impl FnOnce(&str),
    ) -> Result<RunSummary> {
        let first = self.run(run)?;
        let spec: super::ImportSpec = self
            .run_spec(&first.run)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "run {} is not an import; only imports can be undone",
                    first.run
                ))
            })?;
        if spec.dry_run {
            return Err(Error::Invalid(format!(
                "run {} was a dry run: it wrote nothing to undo",
                first.run
            )));
        }
        let journal = self.runs_folder().join(&first.run).join(JOURNAL);
        let file = std::fs::File::open(&journal).map_err(|e| {
            Error::Invalid(format!(
                "run {} has no undo journal ({}: {e})",
                first.run,
                journal.display()
            ))
        })?;
        let mut entries = vec![];
        // A row settled again on resume (its journal line reached the disk,
        // its result line did not) has two entries: the first tells what
        // the org held before the run.
        let mut seen = std::collections::HashSet::new();
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| Error::Output(e.to_string()))?;
            if let Ok(e) = serde_json::from_str::<Entry>(&line)
                && seen.insert(e.line)
            {
                entries.push(e);
            }
        }
        let (_, client) = self.client(&spec.connection).await?;
        let run = self.start_run(NewRun {
            kind: "undo",
            connection: &spec.connection,
            object: &first.object,
            operation: "undo",
            input_file: None,
            results: None,
            spec: None,
            retry_of: Some(&first.run),
            flow: None,
        })?;
        on_start(&run.summary.run);
        let mut summary = run.summary.clone();
        let header = ["sf__Row", "sf__Id", "Undo"];
        let mut ok = csv::Writer::from_path(&summary.success_file).map_err(Error::from)?;
        let mut bad = csv::Writer::from_path(&summary.error_file).map_err(Error::from)?;
        ok.write_record(header)?;
        bad.write_record(["sf__Row", "sf__Id", "Undo", "sf__Error"])?;
        let started = std::time::Instant::now();
        let calls_before = client.calls_sent();
        let mut failure: Option<Error> = None;
        for chunk in entries.chunks(BATCH) {
            summary.rows += chunk.len() as u64;
            if failure.is_none() && cancel.is_cancelled() {
                failure = Some(Error::RunCancelled);
            }
            if let Some(stop) = &failure {
                for e in chunk {
                    summary.failed += 1;
                    bad.write_record([
                        &e.line.to_string(),
                        &e.id,
                        "none",
                        &format!("not undone: {stop}"),
                    ])?;
                }
                continue;
            }
            match self.undo_chunk(&client, &first.object, chunk, force).await {
                Ok(outcomes) => {
                    for (e, outcome) in chunk.iter().zip(outcomes) {
                        let action = match e.did {
                            Did::Created => "deleted",
                            Did::Updated => "restored",
                            Did::Deleted => "undeleted",
                        };
                        match outcome {
                            Ok(()) => {
                                summary.succeeded += 1;
                                match e.did {
                                    Did::Created => summary.deleted += 1,
                                    Did::Updated => summary.updated += 1,
                                    Did::Deleted => summary.created += 1,
                                }
                                ok.write_record([&e.line.to_string(), &e.id, action])?;
                            }
                            Err(why) => {
                                summary.failed += 1;
                                bad.write_record([&e.line.to_string(), &e.id, action, &why])?;
                            }
                        }
                    }
                }
                Err(err) => {
                    for e in chunk {
                        summary.failed += 1;
                        bad.write_record([
                            &e.line.to_string(),
                            &e.id,
                            "none",
                            &format!("not undone: {err}"),
                        ])?;
                    }
                    failure = Some(err.into());
                }
            }
            ok.flush()?;
            bad.flush()?;
            summary.api_calls = client.calls_sent() - calls_before;
            self.save_run(&summary, None, false)?;
            host.progress(&RunProgress {
                run: summary.run.clone(),
                rows_done: summary.rows,
                rows_total: Some(entries.len() as u64),
                api_calls: summary.api_calls,
                elapsed_ms: started.elapsed().as_millis() as u64,
            });
        }
        ok.flush()?;
        bad.flush()?;
        summary.api_calls = client.calls_sent() - calls_before;
        summary.status = match &failure {
            Some(Error::RunCancelled) => RunStatus::Cancelled,
            Some(_) => RunStatus::Failed,
            None if summary.failed > 0 => RunStatus::CompletedWithErrors,
            None => RunStatus::Completed,
        };
        let error = failure.as_ref().map(|e| e.to_string());
        self.save_run(&summary, error.as_deref(), true)?;
        Ok(summary)
    }

    /// Undoes up to 200 journal entries; answers each one's outcome.
    async fn undo_chunk(
        &self,
        client: &salesforce::Client,
        object: &str,
        chunk: &[Entry],
        force: bool,
    ) -> salesforce::Result<Vec<std::result::Result<(), String>>> {
        let mut out: Vec<Option<std::result::Result<(), String>>> =
            chunk.iter().map(|_| None).collect();
        // What the records hold now, to find conflicts.
        let live: Vec<&Entry> = chunk.iter().filter(|e| e.did != Did::Deleted).collect();
        let mut current: std::collections::HashMap<String, Map<String, Value>> = Default::default();
        if !live.is_empty() {
            let ids: Vec<String> = live.iter().map(|e| format!("'{}'", e.id)).collect();
            let soql = format!(
                "SELECT {} FROM {object} WHERE Id IN ({})",
                select_of(&live).join(", "),
                ids.join(",")
            );
            use futures::StreamExt;
            let mut rows = std::pin::pin!(client.query(&soql, false));
            while let Some(row) = rows.next().await {
                if let Value::Object(m) = row? {
                    let id: String = m["Id"]
                        .as_str()
                        .unwrap_or_default()
                        .chars()
                        .take(15)
                        .collect();
                    current.insert(id, m);
                }
            }
        }
        let key = |id: &str| id.chars().take(15).collect::<String>();
        let mut deletes = vec![];
        let mut restores = vec![];
        let mut undeletes = vec![];
        for (i, e) in chunk.iter().enumerate() {
            if e.did == Did::Deleted {
                undeletes.push(i);
                continue;
            }
            match current.get(&key(&e.id)) {
                None => out[i] = Some(Err("CONFLICT: the record is gone (deleted since the import)".into())),
                Some(now) if !force && !untouched(&e.after, now) => {
                    out[i] = Some(Err(
                        "CONFLICT: changed since the import; left as it is (undo with --force to overwrite)".into(),
                    ))
                }
                Some(_) if e.did == Did::Created => deletes.push(i),
                Some(_) => restores.push(i),
            }
        }
        let fill = |out: &mut Vec<Option<std::result::Result<(), String>>>,
                    slots: &[usize],
                    results: Vec<salesforce::RecordResult>| {
            for (&i, r) in slots.iter().zip(results) {
                out[i] = Some(if r.success {
                    Ok(())
                } else {
                    Err(r
                        .errors
                        .iter()
                        .map(|e| format!("{}: {}", e.code, e.message))
                        .collect::<Vec<_>>()
                        .join("; "))
                });
            }
        };
        if !deletes.is_empty() {
            let ids: Vec<String> = deletes.iter().map(|&i| chunk[i].id.clone()).collect();
            let r = client.delete_many(&ids, false).await?;
            fill(&mut out, &deletes, r);
        }
        if !restores.is_empty() {
            let records: Vec<Value> = restores
                .iter()
                .map(|&i| {
                    let mut m = chunk[i].before.clone();
                    m.insert("Id".into(), Value::String(chunk[i].id.clone()));
                    Value::Object(m)
                })
                .collect();
            let r = client
                .write_many(object, salesforce::Collection::Update, &records, false)
                .await?;
            fill(&mut out, &restores, r);
        }
        if !undeletes.is_empty() {
            let ids: Vec<String> = undeletes.iter().map(|&i| chunk[i].id.clone()).collect();
            let r = client.undelete(&ids).await?;
            fill(&mut out, &undeletes, r);
        }
        Ok(out
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err("no answer for this record".into())))
            .collect())
    }
}
