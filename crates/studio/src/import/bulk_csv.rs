//! A batch as the CSV of one Bulk API 2.0 job, and the job's result rows
//! matched back to the rows sent. Results come back in no set order and
//! echo the cells sent, so a row is found by its cells (rows with the same
//! cells are interchangeable), never by position. Cells are read from the
//! records as they are: no copy of the batch is kept for the matching.

use super::plan::{Operation, Plan};
use super::source::Row;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::hash::{BuildHasher, Hash, Hasher};

pub(crate) type Record = Map<String, Value>;

/// The columns the batch's records use, in the order first met: the Id
/// alone for a delete, a lookup by external id as `Parent.ExtId__c`.
pub(crate) fn columns(plan: &Plan, batch: &[(Row, Record)]) -> Vec<String> {
    if matches!(plan.operation, Operation::Delete | Operation::HardDelete) {
        return vec!["Id".to_string()];
    }
    let mut columns: Vec<String> = vec![];
    for (_, r) in batch {
        // Most records send the columns already met, in their order.
        if r.len() == columns.len() && r.keys().zip(&columns).all(|(k, c)| k == c) {
            continue;
        }
        for (k, v) in r.iter() {
            let nested = match v {
                Value::Object(m) => m.keys().next().map(String::as_str),
                _ => None,
            };
            let known = columns.iter().any(|c| match nested {
                Some(f) => c.strip_prefix(k.as_str()).and_then(|t| t.strip_prefix('.')) == Some(f),
                None => c == k,
            });
            if !known {
                columns.push(match nested {
                    Some(f) => format!("{k}.{f}"),
                    None => k.clone(),
                });
            }
        }
    }
    columns
}

/// A value as Bulk API 2.0 CSV takes it (`#N/A` blanks a field).
fn text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Null => Cow::Borrowed("#N/A"),
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// The cell a record sends in `column`.
pub(crate) fn cell<'a>(record: &'a Record, column: &str) -> Cow<'a, str> {
    if let Some(v) = record.get(column) {
        return text(v);
    }
    let Some((head, tail)) = column.split_once('.') else {
        return Cow::Borrowed("");
    };
    match record.get(head) {
        Some(Value::Object(m)) => m.get(tail).map(text).unwrap_or_default(),
        Some(v) => text(v),
        None => Cow::Borrowed(""),
    }
}

/// The cells a record sends in `columns`. Records list their fields in
/// the columns' order, mostly: a field is looked up by name only when not.
pub(crate) fn cells<'a>(
    record: &'a Record,
    columns: &'a [String],
) -> impl Iterator<Item = Cow<'a, str>> + 'a {
    let mut fields = record.iter().peekable();
    columns.iter().map(move |c| {
        let next_is_c = fields.peek().is_some_and(|(k, v)| match v {
            Value::Object(m) => m.keys().next().is_some_and(|f| {
                c.strip_prefix(k.as_str()).and_then(|t| t.strip_prefix('.')) == Some(f.as_str())
            }),
            _ => *k == c,
        });
        match fields.next_if(|_| next_is_c) {
            Some((_, Value::Object(m))) => m.values().next().map(text).unwrap_or_default(),
            Some((_, v)) => text(v),
            None => cell(record, c),
        }
    })
}

/// The batch's CSV (the header, then a line per row), and each row's
/// key for the `Matcher`, made in the same pass over the cells.
pub(crate) fn write(
    columns: &[String],
    batch: &[(Row, Record)],
) -> Result<(Vec<u8>, Vec<u64>), String> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(batch.len() * 64));
    w.write_record(columns).map_err(|e| e.to_string())?;
    let mut keys = Vec::with_capacity(batch.len());
    for (_, record) in batch {
        let mut h = hasher();
        for c in cells(record, columns) {
            c.as_ref().hash(&mut h);
            w.write_field(c.as_bytes()).map_err(|e| e.to_string())?;
        }
        keys.push(h.finish());
        w.write_record(None::<&[u8]>).map_err(|e| e.to_string())?;
    }
    Ok((w.into_inner().map_err(|e| e.to_string())?, keys))
}

