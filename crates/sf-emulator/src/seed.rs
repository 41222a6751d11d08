//! Seed files: custom objects and fields, connected apps, users, settings
//! and records, applied to a running org.

use crate::org::{ClientApp, Org};
use crate::schema::{FieldSpec, ObjectSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// Custom objects (`Invoice__c`), declared like the standard ones.
    #[serde(default)]
    pub objects: Vec<ObjectSpec>,
    /// Custom fields added to existing objects, by object name.
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<FieldSpec>>,
    /// Connected apps; registered ids must use a registered redirect URI.
    #[serde(default)]
    pub clients: Vec<ClientApp>,
    /// Only registered client ids may sign in.
    #[serde(default)]
    pub restrict_clients: Option<bool>,
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Records by object, inserted in order (lookups may name a parent by
    /// external id: `{"Account": {"Ext__c": "A-1"}}`).
    #[serde(default)]
    pub records: BTreeMap<String, Vec<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default)]
    pub access_token_ttl_secs: Option<i64>,
    #[serde(default)]
    pub daily_api_limit: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedUser {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("seed schema: {0}")]
    Schema(#[from] crate::schema::SchemaError),
    #[error("seed record {object}[{index}]: {code}: {message}")]
    Record {
        object: String,
        index: usize,
        code: String,
        message: String,
    },
    #[error("seed: unknown object {0}")]
    UnknownObject(String),
    #[error("seed: {0}")]
    Invalid(String),
}

/// Ids of the records a seed created, by object.
pub type SeedReport = BTreeMap<String, Vec<String>>;

impl Seed {
    pub fn apply(&self, org: &mut Org) -> Result<SeedReport, SeedError> {
        for spec in &self.objects {
            org.schema.add_custom(spec)?;
            org.tables.push(Default::default());
        }
        for (object, fields) in &self.fields {
            org.schema.add_fields(object, fields)?;
            // New fields go before the trailing system fields, which records
            // never store, so stored values keep their indexes.
            let _ = org
                .object(object)
                .ok_or_else(|| SeedError::UnknownObject(object.clone()))?;
        }
        if !self.fields.is_empty() || !self.objects.is_empty() {
            org.reindex_all();
        }
        for c in &self.clients {
            org.clients.retain(|x| x.client_id != c.client_id);
            org.clients.push(c.clone());
        }
        if let Some(r) = self.restrict_clients {
            org.settings.restrict_clients = r;
        }
        if let Some(t) = self.access_token_ttl_secs {
            org.settings.access_token_ttl_secs = t;
        }
        if let Some(l) = self.daily_api_limit {
            org.settings.daily_api_limit = l;
        }
        for u in &self.users {
            org.add_user(
                &u.username,
                &u.first_name,
                &u.last_name,
                &u.password,
                &u.title,
            )
            .map_err(|e| SeedError::Record {
                object: "User".into(),
                index: 0,
                code: e.code,
                message: e.message,
            })?;
        }
        let mut report = SeedReport::new();
        for (object, records) in &self.records {
            let obj = org
                .object(object)
                .ok_or_else(|| SeedError::UnknownObject(object.clone()))?;
            for (index, rec) in records.iter().enumerate() {
                let id = org
                    .json_to_values(obj, rec, true)
                    .and_then(|vals| org.insert(obj, vals, crate::org::ADMIN_USER))
                    .map_err(|e| SeedError::Record {
                        object: object.clone(),
                        index,
                        code: e.code,
                        message: e.message,
                    })?;
                report
                    .entry(org.def(obj).name.clone())
                    .or_default()
                    .push(id);
            }
        }
        Ok(report)
    }
}
