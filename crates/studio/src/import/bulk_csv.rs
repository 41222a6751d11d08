//! A batch as the CSV of one Bulk API 2.0 job, and the job's result rows
//! matched back to the rows sent. Results come back in no set order and
//! echo the cells sent, so a row is found by its cells (rows with the same
//! cells are interchangeable), never by position: by a 128-bit key of its
//! cells, so no copy of the cells is kept while the job runs.

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

/// A row's key for the `Matcher`: 128 bits of its cells, from two hashes
/// with seeds of their own. Rows with the same cells share a key and are
/// interchangeable; rows with other cells never share one in practice (a
/// job holds at most thousands of rows against 2^128 keys).
pub(crate) type Key = u128;

pub(crate) struct KeyHasher(
    foldhash::fast::FoldHasher<'static>,
    foldhash::fast::FoldHasher<'static>,
);

impl KeyHasher {
    pub(crate) fn new() -> KeyHasher {
        static SEEDS: [foldhash::fast::FixedState; 2] = [
            foldhash::fast::FixedState::with_seed(0x5ca1_ab1e_0dd5_eed1),
            foldhash::fast::FixedState::with_seed(0x0b57_ac1e_c0ff_ee42),
        ];
        KeyHasher(SEEDS[0].build_hasher(), SEEDS[1].build_hasher())
    }

    pub(crate) fn cell(&mut self, c: &str) {
        c.hash(&mut self.0);
        c.hash(&mut self.1);
    }

    pub(crate) fn finish(&self) -> Key {
        (u128::from(self.0.finish()) << 64) | u128::from(self.1.finish())
    }
}

/// The batch's CSV (the header, then a line per row), and each row's
/// key for the `Matcher`, made in the same pass over the cells.
pub(crate) fn write(
    columns: &[String],
    batch: &[(Row, Record)],
) -> Result<(Vec<u8>, Vec<Key>), String> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(batch.len() * 64));
    w.write_record(columns).map_err(|e| e.to_string())?;
    let mut keys = Vec::with_capacity(batch.len());
    for (_, record) in batch {
        let mut h = KeyHasher::new();
        for c in cells(record, columns) {
            h.cell(&c);
            w.write_field(c.as_bytes()).map_err(|e| e.to_string())?;
        }
        keys.push(h.finish());
        w.write_record(None::<&[u8]>).map_err(|e| e.to_string())?;
    }
    Ok((w.into_inner().map_err(|e| e.to_string())?, keys))
}

/// Each row's key, as `write` makes them (for a job sent by a run
/// before, whose CSV is not at hand).
pub(crate) fn keys(columns: &[String], batch: &[(Row, Record)]) -> Vec<Key> {
    batch
        .iter()
        .map(|(_, record)| {
            let mut h = KeyHasher::new();
            cells(record, columns).for_each(|c| h.cell(&c));
            h.finish()
        })
        .collect()
}

/// The rows of a job not yet matched to a result, by their keys.
pub(crate) struct Matcher {
    /// Row i's key.
    by_row: Vec<Key>,
    /// Each row's key and index, sorted by key.
    sorted: Vec<(Key, u32)>,
    taken: Vec<bool>,
    /// The row after the one matched last: results mostly come back in
    /// the order sent, and that row is tried first.
    next: usize,
}

impl Matcher {
    /// The matcher of a job's rows (`keys[i]` row i's).
    pub(crate) fn new(keys: Vec<Key>) -> Matcher {
        let mut sorted: Vec<(Key, u32)> = keys.iter().copied().zip(0..).collect();
        sorted.sort_unstable();
        Matcher {
            taken: vec![false; keys.len()],
            by_row: keys,
            sorted,
            next: 0,
        }
    }

    /// The row a result row echoes (`echoed[i]` being its cell in the
    /// i-th column sent), taken off the waiting list; None if none waits.
    pub(crate) fn take<'e>(&mut self, echoed: impl Iterator<Item = &'e str>) -> Option<usize> {
        let mut h = KeyHasher::new();
        echoed.for_each(|c| h.cell(c));
        let k = h.finish();
        let i = if self.by_row.get(self.next) == Some(&k) && !self.taken[self.next] {
            self.next
        } else {
            let from = self.sorted.partition_point(|&(h, _)| h < k);
            self.sorted[from..]
                .iter()
                .take_while(|&&(h, _)| h == k)
                .map(|&(_, i)| i as usize)
                .find(|&i| !self.taken[i])?
        };
        self.taken[i] = true;
        self.next = i + 1;
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
        let (csv, written) = write(&columns, &batch).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(
            csv,
            "LastName,Email,Account.Ext__c\nAnn,#N/A,\nBo,,A-1\nAnn,#N/A,\nCy,c@x.io,A-2\n"
        );
        assert_eq!(
            written,
            keys(&columns, &batch),
            "write makes the keys keys does"
        );
        let mut m = Matcher::new(written);
        let take = |m: &mut Matcher, cells: [&str; 3]| m.take(cells.into_iter());
        assert_eq!(take(&mut m, ["Cy", "c@x.io", "A-2"]), Some(3));
        assert_eq!(take(&mut m, ["Bo", "", "A-1"]), Some(1));
        assert_eq!(
            take(&mut m, ["Ann", "#N/A", ""]),
            Some(2),
            "the row after the last matched first"
        );
        assert_eq!(take(&mut m, ["Ann", "#N/A", ""]), Some(0));
        assert_eq!(
            take(&mut m, ["Ann", "#N/A", ""]),
            None,
            "each row answers once"
        );
        assert_eq!(take(&mut m, ["Zed", "", ""]), None);
        assert_eq!(
            take(&mut m, ["Bo", "", "A-1\u{0}"]),
            None,
            "cells, not their concatenation"
        );
    }
}
