//! How a `serde_json::Value` looks to the UI's generated types: JSON, its
//! numbers JavaScript numbers (specta refuses serde_json's i64 and u64).

use std::collections::BTreeMap;

#[derive(serde::Serialize, specta::Type)]
#[serde(untagged)]
pub enum Json {
    Null(()),
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}
