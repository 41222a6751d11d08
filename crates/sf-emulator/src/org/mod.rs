//! The org: schema, records, users, sessions, jobs and the knobs tests turn.
//! Every write goes through `Org::insert/update/delete`, which validate the
//! way Salesforce does and journal what they replace so that an allOrNone
//! request can be rolled back. `coerce`: values as the REST API and Bulk
//! API take them; `index`: lookups by unique and external id fields;
//! `write`: insert, update, delete, undelete and their checks.

mod coerce;
mod index;
mod write;

pub(crate) use index::index_key;

use crate::ids::{make_id, parse_id};
use crate::schema::{FieldDef, FieldType, ObjectDef, Schema, SysField};
use crate::values::Val;
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
    /// When the open transaction still hiding it began: a record written
    /// again before it became visible stays in the same transaction.
    #[serde(default)]
    pub open_since: Option<i64>,
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
    /// The longest a Bulk API 2.0 job waits in the queue once closed (each
    /// a random wait up to this): jobs then run in no set order, as on
    /// Salesforce. 0 runs each at once.
    #[serde(default)]
    pub bulk_queue_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            access_token_ttl_secs: 7200,
            daily_api_limit: 15_000,
            visibility_delay_ms: 0,
            restrict_clients: false,
            bulk_queue_ms: 0,
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
}

impl Default for Org {
    fn default() -> Self {
        Org::new()
    }
}
