//! Rows settled into bytes: each row's line in the result files, its
//! entry in the undo journal, and the run's counts. A Bulk job's rows wait
//! for their results in a compact form made of those bytes (`Sent`: a few
//! hundred bytes a row, where a record and its cells took several times
//! that), and are settled on the job's own task, so the run's thread only
//! appends what they became to the files.

use super::lookup::Existing;
use super::plan::{Operation, Plan};
use super::source::Row;
use super::{RowOutcome, record_errors, undo};
use crate::error::Result;
use serde_json::{Map, Value};

/// Appends `cell` as a result file writes it: quoted when it holds a
/// comma, a quote or a line break, as the csv crate's writer quotes.
pub(crate) fn field(out: &mut Vec<u8>, cell: &[u8]) {
    if cell
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.push(b'"');
        for &b in cell {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(cell);
    }
}

/// Appends what every result file starts a row with: the input row's
/// cells (those in `keep`, padded with empty ones when the row is short),
/// then its line, each followed by a comma.
pub(crate) fn prefix(out: &mut Vec<u8>, keep: &[usize], cells: &[String], line: u64) {
    for &i in keep {
        field(out, cells.get(i).map(String::as_bytes).unwrap_or_default());
        out.push(b',');
    }
    out.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
    out.push(b',');
}

/// Rows settled: what they add to each file, and to the run's counts.
#[derive(Default)]
pub(crate) struct Settled {
    pub success: Vec<u8>,
    pub error: Vec<u8>,
    pub unknown: Vec<u8>,
    pub journal: Vec<u8>,
    pub succeeded: u64,
    pub failed: u64,
    pub unknown_rows: u64,
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
}

/// One row as `Settled::row` takes it.
pub(crate) struct Ready<'a> {
    pub line: u64,
    /// See `prefix`.
    pub prefix: &'a [u8],
    /// See `undo::images` (empty when not made).
    pub after: &'a [u8],
    pub before: &'a [u8],
}

impl Settled {
    /// Settles one row: written to the success, error or unknown file,
    /// and to the journal when it wrote a record (`journal` false on a dry
    /// run).
    pub(crate) fn row(
        &mut self,
        operation: Operation,
        journal: bool,
        row: Ready<'_>,
        answer: RowOutcome,
    ) -> Result<()> {
        let r = match answer {
            RowOutcome::Done(r) => r,
            RowOutcome::Unknown(why) => {
                self.unknown_rows += 1;
                with_reason(&mut self.unknown, row.prefix, &why);
                return Ok(());
            }
        };
        if !r.success {
            self.failed += 1;
            with_reason(&mut self.error, row.prefix, &record_errors(&r));
            return Ok(());
        }
        self.succeeded += 1;
        let created = r.created.unwrap_or(operation == Operation::Insert);
        match operation {
            Operation::Delete | Operation::HardDelete => self.deleted += 1,
            _ if created => self.created += 1,
            _ => self.updated += 1,
        }
        let id = r.id.as_deref().unwrap_or_default();
        self.success.extend_from_slice(row.prefix);
        field(&mut self.success, id.as_bytes());
        self.success
            .extend_from_slice(if created { b",true\n" } else { b",false\n" });
        if journal {
            undo::entry(
                &mut self.journal,
                operation,
                created,
                row.line,
                id,
                row.after,
                row.before,
            )?;
        }
        Ok(())
    }
}

impl Settled {
    /// A row refused before it was sent: to the error file, with why.
    pub(crate) fn refused(&mut self, row: Ready<'_>, why: &str) {
        self.failed += 1;
        with_reason(&mut self.error, row.prefix, why);
    }
}

/// A row's line in the error or unknown file: its prefix, then why.
fn with_reason(out: &mut Vec<u8>, prefix: &[u8], why: &str) {
    out.extend_from_slice(prefix);
    field(out, why.as_bytes());
    out.push(b'\n');
}

/// Whether Salesforce left the row unwritten for a lock held elsewhere.
pub(crate) fn locked(answer: &RowOutcome) -> bool {
    matches!(answer, RowOutcome::Done(r) if r.errors.iter().any(|e| e.code == "UNABLE_TO_LOCK_ROW"))
}

