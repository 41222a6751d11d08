//! Reads what is already in the org for a batch of rows, in a few queries:
//! the records each row's key finds (for a dry run's prediction and for
//! `--only-changed`), and the parents its lookups name (a dry run reports
//! a missing parent by its value, as the real run would fail on it).

use super::plan::{Operation, Plan, Target};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// What a row's key finds.
#[derive(Debug, Clone)]
pub enum Existing {
    /// The row makes a new record (insert, or an upsert key not found).
    None,
    Found {
        id: String,
        record: Map<String, Value>,
    },
    /// An upsert key that several records share: Salesforce refuses it.
    Many,
}

/// Keys per query: the IN list stays far below the URI limit.
const KEYS_PER_QUERY_CHARS: usize = 6_000;

fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Runs `SELECT select FROM object WHERE field IN (values)` in chunks and
/// answers every row.
pub(crate) async fn query_in(
    client: &salesforce::Client,
    object: &str,
    select: &str,
    field: &str,
    values: &[String],
) -> salesforce::Result<Vec<Map<String, Value>>> {
    use futures::StreamExt;
    let mut out = vec![];
    let mut chunk: Vec<String> = vec![];
    let mut len = 0;
    let flush = |chunk: &mut Vec<String>| -> Option<String> {
        if chunk.is_empty() {
            return None;
        }
        let soql = format!(
            "SELECT {select} FROM {object} WHERE {field} IN ({})",
            chunk.join(",")
        );
        chunk.clear();
        Some(soql)
    };
    let mut queries = vec![];
    for v in values {
        let q = quote(v);
        len += q.len() + 1;
        chunk.push(q);
        if len > KEYS_PER_QUERY_CHARS {
            queries.extend(flush(&mut chunk));
            len = 0;
        }
    }
    queries.extend(flush(&mut chunk));
    for soql in queries {
        let mut rows = std::pin::pin!(client.query(&soql, false));
        while let Some(row) = rows.next().await {
            if let Value::Object(m) = row? {
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// The record a row's key finds in each of `records` (by Id for update and
/// delete, by the external id for upsert; insert finds nothing).
pub async fn existing(
    client: &salesforce::Client,
    plan: &Plan,
    records: &[&Map<String, Value>],
) -> salesforce::Result<Vec<Existing>> {
    let key_field = match plan.operation {
        Operation::Insert => return Ok(records.iter().map(|_| Existing::None).collect()),
        Operation::Upsert => plan.external_id.clone().unwrap_or_else(|| "Id".into()),
        _ => "Id".to_string(),
    };
    let mut select: Vec<String> = vec!["Id".into()];
    for c in &plan.columns {
        let name = match &c.target {
            Target::Field(i) => plan.fields[*i].name.clone(),
            Target::Lookup {
                relationship,
                parent_field,
                field,
            } => {
                // The lookup's own Id too: an undo restores it.
                let own = plan.fields[*field].name.clone();
                if !select.iter().any(|s| s.eq_ignore_ascii_case(&own)) {
                    select.push(own);
                }
                format!("{relationship}.{parent_field}")
            }
            Target::Skip => continue,
        };
        if !select.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
            select.push(name);
        }
    }
    for (i, _) in &plan.constants {
        let name = plan.fields[*i].name.clone();
        if !select.contains(&name) {
            select.push(name);
        }
    }
    if !select.contains(&key_field) {
        select.push(key_field.clone());
    }
    let keys: Vec<String> = records
        .iter()
        .filter_map(|r| {
            r.get(&key_field)
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let found = query_in(client, &plan.object, &select.join(", "), &key_field, &keys).await?;
    // Ids compare by their case-sensitive first 15 characters; external ids
    // ignore case, as Salesforce matches them.
    let norm = |v: &str| -> String {
        if key_field == "Id" {
            v.chars().take(15).collect()
        } else {
            v.to_lowercase()
        }
    };
    let mut by_key: HashMap<String, Vec<Map<String, Value>>> = HashMap::new();
    for rec in found {
        if let Some(k) = rec.get(&key_field).and_then(Value::as_str) {
            by_key.entry(norm(k)).or_default().push(rec);
        }
    }
    Ok(records
        .iter()
        .map(|r| {
            let key = r.get(&key_field).and_then(Value::as_str).map(norm);
            match key.and_then(|k| by_key.get(&k)) {
                Some(list) if list.len() > 1 => Existing::Many,
                Some(list) => Existing::Found {
                    id: list[0]["Id"].as_str().unwrap_or_default().to_string(),
                    record: list[0].clone(),
                },
                None => Existing::None,
            }
        })
        .collect())
}

/// Whether sending `record` would change nothing in `existing`.
pub fn unchanged(plan: &Plan, record: &Map<String, Value>, existing: &Map<String, Value>) -> bool {
    record.iter().all(|(k, v)| {
        if k == "Id" || plan.external_id.as_deref() == Some(k.as_str()) {
            return true;
        }
        let current = match v {
            // A lookup by the parent's external id: compare that value.
            Value::Object(m) => {
                let Some((pf, pv)) = m.iter().next() else {
                    return true;
                };
                let parent = existing.get(k).unwrap_or(&Value::Null);
                return same(pv, parent.get(pf).unwrap_or(&Value::Null));
            }
            _ => existing.get(k).unwrap_or(&Value::Null),
        };
        same(v, current)
    })
}

pub(crate) fn same(sent: &Value, current: &Value) -> bool {
    match (sent, current) {
        (Value::Null, Value::Null) => true,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Number(a), Value::String(b)) | (Value::String(b), Value::Number(a)) => {
            b.parse::<f64>().ok() == a.as_f64()
        }
        (Value::String(a), Value::String(b)) => {
            a == b
                // Ids: 15 and 18 characters name the same record.
                || (a.len() >= 15 && b.len() >= 15 && a.len() != b.len() && a[..15] == b[..15])
        }
        (a, b) => a == b,
    }
}

/// A lookup whose parent the org lacks.
#[derive(Debug, Clone)]
pub struct MissingParent {
    /// `Account`: the key the record names its parent under.
    pub relationship: String,
    /// `AccountId`: the lookup field itself.
    pub field: String,
    /// `Acct (AccountId): no Account has ERP_Id__c = "X"`.
    pub why: String,
}

/// Leaves the lookups whose parent is missing empty instead (the
/// `--missing-parent null` choice): the reference is dropped and the field
/// set to null.
pub fn null_missing(record: &mut Map<String, Value>, missing: &[MissingParent]) {
    for m in missing {
        record.remove(&m.relationship);
        record.insert(m.field.clone(), Value::Null);
    }
}

/// The parent values a batch's lookups name that no parent has, per row.
pub async fn missing_parents(
    client: &salesforce::Client,
    plan: &Plan,
    records: &[&Map<String, Value>],
) -> salesforce::Result<Vec<Vec<MissingParent>>> {
    let mut out: Vec<Vec<MissingParent>> = records.iter().map(|_| vec![]).collect();
    for c in &plan.columns {
        let Target::Lookup {
            field,
            relationship,
            parent_field,
        } = &c.target
        else {
            continue;
        };
        let Some(parent) = plan.fields[*field].references.first() else {
            continue;
        };
        let wanted: Vec<String> = records
            .iter()
            .filter_map(|r| {
                r.get(relationship)?
                    .get(parent_field)?
                    .as_str()
                    .map(str::to_string)
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let found: HashSet<String> = query_in(client, parent, parent_field, parent_field, &wanted)
            .await?
            .iter()
            .filter_map(|r| {
                r.get(parent_field)
                    .and_then(Value::as_str)
                    .map(str::to_lowercase)
            })
            .collect();
        for (slot, r) in out.iter_mut().zip(records) {
            if let Some(v) = r
                .get(relationship)
                .and_then(|p| p.get(parent_field))
                .and_then(Value::as_str)
                && !found.contains(&v.to_lowercase())
            {
                slot.push(MissingParent {
                    relationship: relationship.clone(),
                    field: plan.fields[*field].name.clone(),
                    why: format!(
                        "{} ({}): no {parent} has {parent_field} = {v:?}",
                        c.header, plan.fields[*field].name
                    ),
                });
            }
        }
    }
    Ok(out)
}
