//! Undo for every import. While an import writes, its journal
//! (`undo.jsonl` in the run's folder) keeps, for each row written, the
//! record's id, what was sent and, for an update, the values it replaced.
//! `Studio::undo` reads it back as a run of its own: records the import
//! created are deleted, updated ones restored, deleted ones brought back
//! from the recycle bin (SOAP `undelete`). A record someone changed since
//! is a conflict, left alone unless forced.

use super::lookup::{self, Existing};
use super::plan::{Operation, Plan, Val};
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

/// The journal file, written a job's entries at a time (`entry` makes
/// them).
pub(crate) struct Journal {
    file: std::io::BufWriter<std::fs::File>,
}

/// Buffered in large pieces: a million-row import writes about 150 MB here.
const JOURNAL_BUFFER: usize = 256 * 1024;

impl Journal {
    fn new(f: std::fs::File) -> Journal {
        Journal {
            file: std::io::BufWriter::with_capacity(JOURNAL_BUFFER, f),
        }
    }

    pub(crate) fn create(folder: &Path) -> Result<Journal> {
        let path = folder.join(JOURNAL);
        let f = std::fs::File::create(&path)
            .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
        Ok(Journal::new(f))
    }

    /// The journal of a run being resumed, written on.
    pub(crate) fn append(folder: &Path) -> Result<Journal> {
        let path = folder.join(JOURNAL);
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
        Ok(Journal::new(f))
    }

    /// Appends entries `entry` made.
    pub(crate) fn write(&mut self, entries: &[u8]) -> Result<()> {
        self.file.write_all(entries)?;
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> Result<()> {
        self.file.flush()?;
        Ok(())
    }
}

/// What the journal keeps of a row about to be sent, appended to `out`
/// as two JSON objects whose lengths are answered: the record as sent but
/// for the Id it is known by (none for a delete), and the values an update
/// replaces (none unless the record was found).
pub(crate) fn images(
    plan: &Plan,
    sent: &Map<String, Value>,
    found: &Existing,
    out: &mut Vec<u8>,
) -> Result<(usize, usize)> {
    if matches!(plan.operation, Operation::Delete | Operation::HardDelete) {
        return Ok((0, 0));
    }
    let start = out.len();
    let after = sent.iter().filter(|(k, _)| *k != "Id");
    json::object(out, after.clone())?;
    let a = out.len() - start;
    let Existing::Found { record, .. } = found else {
        return Ok((a, 0));
    };
    if !matches!(plan.operation, Operation::Update | Operation::Upsert) {
        return Ok((a, 0));
    }
    let mut before = Map::new();
    for (k, v) in after {
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
    json::object(out, before.iter())?;
    Ok((a, out.len() - start - a))
}

/// The after image `images` makes, from a row's values as
/// `Plan::values` hands them (the same bytes as from its record).
pub(crate) fn after_image<'v>(
    out: &mut Vec<u8>,
    values: impl Iterator<Item = (&'v str, &'v Val<'v>)>,
) -> Result<()> {
    out.push(b'{');
    for (i, (name, v)) in values.filter(|(k, _)| *k != "Id").enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json::string(out, name)?;
        out.push(b':');
        match v {
            Val::Text(t) => json::string(out, t)?,
            Val::Json(v) => json::value(out, v)?,
            Val::Parent(field, value) => {
                out.push(b'{');
                json::string(out, field)?;
                out.push(b':');
                json::string(out, value)?;
                out.push(b'}');
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// Appends the journal's line for a record a row wrote: `after` and
/// `before` as `images` made them (an empty one is written `{}`).
pub(crate) fn entry(
    out: &mut Vec<u8>,
    operation: Operation,
    created: bool,
    line: u64,
    id: &str,
    after: &[u8],
    before: &[u8],
) -> Result<()> {
    let did = match operation {
        Operation::Delete | Operation::HardDelete => Did::Deleted,
        _ if created => Did::Created,
        _ => Did::Updated,
    };
    // Written as an Entry is read, field by field: a million-row import
    // writes a million of these.
    out.extend_from_slice(b"{\"line\":");
    out.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
    out.extend_from_slice(b",\"id\":");
    json::string(out, id)?;
    let (did, after, before) = match did {
        Did::Created => (&b",\"did\":\"created\",\"after\":"[..], after, &b""[..]),
        Did::Updated => (&b",\"did\":\"updated\",\"after\":"[..], after, before),
        Did::Deleted => (&b",\"did\":\"deleted\",\"after\":"[..], &b""[..], &b""[..]),
    };
    out.extend_from_slice(did);
    out.extend_from_slice(if after.is_empty() { b"{}" } else { after });
    out.extend_from_slice(b",\"before\":");
    out.extend_from_slice(if before.is_empty() { b"{}" } else { before });
    out.extend_from_slice(b"}\n");
    Ok(())
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

/// JSON written straight into a buffer, as serde_json writes it, with
/// strings that need no escaping copied whole.
mod json {
    use serde_json::Value;

    pub(super) fn string(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
        let plain = s
            .bytes()
            .fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
        if plain {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
            Ok(())
        } else {
            serde_json::to_writer(out, s)
        }
    }

    pub(super) fn value(out: &mut Vec<u8>, v: &Value) -> serde_json::Result<()> {
        match v {
            Value::String(s) => string(out, s),
            Value::Object(m) => object(out, m.iter()),
            other => serde_json::to_writer(out, other),
        }
    }

    pub(super) fn object<'a>(
        out: &mut Vec<u8>,
        entries: impl Iterator<Item = (&'a String, &'a Value)>,
    ) -> serde_json::Result<()> {
        out.push(b'{');
        for (i, (k, v)) in entries.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, k)?;
            out.push(b':');
            value(out, v)?;
        }
        out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn journal_objects_are_written_as_serde_json_writes_them() {
        let record = json!({
            "LastName": "O\"Brien \\ the \u{1}st",
            "Title": "Café\nmanager",
            "Age__c": 41,
            "Active__c": true,
            "Email": null,
            "Account": {"ERP_Id__c": "A-1"},
        });
        let map = record.as_object().unwrap();
        let mut out = vec![];
        json::object(&mut out, map.iter()).unwrap();
        assert_eq!(out, serde_json::to_vec(map).unwrap());
        let back: Map<String, Value> = serde_json::from_slice(&out).unwrap();
        assert_eq!(&back, map);
    }
}