/// A Bulk job's rows while it runs, each as `Ready` holds it.
#[derive(Default)]
pub(crate) struct Sent {
    pub(super) lines: Vec<u64>,
    pub(super) bytes: Vec<u8>,
    /// Where each row's prefix, after and before end in `bytes`.
    pub(super) ends: Vec<[usize; 3]>,
}

impl Sent {
    /// The batch made compact (and dropped): `keep` as the result files
    /// have it, `before` what each row replaces.
    pub(crate) fn new(
        plan: &Plan,
        keep: &[usize],
        batch: Vec<(Row, Map<String, Value>)>,
        before: Vec<Existing>,
    ) -> Result<Sent> {
        let mut sent = Sent {
            lines: Vec::with_capacity(batch.len()),
            bytes: Vec::with_capacity(batch.len() * 160),
            ends: Vec::with_capacity(batch.len()),
        };
        let mut before = before.into_iter();
        for (row, record) in batch {
            let found = before.next().unwrap_or(Existing::None);
            prefix(&mut sent.bytes, keep, &row.cells, row.line);
            let p = sent.bytes.len();
            let (a, b) = undo::images(plan, &record, &found, &mut sent.bytes)?;
            sent.lines.push(row.line);
            sent.ends.push([p, p + a, p + a + b]);
        }
        Ok(sent)
    }

    /// Appends `other`'s rows after these.
    pub(crate) fn append(&mut self, other: Sent) {
        let shift = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.lines.extend_from_slice(&other.lines);
        self.ends
            .extend(other.ends.iter().map(|e| e.map(|end| end + shift)));
    }

