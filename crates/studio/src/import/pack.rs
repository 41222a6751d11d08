//! A Bulk insert's rows packed as the reader thread reads them: each row
//! straight to the bytes its job sends (its line of the job's CSV, and its
//! key for matching the results) and the bytes it settles into (`Sent`),
//! with no JSON record made and freed on the way. The rows of a million-row
//! import then cost a few hundred bytes each from the moment they are read,
//! and jobs can be larger within the same memory.
//!
//! Only a first run of a Bulk insert packs its rows (`Packer::new` says
//! which plans); every other run takes records (`Plan::record`). Both make
//! the same bytes, as the tests here check.

use super::bulk_csv::{Key, KeyHasher};
use super::plan::{Operation, Plan, Target, Val, Values};
use super::settle::{self, Sent};
use super::source::Row;
use super::undo;
use crate::error::Result;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// Packs rows for a plan's Bulk insert jobs.
pub(crate) struct Packer {
    plan: Arc<Plan>,
    /// The input columns the result files write back.
    keep: Arc<[usize]>,
    /// The job's columns, each a field or a lookup's relationship and its
    /// parent's field: every value a row can set, in the order rows set
    /// them. A value a row leaves unset is an empty cell.
    columns: Vec<(String, Option<String>)>,
}

/// Rows packed, in the order read.
#[derive(Default)]
pub(crate) struct Packed {
    /// Each row's result-file prefix and after image (see `settle::Sent`).
    pub sent: Sent,
    /// Each row's line of the job's CSV, the header left out.
    pub csv: Vec<u8>,
    /// Each row's key, as the results are matched by (`bulk_csv::Matcher`).
    pub keys: Vec<Key>,
}

impl Packed {
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn lines(&self) -> &[u64] {
        &self.sent.lines
    }

    /// Room for `rows` rows the size of `like`'s, made at once: a job's
    /// rows come in chunks, and growing by doubling leaves the smaller
    /// copies behind in the allocator's pages (about 4 MB of peak at
    /// 10,000-row jobs).
    pub(crate) fn reserve_like(&mut self, like: &Packed, rows: usize) {
        let per_row = |bytes: usize| bytes.div_ceil(like.len().max(1)) * rows;
        self.sent.bytes.reserve(per_row(like.sent.bytes.len()));
        self.sent.lines.reserve(rows);
        self.sent.ends.reserve(rows);
        self.csv.reserve(per_row(like.csv.len()));
        self.keys.reserve(rows);
    }

    pub(crate) fn append(&mut self, other: Packed) {
        self.sent.append(other.sent);
        self.csv.extend_from_slice(&other.csv);
        self.keys.extend_from_slice(&other.keys);
    }
}

/// One row's values, each with its column. `Plan::new` lets each field be
/// set once, and `Plan::values` hands them over in the order of the plan's
/// columns then constants, the order of the packer's columns: so each
/// value's column is the one after the last, and the values stay in
/// column order.
struct RowValues<'a> {
    columns: &'a [(String, Option<String>)],
    set: Vec<(usize, &'a str, Val<'a>)>,
    /// A value out of that order, or with no column (never, with the
    /// columns `Packer::new` makes): the row is refused rather than sent
    /// without it.
    unplaced: Option<&'a str>,
}

impl<'a> Values<'a> for RowValues<'a> {
    fn set(&mut self, name: &'a str, value: Val<'a>) {
        let parent = match &value {
            Val::Parent(field, _) => Some(*field),
            _ => None,
        };
        let from = self.set.last().map_or(0, |(c, _, _)| c + 1);
        let Some(column) = self.columns[from..]
            .iter()
            .position(|(n, p)| n == name && p.as_deref() == parent)
        else {
            self.unplaced = Some(name);
            return;
        };
        self.set.push((from + column, name, value));
    }

    fn has(&self, name: &str) -> bool {
        self.set.iter().any(|(_, n, _)| *n == name)
    }
}

/// A value as a Bulk API 2.0 CSV cell (`#N/A` blanks a field).
fn cell<'v>(v: &'v Val<'_>) -> Cow<'v, str> {
    match v {
        Val::Text(t) => Cow::Borrowed(t),
        Val::Json(Value::Null) => Cow::Borrowed("#N/A"),
        Val::Json(Value::String(s)) => Cow::Borrowed(s),
        Val::Json(other) => Cow::Owned(other.to_string()),
        Val::Parent(_, value) => Cow::Borrowed(value),
    }
}

impl Packer {
    /// The packer of a plan's inserts; None for any other operation.
    pub(crate) fn new(plan: Arc<Plan>, keep: Arc<[usize]>) -> Option<Packer> {
        if plan.operation != Operation::Insert {
            return None;
        }
        let fields = plan.columns.iter().filter_map(|c| match &c.target {
            Target::Field(i) => Some((plan.fields[*i].name.clone(), None)),
            Target::Lookup {
                relationship,
                parent_field,
                ..
            } => Some((relationship.clone(), Some(parent_field.clone()))),
            Target::Skip => None,
        });
        let constants = plan
            .constants
            .iter()
            .map(|(i, _)| (plan.fields[*i].name.clone(), None));
        // Each field once: Plan::new refuses a field set twice.
        let columns = fields.chain(constants).collect();
        Some(Packer {
            plan,
            keep,
            columns,
        })
    }

