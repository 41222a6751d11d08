//! The org's objects and fields, from describe: for the schema explorer and
//! the SOQL console's completion.

use crate::Studio;
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ObjectSummary {
    pub name: String,
    pub label: String,
    pub custom: bool,
    pub queryable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldInfo {
    pub name: String,
    pub label: String,
    /// Salesforce's type: `string`, `reference`, `picklist`, ...
    pub field_type: String,
    pub length: u32,
    /// A value must be given on create: not nillable, createable and with
    /// no default (Data Loader's notion).
    pub required: bool,
    pub external_id: bool,
    /// Active picklist values.
    pub picklist_values: Vec<String>,
    /// The objects a lookup points at.
    pub references: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ObjectDetail {
    pub name: String,
    pub label: String,
    pub fields: Vec<FieldInfo>,
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn flag(v: &Value, key: &str) -> bool {
    v[key].as_bool().unwrap_or(false)
}

/// The array at `key`, empty when absent.
fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map(Vec::as_slice).unwrap_or_default()
}

pub fn objects_of(global: &Value) -> Vec<ObjectSummary> {
    let mut out: Vec<ObjectSummary> = items(global, "sobjects")
        .iter()
        .map(|o| ObjectSummary {
            name: text(o, "name"),
            label: text(o, "label"),
            custom: flag(o, "custom"),
            queryable: flag(o, "queryable"),
        })
        .collect();
    out.sort_by_key(|o| o.name.to_lowercase());
    out
}

pub fn detail_of(describe: &Value) -> ObjectDetail {
    let fields = items(describe, "fields")
        .iter()
        .map(|f| FieldInfo {
            name: text(f, "name"),
            label: text(f, "label"),
            field_type: text(f, "type"),
            length: f["length"].as_u64().unwrap_or(0) as u32,
            required: !flag(f, "nillable")
                && flag(f, "createable")
                && !flag(f, "defaultedOnCreate"),
            external_id: flag(f, "externalId"),
            picklist_values: items(f, "picklistValues")
                .iter()
                .filter(|p| p["active"].as_bool().unwrap_or(true))
                .map(|p| text(p, "value"))
                .collect(),
            references: items(f, "referenceTo")
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect(),
        })
        .collect();
    ObjectDetail {
        name: text(describe, "name"),
        label: text(describe, "label"),
        fields,
    }
}

impl Studio {
    /// The org's objects, sorted by API name.
    pub async fn objects(&self, connection: &str) -> Result<Vec<ObjectSummary>> {
        self.with_client(connection, |client| async move {
            Ok(objects_of(&client.describe_global().await?))
        })
        .await
    }

    /// One object's fields, in describe order.
    pub async fn object(&self, connection: &str, object: &str) -> Result<ObjectDetail> {
        self.with_client(connection, |client| async move {
            match client.describe(object).await {
                Ok(describe) => Ok(detail_of(describe.as_ref())),
                // Salesforce's 404 names no object; say which.
                Err(salesforce::Error::Api { status: 404, .. }) => Err(Error::Invalid(format!(
                    "no object named {object:?} in this org, or this user cannot see it"
                ))),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