    pub(crate) fn ready(&self, i: usize) -> Ready<'_> {
        let start = i.checked_sub(1).map_or(0, |j| self.ends[j][2]);
        let [p, a, b] = self.ends[i];
        Ready {
            line: self.lines[i],
            prefix: &self.bytes[start..p],
            after: &self.bytes[p..a],
            before: &self.bytes[a..b],
        }
    }

    /// Row `i` as it was read, to send again: its cells from its prefix
    /// (the columns the result files leave out empty), its record made
    /// again by the plan.
    pub(crate) fn again(
        &self,
        i: usize,
        plan: &Plan,
        keep: &[usize],
        width: usize,
    ) -> std::result::Result<(Row, Map<String, Value>), String> {
        let ready = self.ready(i);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(ready.prefix);
        let mut read = csv::StringRecord::new();
        if !reader.read_record(&mut read).map_err(|e| e.to_string())? {
            return Err("the row could not be read back to be sent again".into());
        }
        let mut cells = vec![String::new(); width];
        for (&at, cell) in keep.iter().zip(read.iter()) {
            cells[at] = cell.to_string();
        }
        let record = plan.record(&cells)?;
        Ok((
            Row {
                line: ready.line,
                cells,
            },
            record,
        ))
    }

    /// Settles every row Salesforce answered, but for those it left
    /// unwritten for a row lock: answered as (row, answer) to try again.
    pub(crate) fn settle(
        &self,
        operation: Operation,
        journal: bool,
        answers: Vec<RowOutcome>,
    ) -> Result<(Settled, Vec<(usize, RowOutcome)>)> {
        let mut settled = Settled {
            success: Vec::with_capacity(self.bytes.len() / 2),
            journal: Vec::with_capacity(if journal { self.bytes.len() } else { 0 }),
            ..Settled::default()
        };
        let mut held = vec![];
        for (i, answer) in answers.into_iter().enumerate() {
            if locked(&answer) {
                held.push((i, answer));
                continue;
            }
            settled.row(operation, journal, self.ready(i), answer)?;
        }
        Ok((settled, held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_as_the_csv_writer_quotes_them() {
        let cells = [
            "plain",
            "",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "cr\rhere",
            " padded ",
            "#hash",
            "Café ünïcode",
            "'single'",
            "tab\there",
            ";semi",
        ];
        let mut ours = vec![];
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                ours.push(b',');
            }
            field(&mut ours, c.as_bytes());
        }
        ours.push(b'\n');
        let mut w = csv::WriterBuilder::new().from_writer(vec![]);
        w.write_record(cells).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(w.into_inner().unwrap()).unwrap()
        );
    }

    fn done(id: &str, created: bool) -> RowOutcome {
        RowOutcome::Done(salesforce::RecordResult {
            id: Some(id.into()),
            success: true,
            created: Some(created),
            errors: vec![],
        })
    }

    fn failed(code: &str) -> RowOutcome {
        RowOutcome::Done(salesforce::RecordResult {
            id: None,
            success: false,
            created: None,
            errors: vec![salesforce::RecordError {
                code: code.into(),
                message: "it says why".into(),
                fields: vec!["Name".into()],
            }],
        })
    }

    #[test]
    fn a_jobs_rows_settle_to_the_lines_and_entries_their_records_make() {
        use crate::import::plan::{MapFile, tests::plan};
        use serde_json::json;
        // A retried error file: its own sf__ columns are not written back.
        let header = [
            "sf__Row",
            "Name",
            "NumberOfEmployees",
            "ERP_Id__c",
            "sf__Error",
        ];
        let plan = plan(
            Operation::Upsert,
            &header,
            MapFile::default(),
            Some("ERP_Id__c"),
        )
        .unwrap();
        let keep = [1, 2, 3];
        let cells = |name: &str, n: &str, erp: &str| -> Vec<String> {
            ["7", name, n, erp, "old error"]
                .map(str::to_string)
                .to_vec()
        };
        let rows = [
            cells("Acme, Inc", "10", "E-1"),
            cells("Say \"hi\"", "", "E-2"),
            cells("Bad", "3", "E-3"),
            cells("Lost", "4", "E-4"),
            cells("Locked\nout", "5", "E-5"),
        ];
        let batch: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let row = Row {
                    line: 10 + i as u64,
                    cells: c.clone(),
                };
                (row, plan.record(c).unwrap())
            })
            .collect();
        let old = json!({"Name": "Old name", "NumberOfEmployees": 2, "ERP_Id__c": "E-2"});
        let mut before = vec![Existing::None; 5];
        before[1] = Existing::Found {
            id: "001B".into(),
            record: old.as_object().unwrap().clone(),
        };
        let sent = Sent::new(&plan, &keep, batch, before).unwrap();
        let answers = vec![
            done("001A", true),
            done("001B", false),
            failed("REQUIRED_FIELD_MISSING"),
            RowOutcome::Unknown("nobody said".into()),
            failed("UNABLE_TO_LOCK_ROW"),
        ];
        let (settled, held) = sent.settle(Operation::Upsert, true, answers).unwrap();
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        assert_eq!(
            text(&settled.success),
            "\"Acme, Inc\",10,E-1,10,001A,true\n\"Say \"\"hi\"\"\",,E-2,11,001B,false\n"
        );
        assert_eq!(
            text(&settled.error),
            "Bad,3,E-3,12,REQUIRED_FIELD_MISSING: it says why [Name]\n"
        );
        assert_eq!(text(&settled.unknown), "Lost,4,E-4,13,nobody said\n");
        assert_eq!(
            (
                settled.succeeded,
                settled.created,
                settled.updated,
                settled.failed,
                settled.unknown_rows
            ),
            (2, 1, 1, 1, 1)
        );
        let entries: Vec<Value> = text(&settled.journal)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            entries,
            vec![
                json!({"line": 10, "id": "001A", "did": "created",
                       "after": {"Name": "Acme, Inc", "NumberOfEmployees": 10, "ERP_Id__c": "E-1"}, "before": {}}),
                json!({"line": 11, "id": "001B", "did": "updated",
                       "after": {"Name": "Say \"hi\"", "ERP_Id__c": "E-2"},
                       "before": {"Name": "Old name"}}),
            ]
        );
        // The locked row goes again as it was read, but for the columns
        // the result files leave out.
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].0, 4);
        let (row, record) = sent.again(4, &plan, &keep, header.len()).unwrap();
        assert_eq!(row.line, 14);
        assert_eq!(row.cells, ["", "Locked\nout", "5", "E-5", ""]);
        assert_eq!(record, plan.record(&rows[4]).unwrap());
    }
}