fn hasher() -> impl Hasher {
    foldhash::fast::FixedState::default().build_hasher()
}

fn key<S: AsRef<str>>(cells: impl Iterator<Item = S>) -> u64 {
    let mut h = hasher();
    for c in cells {
        c.as_ref().hash(&mut h);
    }
    h.finish()
}

/// The rows of a batch not yet matched to a result, by their cells.
pub(crate) struct Matcher<'a> {
    columns: &'a [String],
    batch: &'a [(Row, Record)],
    /// Each row's key and index, sorted by key.
    keys: Vec<(u64, usize)>,
    taken: Vec<bool>,
}

impl<'a> Matcher<'a> {
    pub(crate) fn new(columns: &'a [String], batch: &'a [(Row, Record)]) -> Matcher<'a> {
        let keys = batch
            .iter()
            .map(|(_, record)| key(cells(record, columns)))
            .collect();
        Matcher::with_keys(columns, batch, keys)
    }

    /// The matcher of a batch whose keys `write` made (`keys[i]` row i's).
    pub(crate) fn with_keys(
        columns: &'a [String],
        batch: &'a [(Row, Record)],
        keys: Vec<u64>,
    ) -> Matcher<'a> {
        let mut keys: Vec<(u64, usize)> = keys.into_iter().zip(0..).collect();
        keys.sort_unstable();
        Matcher {
            columns,
            batch,
            keys,
            taken: vec![false; batch.len()],
        }
    }

    /// The row a result row echoes (`echoed[i]` being its cell in the
    /// i-th column sent), taken off the waiting list; None if none waits.
    pub(crate) fn take(&mut self, echoed: &[&str]) -> Option<usize> {
        let k = key(echoed.iter().copied());
        let from = self.keys.partition_point(|&(h, _)| h < k);
        // Equal keys are checked cell by cell.
        let i = self.keys[from..]
            .iter()
            .take_while(|&&(h, _)| h == k)
            .map(|&(_, i)| i)
            .find(|&i| {
                !self.taken[i]
                    && cells(&self.batch[i].1, self.columns)
                        .zip(echoed)
                        .all(|(c, e)| c == *e)
            })?;
        self.taken[i] = true;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(line: u64, v: Value) -> (Row, Record) {
        (
            Row {
                line,
                cells: vec![],
            },
            v.as_object().unwrap().clone(),
        )
    }

    #[test]
    fn rows_are_found_by_the_cells_they_echo_whatever_the_order() {
        let batch = vec![
            row(2, json!({"LastName": "Ann", "Email": null})),
            row(3, json!({"LastName": "Bo", "Account": {"Ext__c": "A-1"}})),
            row(4, json!({"LastName": "Ann", "Email": null})),
            // Fields in another order than the columns.
            row(
                5,
                json!({"Account": {"Ext__c": "A-2"}, "Email": "c@x.io", "LastName": "Cy"}),
            ),
        ];
        let columns = vec![
            "LastName".to_string(),
            "Email".to_string(),
            "Account.Ext__c".to_string(),
        ];
        let (csv, keys) = write(&columns, &batch).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(
            csv,
            "LastName,Email,Account.Ext__c\nAnn,#N/A,\nBo,,A-1\nAnn,#N/A,\nCy,c@x.io,A-2\n"
        );
        let mut m = Matcher::new(&columns, &batch);
        let mut from_write = Matcher::with_keys(&columns, &batch, keys);
        assert_eq!(m.keys, from_write.keys, "write makes the keys new does");
        assert_eq!(from_write.take(&["Bo", "", "A-1"]), Some(1));
        assert_eq!(m.take(&["Cy", "c@x.io", "A-2"]), Some(3));
        assert_eq!(m.take(&["Bo", "", "A-1"]), Some(1));
        assert_eq!(m.take(&["Ann", "#N/A", ""]), Some(0));
        assert_eq!(m.take(&["Ann", "#N/A", ""]), Some(2));
        assert_eq!(m.take(&["Ann", "#N/A", ""]), None, "each row answers once");
        assert_eq!(m.take(&["Zed", "", ""]), None);
    }
}