    /// The job's columns, as its CSV header names them.
    pub(crate) fn columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|(name, parent)| match parent {
                Some(p) => format!("{name}.{p}"),
                None => name.clone(),
            })
            .collect()
    }

    /// A job's CSV: the header, then the rows' lines.
    pub(crate) fn csv(&self, rows: &Packed) -> Vec<u8> {
        let mut out = Vec::with_capacity(rows.csv.len() + 64);
        for (i, name) in self.columns().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            settle::field(&mut out, name.as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(&rows.csv);
        out
    }

    /// Packs one row, or answers why it cannot be sent (as
    /// `Plan::record` does).
    pub(crate) fn pack(&self, row: &Row, into: &mut Packed) -> std::result::Result<(), String> {
        let mut values = RowValues {
            columns: &self.columns,
            set: Vec::with_capacity(self.columns.len()),
            unplaced: None,
        };
        self.plan.values(&row.cells, &mut values)?;
        if let Some(name) = values.unplaced {
            return Err(format!(
                "{name} has no place in the Bulk job's columns (a bug in Sync Studio; nothing was sent for this row)"
            ));
        }
        let start = (into.sent.bytes.len(), into.csv.len());
        self.write(row, &values.set, into).map_err(|e| {
            into.sent.bytes.truncate(start.0);
            into.csv.truncate(start.1);
            e.to_string()
        })
    }

    fn write(&self, row: &Row, set: &[(usize, &str, Val<'_>)], into: &mut Packed) -> Result<()> {
        let bytes = &mut into.sent.bytes;
        settle::prefix(bytes, &self.keep, &row.cells, row.line);
        let prefix = bytes.len();
        undo::after_image(bytes, set.iter().map(|(_, name, v)| (*name, v)))?;
        let after = bytes.len();
        let mut key = KeyHasher::new();
        // The values are in column order (see RowValues).
        let mut values = set.iter().peekable();
        for column in 0..self.columns.len() {
            let text = values
                .next_if(|(c, _, _)| *c == column)
                .map(|(_, _, v)| cell(v))
                .unwrap_or_default();
            key.cell(&text);
            if column > 0 {
                into.csv.push(b',');
            }
            if text.is_empty() && self.columns.len() == 1 {
                // A record of one empty field is written quoted, or it
                // would read as a blank line.
                into.csv.extend_from_slice(b"\"\"");
            } else {
                settle::field(&mut into.csv, text.as_bytes());
            }
        }
        into.csv.push(b'\n');
        into.keys.push(key.finish());
        into.sent.lines.push(row.line);
        into.sent.ends.push([prefix, after, after]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::lookup::Existing;
    use crate::import::{bulk_csv, plan};

    #[test]
    fn packed_rows_are_the_bytes_their_records_make() {
        let header = [
            "Account Name",
            "Employees",
            "Industry",
            "Founded",
            "Parent",
            "Notes, plain",
            "sf__Note",
        ];
        let map = plan::MapFile {
            columns: [
                ("Parent".to_string(), Some("Parent.ERP_Id__c".to_string())),
                ("Notes, plain".to_string(), None),
            ]
            .into(),
            constants: [("ERP_Id__c".to_string(), "K-1".to_string())].into(),
        };
        let plan =
            Arc::new(plan::tests::plan(Operation::Insert, &header, map, None).expect("plan"));
        let keep: Arc<[usize]> = Arc::from(vec![0, 1, 2, 3, 4, 5]);
        let rows = [
            ["Acme", "1,200", "technology", "03/02/2001", "ERP-1", "x"],
            ["O\"Brien, J", "", "", "", "", "a\nb"],
            ["Café", "7", "", "31/12/1999", "ERP,2", ""],
            // Refused: no name, not a number, not a date.
            ["", "x", "", "31/13/1999", "", ""],
        ];
        let packer = Packer::new(plan.clone(), keep.clone()).expect("an insert packs");
        let mut packed = Packed::default();
        let mut batch = vec![];
        for (n, cells) in rows.iter().enumerate() {
            let row = Row {
                line: n as u64 + 2,
                cells: cells
                    .iter()
                    .map(|c| c.to_string())
                    .chain(["note".to_string()])
                    .collect(),
            };
            let record = plan.record(&row.cells);
            assert_eq!(
                packer.pack(&row, &mut packed).err(),
                record.as_ref().err().cloned(),
                "row {n} is refused alike"
            );
            if let Ok(record) = record {
                batch.push((row, record));
            }
        }
        assert_eq!((packed.len(), batch.len()), (3, 3));
        assert_eq!(packed.lines(), [2, 3, 4]);

        // The job's CSV and keys, as from the records over the same columns.
        let columns = packer.columns();
        assert_eq!(
            columns,
            [
                "Name",
                "NumberOfEmployees",
                "Industry",
                "Founded__c",
                "Parent.ERP_Id__c",
                "ERP_Id__c"
            ]
        );
        let (csv, keys) = bulk_csv::write(&columns, &batch).expect("csv");
        assert_eq!(
            String::from_utf8(packer.csv(&packed)).unwrap(),
            String::from_utf8(csv).unwrap()
        );
        assert_eq!(packed.keys, keys);

        // What the rows settle into, as from their records.
        let none = vec![Existing::None; batch.len()];
        let sent = Sent::new(&plan, &keep, batch, none).expect("sent");
        for i in 0..3 {
            let (a, b) = (packed.sent.ready(i), sent.ready(i));
            assert_eq!(
                (a.line, a.prefix, a.after, a.before),
                (b.line, b.prefix, b.after, b.before),
                "row {i}"
            );
        }
    }
}
