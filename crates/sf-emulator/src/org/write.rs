//! Insert, update, delete, hard delete and undelete, with the checks
//! Salesforce makes (required, unique, lock-row faults) and derived fields.

use super::*;

impl Org {
    /// Consumes one per-record UNABLE_TO_LOCK_ROW fault if one applies.
    pub fn lock_row_fault(&mut self, obj: usize) -> Option<RecordError> {
        let name = self.def(obj).name.clone();
        let fault = self.lock_row.as_mut()?;
        if fault
            .object
            .as_ref()
            .is_some_and(|o| !o.eq_ignore_ascii_case(&name))
        {
            return None;
        }
        if fault.times == Some(0) || rand::random::<f64>() >= fault.probability {
            return None;
        }
        if let Some(t) = fault.times.as_mut() {
            *t -= 1;
        }
        Some(RecordError::new(
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record or 1 records: ".to_string()
                + &make_id(&self.def(obj).key_prefix, 1),
        ))
    }

    pub fn insert(
        &mut self,
        obj: usize,
        values: Vec<(usize, Val)>,
        user: u64,
    ) -> Result<String, RecordError> {
        let now = self.now();
        let num = self.tables[obj].slots.len() as u64 + 1;
        let mut rec = Record {
            num,
            created: now,
            modstamp: now,
            last_modified: now,
            created_by: user,
            last_modified_by: user,
            visible_at: now + self.settings.visibility_delay_ms,
            open_since: Some(now),
            deleted_at: None,
            fields: Vec::with_capacity(values.len() + 2),
        };
        for (fi, v) in values {
            rec.set(fi, v);
        }
        let def = &self.schema.objects[obj];
        for (fi, f) in def.fields.iter().enumerate() {
            if f.sys.is_some() || !rec.get(fi).is_null() {
                continue;
            }
            if let Some(d) = &f.default {
                rec.set(fi, d.clone());
            } else if f.name == "OwnerId" {
                rec.set(fi, Val::str(make_id("005", user)));
            } else if let Some(fmt) = &f.auto_number {
                let n = self.tables[obj].auto_number + fmt.parse::<u64>().unwrap_or(0);
                self.tables[obj].auto_number += 1;
                rec.set(fi, Val::str(format!("{n:0width$}", width = fmt.len())));
            }
        }
        self.derive_fields(obj, &mut rec);
        self.check_required(obj, &rec)?;
        self.check_unique(obj, &rec, None)?;
        self.journal(obj, num);
        self.tables[obj].slots.push(Some(rec));
        self.index(obj, num);
        Ok(make_id(&self.def(obj).key_prefix, num))
    }

    pub fn update(
        &mut self,
        obj: usize,
        num: u64,
        values: Vec<(usize, Val)>,
        user: u64,
    ) -> Result<(), RecordError> {
        let now = self.now();
        let mut rec = match self.tables[obj].get(num) {
            None => {
                return Err(RecordError::new(
                    "NOT_FOUND",
                    "The requested resource does not exist",
                ));
            }
            Some(r) if r.deleted_at.is_some() => {
                return Err(RecordError::new("ENTITY_IS_DELETED", "entity is deleted"));
            }
            Some(r) => r.clone(),
        };
        for (fi, v) in values {
            rec.set(fi, v);
        }
        if rec.visible_at <= now || rec.open_since.is_none() {
            rec.open_since = Some(now);
        }
        rec.modstamp = now;
        rec.last_modified = now;
        rec.last_modified_by = user;
        rec.visible_at = now + self.settings.visibility_delay_ms;
        self.derive_fields(obj, &mut rec);
        self.check_required(obj, &rec)?;
        self.check_unique(obj, &rec, Some(num))?;
        self.journal(obj, num);
        self.unindex(obj, num);
        self.tables[obj].slots[(num - 1) as usize] = Some(rec);
        self.index(obj, num);
        Ok(())
    }

    /// Moves a record to the recycle bin.
    pub fn delete(&mut self, obj: usize, num: u64) -> Result<(), RecordError> {
        let now = self.now();
        match self.tables[obj].get(num) {
            None => {
                return Err(RecordError::new(
                    "NOT_FOUND",
                    "The requested resource does not exist",
                ));
            }
            Some(r) if r.deleted_at.is_some() => {
                return Err(RecordError::new("ENTITY_IS_DELETED", "entity is deleted"));
            }
            Some(_) => {}
        }
        self.journal(obj, num);
        self.unindex(obj, num);
        let rec = self.tables[obj].slots[(num - 1) as usize]
            .as_mut()
            .expect("checked");
        rec.deleted_at = Some(now);
        rec.modstamp = now;
        Ok(())
    }

