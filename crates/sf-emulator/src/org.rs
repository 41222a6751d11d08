//! The org: schema, records, users, sessions, jobs and the knobs tests turn.
//! Every write goes through `Org::insert/update/delete`, which validate the
//! way Salesforce does and journal what they replace so that an allOrNone
//! request can be rolled back.

use crate::ids::{make_id, parse_id};
use crate::schema::{FieldDef, FieldType, ObjectDef, Schema, SysField};
use crate::values::{Val, parse_date, parse_datetime};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub num: u64,
    pub created: i64,
    pub modstamp: i64,
    pub last_modified: i64,
    pub created_by: u64,
    pub last_modified_by: u64,
    /// Queries see the record only from this instant (delayed visibility).
    pub visible_at: i64,
    pub deleted_at: Option<i64>,
    /// Sparse values, sorted by field index.
    pub fields: Vec<(u16, Val)>,
}

static NULL: Val = Val::Null;

impl Record {
    pub fn get(&self, idx: usize) -> &Val {
        match self.fields.binary_search_by_key(&(idx as u16), |(i, _)| *i) {
            Ok(p) => &self.fields[p].1,
            Err(_) => &NULL,
        }
    }
    pub fn set(&mut self, idx: usize, v: Val) {
        match self.fields.binary_search_by_key(&(idx as u16), |(i, _)| *i) {
            Ok(p) => {
                if v.is_null() {
                    self.fields.remove(p);
                } else {
                    self.fields[p].1 = v
                }
            }
            Err(p) => {
                if !v.is_null() {
                    self.fields.insert(p, (idx as u16, v))
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Table {
    /// Slot `num - 1` holds record `num`; hard-deleted records leave None.
    pub slots: Vec<Option<Record>>,
    pub auto_number: u64,
    /// Unique and external-id values (lower-cased) to record numbers.
    #[serde(skip)]
    pub index: HashMap<u16, HashMap<String, Vec<u64>>>,
}

impl Table {
    pub fn get(&self, num: u64) -> Option<&Record> {
        num.checked_sub(1)
            .and_then(|i| self.slots.get(i as usize))
            .and_then(|s| s.as_ref())
    }
    pub fn live_count(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.as_ref().is_some_and(|r| r.deleted_at.is_none()))
            .count()
    }
}

/// One Salesforce error: `errorCode`/`statusCode`, message and fields.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl RecordError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        RecordError {
            code: code.into(),
            message: message.into(),
            fields: vec![],
        }
    }
    pub fn with_fields(mut self, fields: Vec<String>) -> Self {
        self.fields = fields;
        self
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Clock {
    pub offset_ms: i64,
    pub frozen_at: Option<i64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        self.frozen_at
            .unwrap_or_else(|| chrono::Utc::now().timestamp_millis() + self.offset_ms)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user: u64,
    pub client_id: String,
    pub issued_at: i64,
    pub refresh_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub user: u64,
    pub client_id: String,
    pub issued_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthCode {
    pub user: u64,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
}

/// A connected app registered by a seed file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientApp {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub access_token_ttl_secs: i64,
    pub daily_api_limit: u64,
    pub visibility_delay_ms: i64,
    /// Only registered client ids may sign in (a seed turns this on).
    pub restrict_clients: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            access_token_ttl_secs: 7200,
            daily_api_limit: 15_000,
            visibility_delay_ms: 0,
            restrict_clients: false,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiUsage {
    pub used: u64,
    /// The UTC day (days since epoch) the count belongs to.
    pub day: i32,
}

/// Per-record UNABLE_TO_LOCK_ROW in collections and Bulk API jobs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LockRowFault {
    pub object: Option<String>,
    pub probability: f64,
    pub times: Option<u64>,
}

/// A transaction mark from `Org::begin`.
#[must_use]
pub struct Txn {
    mark: usize,
    outer: bool,
}

struct Undo {
    obj: usize,
    num: u64,
    previous: Option<Record>,
}

pub struct Org {
    pub schema: Schema,
    pub tables: Vec<Table>,
    pub clock: Clock,
    pub settings: Settings,
    pub usage: ApiUsage,
    pub sessions: HashMap<String, Session>,
    pub refresh_grants: HashMap<String, RefreshGrant>,
    pub codes: HashMap<String, AuthCode>,
    pub passwords: HashMap<String, String>,
    pub clients: Vec<ClientApp>,
    pub lock_row: Option<LockRowFault>,
    pub bulk: crate::bulk::Jobs,
    pub next_serial: u64,
    journal: Option<Vec<Undo>>,
}

pub const ORG_NUM: u64 = 1;
pub const ADMIN_USER: u64 = 1;
/// The admin every org starts with; the login page offers it.
pub const ADMIN_USERNAME: &str = "admin@playground.syncstudio";
/// The password of the admin and of the demo users.
pub const PLAYGROUND_PASSWORD: &str = "playground";

impl Org {
    pub fn new() -> Org {
        let schema = Schema::standard();
        let tables = schema.objects.iter().map(|_| Table::default()).collect();
        let mut org = Org {
            schema,
            tables,
            clock: Clock::default(),
            settings: Settings::default(),
            usage: ApiUsage::default(),
            sessions: HashMap::new(),
            refresh_grants: HashMap::new(),
            codes: HashMap::new(),
            passwords: HashMap::new(),
            clients: vec![],
            lock_row: None,
            bulk: Default::default(),
            next_serial: 1,
            journal: None,
        };
        org.add_user(
            ADMIN_USERNAME,
            "Ada",
            "Admin",
            PLAYGROUND_PASSWORD,
            "System Administrator",
        )
        .expect("admin user");
        org
    }

    pub fn org_id(&self) -> String {
        make_id("00D", ORG_NUM)
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }

    pub fn object(&self, name: &str) -> Option<usize> {
        self.schema.object(name)
    }

    pub fn def(&self, obj: usize) -> &ObjectDef {
        &self.schema.objects[obj]
    }

    pub fn user_object(&self) -> usize {
        self.schema.object("User").expect("User object")
    }

    pub fn add_user(
        &mut self,
        username: &str,
        first: &str,
        last: &str,
        password: &str,
        title: &str,
    ) -> Result<u64, RecordError> {
        let u = self.user_object();
        let def = self.def(u);
        let f = |n: &str| def.field(n).expect("user field");
        let alias: String = format!("{}{}", &first[..1.min(first.len())], last)
            .chars()
            .take(8)
            .collect();
        let values = vec![
            (f("Username"), Val::str(username)),
            (f("FirstName"), Val::str(first)),
            (f("LastName"), Val::str(last)),
            (f("Alias"), Val::str(alias.to_lowercase())),
            (f("Email"), Val::str(username)),
            (f("Title"), Val::str(title)),
        ];
        let creator = if self.tables[u].slots.is_empty() {
            1
        } else {
            ADMIN_USER
        };
        let id = self.insert(u, values, creator)?;
        self.passwords
            .insert(username.to_ascii_lowercase(), password.to_string());
        Ok(parse_id(&id).expect("own id").num)
    }

    pub fn user_by_username(&self, username: &str) -> Option<u64> {
        let u = self.user_object();
        let fi = self.def(u).field("Username")?;
        self.tables[u]
            .index
            .get(&(fi as u16))?
            .get(&username.to_ascii_lowercase())?
            .first()
            .copied()
    }

    pub fn user_value(&self, user: u64, field: &str) -> String {
        let u = self.user_object();
        let Some(fi) = self.def(u).field(field) else {
            return String::new();
        };
        self.tables[u]
            .get(user)
            .and_then(|r| r.get(fi).as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The value of field `fi` of a record, system fields included.
    pub fn value(&self, obj: usize, rec: &Record, fi: usize) -> Val {
        let def = self.def(obj);
        match def.fields[fi].sys {
            Some(SysField::Id) => Val::str(make_id(&def.key_prefix, rec.num)),
            Some(SysField::IsDeleted) => Val::Bool(rec.deleted_at.is_some()),
            Some(SysField::CreatedDate) => Val::DateTime(rec.created),
            Some(SysField::LastModifiedDate) => Val::DateTime(rec.last_modified),
            Some(SysField::SystemModstamp) => Val::DateTime(rec.modstamp),
            Some(SysField::CreatedById) => Val::str(make_id("005", rec.created_by)),
            Some(SysField::LastModifiedById) => Val::str(make_id("005", rec.last_modified_by)),
            None => rec.get(fi).clone(),
        }
    }

    /// Resolves an id of any object to (object, record number).
    pub fn locate(&self, id: &str) -> Option<(usize, u64)> {
        let p = parse_id(id)?;
        let obj = self.schema.by_prefix(&p.prefix)?;
        self.tables[obj].get(p.num)?;
        Some((obj, p.num))
    }

    pub fn record(&self, obj: usize, num: u64) -> Option<&Record> {
        self.tables[obj].get(num)
    }

    // ---- transactions -------------------------------------------------

    /// Starts a transaction; nested ones roll back to their own mark.
    pub fn begin(&mut self) -> Txn {
        match self.journal.as_ref() {
            Some(j) => Txn {
                mark: j.len(),
                outer: false,
            },
            None => {
                self.journal = Some(Vec::new());
                Txn {
                    mark: 0,
                    outer: true,
                }
            }
        }
    }

    pub fn commit(&mut self, txn: Txn) {
        if txn.outer {
            self.journal = None;
        }
    }

    pub fn rollback(&mut self, txn: Txn) {
        let Some(journal) = self.journal.as_mut() else {
            return;
        };
        let undone: Vec<Undo> = journal.drain(txn.mark..).collect();
        if txn.outer {
            self.journal = None;
        }
        for undo in undone.into_iter().rev() {
            self.unindex(undo.obj, undo.num);
            let slot = (undo.num - 1) as usize;
            match undo.previous {
                Some(rec) => {
                    self.tables[undo.obj].slots[slot] = Some(rec);
                    self.index(undo.obj, undo.num);
                }
                None => {
                    // An undone insert keeps its number, as Salesforce never
                    // hands a rolled-back id to another record.
                    self.tables[undo.obj].slots[slot] = None;
                }
            }
        }
    }

    fn journal(&mut self, obj: usize, num: u64) {
        if let Some(j) = self.journal.as_mut() {
            let previous = self.tables[obj].get(num).cloned();
            j.push(Undo { obj, num, previous });
        }
    }

    // ---- unique / external id index -----------------------------------

    fn indexed_fields(def: &ObjectDef) -> impl Iterator<Item = usize> + '_ {
        def.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.unique || f.external_id)
            .map(|(i, _)| i)
    }

    fn index(&mut self, obj: usize, num: u64) {
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

    fn unindex(&mut self, obj: usize, num: u64) {
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

    // ---- value coercion ---------------------------------------------

    /// Converts a JSON value for field `fi` the way the REST API does.
    pub fn coerce_json(
        &self,
        obj: usize,
        fi: usize,
        v: &serde_json::Value,
    ) -> Result<Val, RecordError> {
        use serde_json::Value as J;
        let f = &self.def(obj).fields[fi];
        match v {
            J::Null => Ok(Val::Null),
            J::String(s) => self.coerce_text(obj, fi, s),
            J::Bool(b) if f.ftype == FieldType::Boolean => Ok(Val::Bool(*b)),
            J::Number(n) if f.ftype.is_numeric() => {
                let n = n.as_f64().unwrap_or_default();
                if f.ftype == FieldType::Int && n.fract() != 0.0 {
                    return Err(type_error(f, &v.to_string()));
                }
                Ok(Val::Num(n))
            }
            J::Number(_) | J::Bool(_) if f.ftype.is_text() => {
                self.coerce_text(obj, fi, &v.to_string())
            }
            other => Err(type_error(f, &other.to_string())),
        }
    }

    /// Converts text (a JSON string or a CSV cell) for field `fi`.
    pub fn coerce_text(&self, obj: usize, fi: usize, s: &str) -> Result<Val, RecordError> {
        let f = &self.def(obj).fields[fi];
        let val = match f.ftype {
            FieldType::Boolean => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Val::Bool(true),
                "false" | "0" | "no" => Val::Bool(false),
                "" => Val::Null,
                _ => return Err(type_error(f, s)),
            },
            t if t.is_numeric() => {
                if s.trim().is_empty() {
                    Val::Null
                } else {
                    let n: f64 = s.trim().parse().map_err(|_| type_error(f, s))?;
                    if !n.is_finite() {
                        return Err(type_error(f, s));
                    }
                    if t == FieldType::Int && n.fract() != 0.0 {
                        return Err(type_error(f, s));
                    }
                    Val::Num(n)
                }
            }
            FieldType::Date => match s.trim() {
                "" => Val::Null,
                t => Val::Date(parse_date(t).ok_or_else(|| type_error(f, s))?),
            },
            FieldType::Datetime => match s.trim() {
                "" => Val::Null,
                t => Val::DateTime(parse_datetime(t).ok_or_else(|| type_error(f, s))?),
            },
            FieldType::Reference | FieldType::Id => {
                if s.is_empty() {
                    Val::Null
                } else {
                    Val::str(self.check_reference(f, s)?)
                }
            }
            _ => {
                if s.is_empty() {
                    Val::Null
                } else {
                    Val::str(s)
                }
            }
        };
        if let Val::Str(text) = &val {
            self.check_text(f, text)?;
        }
        Ok(val)
    }

    fn check_text(&self, f: &FieldDef, text: &str) -> Result<(), RecordError> {
        if f.ftype.is_text() && f.length > 0 && text.chars().count() > f.length as usize {
            let shown: String = text.chars().take(20).collect();
            return Err(RecordError::new(
                "STRING_TOO_LONG",
                format!(
                    "{}: data value too large: {shown}{} (max length={})",
                    f.label,
                    if text.chars().count() > 20 { "..." } else { "" },
                    f.length
                ),
            )
            .with_fields(vec![f.name.clone()]));
        }
        if f.ftype == FieldType::Email && !is_email(text) {
            return Err(RecordError::new(
                "INVALID_EMAIL_ADDRESS",
                format!("{}: invalid email address: {text}", f.label),
            )
            .with_fields(vec![f.name.clone()]));
        }
        if f.restricted_picklist && !f.picklist.iter().any(|p| p.value == text) {
            return Err(RecordError::new(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                format!(
                    "{}: bad value for restricted picklist field: {text}",
                    f.label
                ),
            )
            .with_fields(vec![f.name.clone()]));
        }
        Ok(())
    }

    fn check_reference(&self, f: &FieldDef, s: &str) -> Result<String, RecordError> {
        let bad_type = || {
            RecordError::new(
                "MALFORMED_ID",
                format!("{}: id value of incorrect type: {s}", f.label),
            )
            .with_fields(vec![f.name.clone()])
        };
        let parsed = parse_id(s).ok_or_else(bad_type)?;
        let target = self.schema.by_prefix(&parsed.prefix).ok_or_else(bad_type)?;
        let target_name = &self.def(target).name;
        if !f
            .reference_to
            .iter()
            .any(|r| r.eq_ignore_ascii_case(target_name))
        {
            return Err(RecordError::new(
                "FIELD_INTEGRITY_EXCEPTION",
                format!("{}: id value of incorrect type: {s}", f.label),
            )
            .with_fields(vec![f.name.clone()]));
        }
        match self.tables[target].get(parsed.num) {
            Some(r) if r.deleted_at.is_none() => {
                Ok(make_id(&self.def(target).key_prefix, parsed.num))
            }
            Some(_) => Err(RecordError::new("ENTITY_IS_DELETED", "entity is deleted")
                .with_fields(vec![f.name.clone()])),
            None => Err(RecordError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
            )
            .with_fields(vec![f.name.clone()])),
        }
    }

    /// A lookup given by the parent's external id: `{"Account": {"Ext__c": "A1"}}`
    /// in JSON or an `Account.Ext__c` column in CSV.
    pub fn resolve_by_external(
        &self,
        obj: usize,
        relationship: &str,
        ext_field: &str,
        value: &str,
    ) -> Result<(usize, Val), RecordError> {
        let def = self.def(obj);
        let fi = def.relationship(relationship).ok_or_else(|| {
            RecordError::new(
                "INVALID_FIELD",
                format!(
                    "No such column '{relationship}' on sobject of type {}",
                    def.name
                ),
            )
        })?;
        let f = &def.fields[fi];
        let target_name = f.reference_to.first().cloned().unwrap_or_default();
        let target = self.object(&target_name).expect("reference target exists");
        let tdef = self.def(target);
        let efi = tdef.field(ext_field).filter(|&i| {
            tdef.fields[i].external_id
                || tdef.fields[i].sys == Some(SysField::Id)
                || tdef.fields[i].id_lookup
        });
        let Some(efi) = efi else {
            return Err(RecordError::new(
                "INVALID_FIELD",
                format!(
                    "Field name provided, {ext_field} is not an External ID or indexed field for {target_name}"
                ),
            ));
        };
        if value.is_empty() {
            return Ok((fi, Val::Null));
        }
        let nums = if tdef.fields[efi].sys == Some(SysField::Id) {
            parse_id(value)
                .filter(|p| p.prefix == tdef.key_prefix)
                .map(|p| vec![p.num])
                .unwrap_or_default()
        } else {
            self.find_by_field(target, efi, value)
        };
        match nums.as_slice() {
            [one] => Ok((fi, Val::str(make_id(&tdef.key_prefix, *one)))),
            [] => Err(RecordError::new(
                "INVALID_FIELD",
                format!("Foreign key external ID: {value} not found for field {ext_field} in entity {target_name}"),
            )
            .with_fields(vec![f.name.clone()])),
            _ => Err(RecordError::new(
                "INVALID_FIELD",
                format!("More than 1 record found for external id field {ext_field} with value {value}"),
            )),
        }
    }

    /// A JSON record body to field values. `creating` picks the permission
    /// checked (createable or updateable).
    pub fn json_to_values(
        &self,
        obj: usize,
        body: &serde_json::Map<String, serde_json::Value>,
        creating: bool,
    ) -> Result<Vec<(usize, Val)>, RecordError> {
        let def = self.def(obj);
        let mut out = Vec::with_capacity(body.len());
        let mut not_writable = vec![];
        for (key, v) in body {
            if key == "attributes" {
                continue;
            }
            if let Some(fi) = def.field(key) {
                let f = &def.fields[fi];
                if f.sys == Some(SysField::Id) {
                    if creating {
                        return Err(RecordError::new(
                            "INVALID_FIELD_FOR_INSERT_UPDATE",
                            "cannot specify Id in an insert call",
                        ));
                    }
                    continue;
                }
                if !(if creating { f.createable } else { f.updateable }) {
                    not_writable.push(f.name.clone());
                    continue;
                }
                out.push((fi, self.coerce_json(obj, fi, v)?));
            } else if let (Some(_), serde_json::Value::Object(m)) = (def.relationship(key), v) {
                let (ext, val) = m.iter().find(|(k, _)| *k != "attributes").ok_or_else(|| {
                    RecordError::new("INVALID_FIELD", format!("{key}: no external id given"))
                })?;
                let text = match val {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push(self.resolve_by_external(obj, key, ext, &text)?);
            } else {
                return Err(RecordError::new(
                    "INVALID_FIELD",
                    format!("No such column '{key}' on sobject of type {}", def.name),
                )
                .with_fields(vec![key.clone()]));
            }
        }
        if !not_writable.is_empty() {
            return Err(RecordError::new(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                format!(
                    "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                    not_writable.join(", ")
                ),
            )
            .with_fields(not_writable));
        }
        Ok(out)
    }

    // ---- writes -------------------------------------------------------

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
    fn derive_fields(&self, obj: usize, rec: &mut Record) {
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

    fn check_required(&self, obj: usize, rec: &Record) -> Result<(), RecordError> {
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

    fn check_unique(
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

impl Default for Org {
    fn default() -> Self {
        Org::new()
    }
}

fn index_key(v: &Val) -> Option<String> {
    match v {
        Val::Str(s) => Some(s.to_lowercase()),
        Val::Num(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(' ')
}

fn type_error(f: &FieldDef, shown: &str) -> RecordError {
    RecordError::new(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        format!("{}: value not of required type: {shown}", f.label),
    )
    .with_fields(vec![f.name.clone()])
}
