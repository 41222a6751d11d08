//! Lookups by unique and external id fields, kept as records change, and
//! the journal a transaction rolls back from.

use super::*;

impl Org {
    pub(super) fn journal(&mut self, obj: usize, num: u64) {
        if let Some(j) = self.journal.as_mut() {
            let previous = self.tables[obj].get(num).cloned();
            j.push(Undo { obj, num, previous });
        }
    }

    // ---- unique / external id index -----------------------------------

    pub(super) fn indexed_fields(def: &ObjectDef) -> impl Iterator<Item = usize> + '_ {
        def.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.unique || f.external_id)
            .map(|(i, _)| i)
    }

    pub(super) fn index(&mut self, obj: usize, num: u64) {
        let fields: Vec<usize> = Self::indexed_fields(&self.schema.objects[obj]).collect();
        let table = &mut self.tables[obj];
        let Some(rec) = table.get(num) else { return };
        if rec.deleted_at.is_some() {
            return;
        }
        let keys: Vec<(u16, String)> = fields
            .iter()
            .filter_map(|&fi| index_key(rec.get(fi)).map(|k| (fi as u16, k)))
            .collect();
        for (fi, key) in keys {
            table
                .index
                .entry(fi)
                .or_default()
                .entry(key)
                .or_default()
                .push(num);
        }
    }

    pub(super) fn unindex(&mut self, obj: usize, num: u64) {
        let fields: Vec<usize> = Self::indexed_fields(&self.schema.objects[obj]).collect();
        let table = &mut self.tables[obj];
        let Some(rec) = table.get(num) else { return };
        let keys: Vec<(u16, String)> = fields
            .iter()
            .filter_map(|&fi| index_key(rec.get(fi)).map(|k| (fi as u16, k)))
            .collect();
        for (fi, key) in keys {
            if let Some(m) = table.index.get_mut(&fi)
                && let Some(v) = m.get_mut(&key)
            {
                v.retain(|n| *n != num);
                if v.is_empty() {
                    m.remove(&key);
                }
            }
        }
    }

    pub fn reindex_all(&mut self) {
        for obj in 0..self.tables.len() {
            self.tables[obj].index.clear();
            for num in 1..=self.tables[obj].slots.len() as u64 {
                self.index(obj, num);
            }
        }
    }

    /// Live records whose field `fi` equals `value` (case-insensitive).
    pub fn find_by_field(&self, obj: usize, fi: usize, value: &str) -> Vec<u64> {
        let key = value.to_lowercase();
        if let Some(m) = self.tables[obj].index.get(&(fi as u16)) {
            return m.get(&key).cloned().unwrap_or_default();
        }
        self.tables[obj]
            .slots
            .iter()
            .flatten()
            .filter(|r| {
                r.deleted_at.is_none() && index_key(r.get(fi)).as_deref() == Some(key.as_str())
            })
            .map(|r| r.num)
            .collect()
    }
}

pub(crate) fn index_key(v: &Val) -> Option<String> {
    match v {
        Val::Str(s) => Some(s.to_lowercase()),
        Val::Num(n) => Some(n.to_string()),
        _ => None,
    }
}