    /// Deletes for good (Bulk API hardDelete, emptying the recycle bin).
    pub fn hard_delete(&mut self, obj: usize, num: u64) -> Result<(), RecordError> {
        if self.tables[obj].get(num).is_none() {
            return Err(RecordError::new(
                "NOT_FOUND",
                "The requested resource does not exist",
            ));
        }
        self.journal(obj, num);
        self.unindex(obj, num);
        self.tables[obj].slots[(num - 1) as usize] = None;
        Ok(())
    }

    pub fn undelete(&mut self, obj: usize, num: u64) -> Result<(), RecordError> {
        let now = self.now();
        match self.tables[obj].get(num) {
            Some(r) if r.deleted_at.is_some() => {}
            Some(_) => {
                return Err(RecordError::new(
                    "UNDELETE_FAILED",
                    "Entity is not in the recycle bin",
                ));
            }
            None => {
                return Err(RecordError::new(
                    "NOT_FOUND",
                    "The requested resource does not exist",
                ));
            }
        }
        let rec = self.tables[obj].get(num).expect("checked").clone();
        self.check_unique(obj, &rec, Some(num))?;
        self.journal(obj, num);
        let r = self.tables[obj].slots[(num - 1) as usize]
            .as_mut()
            .expect("checked");
        r.deleted_at = None;
        r.modstamp = now;
        self.index(obj, num);
        Ok(())
    }

    /// Formula-like fields Salesforce computes: full names, closed flags.
    pub(super) fn derive_fields(&self, obj: usize, rec: &mut Record) {
        let def = &self.schema.objects[obj];
        let f = |n: &str| def.field(n);
        if let (Some(name), Some(first), Some(last)) = (f("Name"), f("FirstName"), f("LastName"))
            && !def.custom
        {
            let full = [rec.get(first).as_str(), rec.get(last).as_str()]
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            rec.set(
                name,
                if full.is_empty() {
                    Val::Null
                } else {
                    Val::str(full)
                },
            );
        }
        match def.name.as_str() {
            "Opportunity" => {
                let stage = f("StageName")
                    .and_then(|i| rec.get(i).as_str().map(str::to_string))
                    .unwrap_or_default();
                if let (Some(closed), Some(won)) = (f("IsClosed"), f("IsWon")) {
                    rec.set(closed, Val::Bool(stage.starts_with("Closed")));
                    rec.set(won, Val::Bool(stage == "Closed Won"));
                }
            }
            "Case" | "Task" => {
                let status = f("Status")
                    .and_then(|i| rec.get(i).as_str().map(str::to_string))
                    .unwrap_or_default();
                if let Some(closed) = f("IsClosed") {
                    let was_closed = rec.get(closed) == &Val::Bool(true);
                    let is_closed = status == "Closed" || status == "Completed";
                    rec.set(closed, Val::Bool(is_closed));
                    if let Some(cd) = f("ClosedDate") {
                        if is_closed && !was_closed {
                            rec.set(cd, Val::DateTime(rec.modstamp));
                        } else if !is_closed {
                            rec.set(cd, Val::Null);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn check_required(&self, obj: usize, rec: &Record) -> Result<(), RecordError> {
        let def = self.def(obj);
        let missing: Vec<String> = def
            .fields
            .iter()
            .enumerate()
            .filter(|(fi, f)| {
                f.sys.is_none() && !f.nillable && f.createable && rec.get(*fi).is_null()
            })
            .map(|(_, f)| f.name.clone())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(RecordError::new(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{}]", missing.join(", ")),
            )
            .with_fields(missing))
        }
    }

    pub(super) fn check_unique(
        &self,
        obj: usize,
        rec: &Record,
        existing: Option<u64>,
    ) -> Result<(), RecordError> {
        let def = self.def(obj);
        for (fi, f) in def.fields.iter().enumerate() {
            if !f.unique {
                continue;
            }
            let Some(key) = index_key(rec.get(fi)) else {
                continue;
            };
            let others: Vec<u64> = self
                .find_by_field(obj, fi, &key)
                .into_iter()
                .filter(|n| Some(*n) != existing)
                .collect();
            if let Some(other) = others.first() {
                return Err(RecordError::new(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {}",
                        f.name,
                        make_id(&def.key_prefix, *other)
                    ),
                )
                .with_fields(vec![f.name.clone()]));
            }
        }
        Ok(())
    }
}
