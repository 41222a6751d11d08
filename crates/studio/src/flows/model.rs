//! The flow file (version 1), as users keep it in git: nodes and edges
//! keyed by id, each node a `type` and its `params`. `FlowFile` is the file
//! as written (kept and exported as is); `Node` is a node's params read
//! for its type.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FlowFile {
    pub version: u32,
    pub name: String,
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// Where each node sits on the canvas, by id.
    #[serde(default)]
    pub layout: IndexMap<String, Position>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NodeSpec {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = crate::json_type::Json))]
    pub params: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// Out of a `branch` node: `then` (its condition holds) or `else`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<BranchSide>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum BranchSide {
    Then,
    Else,
}

/// A node's params, read for its type. Unknown params are refused, so a
/// typo is an error rather than a setting quietly ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", content = "params")]
pub enum Node {
    #[serde(rename = "salesforce.trigger")]
    Trigger(TriggerParams),
    #[serde(rename = "schedule")]
    Schedule(ScheduleParams),
    #[serde(rename = "filter")]
    Filter(ConditionParams),
    #[serde(rename = "set")]
    Set(SetParams),
    #[serde(rename = "branch")]
    Branch(ConditionParams),
    #[serde(rename = "salesforce.create")]
    Create(WriteParams),
    #[serde(rename = "salesforce.update")]
    Update(UpdateParams),
    #[serde(rename = "salesforce.upsert")]
    Upsert(UpsertParams),
    #[serde(rename = "salesforce.delete")]
    Delete(ByIdParams),
    #[serde(rename = "salesforce.get")]
    Get(GetParams),
    #[serde(rename = "salesforce.query")]
    Query(QueryParams),
    #[serde(rename = "salesforce.search")]
    Search(SearchParams),
    #[serde(rename = "salesforce.request")]
    Request(RequestParams),
    #[serde(rename = "http.request")]
    Http(HttpParams),
    #[serde(rename = "csv.append")]
    CsvAppend(CsvAppendParams),
}

/// Every node type a flow file may hold.
pub const NODE_TYPES: &[&str] = &[
    "salesforce.trigger",
    "schedule",
    "filter",
    "set",
    "branch",
    "salesforce.create",
    "salesforce.update",
    "salesforce.upsert",
    "salesforce.delete",
    "salesforce.get",
    "salesforce.query",
    "salesforce.search",
    "salesforce.request",
    "http.request",
    "csv.append",
];

impl Node {
    pub fn read(spec: &NodeSpec) -> Result<Node, String> {
        if !NODE_TYPES.contains(&spec.kind.as_str()) {
            return Err(format!(
                "{:?} is not a node type; the types are {}",
                spec.kind,
                NODE_TYPES.join(", ")
            ));
        }
        let params = if spec.params.is_null() {
            Value::Object(Default::default())
        } else {
            spec.params.clone()
        };
        serde_json::from_value(serde_json::json!({"type": spec.kind, "params": params}))
            .map_err(|e| e.to_string())
    }

    /// How often a start node polls or fires, in seconds (None for a cron
    /// line or a node that is not a start).
    pub fn interval_seconds(&self) -> Option<u64> {
        match self {
            Node::Trigger(t) => Some(t.every_seconds.max(1)),
            Node::Schedule(s) => s
                .every_seconds
                .or(s.every_minutes.map(|m| m * 60))
                .or(s.every_hours.map(|h| h * 3600)),
            _ => None,
        }
    }

    pub fn is_start(&self) -> bool {
        matches!(self, Node::Trigger(_) | Node::Schedule(_))
    }

    /// The connection the node talks to, if any.
    pub fn connection(&self) -> Option<&str> {
        Some(match self {
            Node::Trigger(p) => &p.connection,
            Node::Create(p) => &p.connection,
            Node::Update(p) => &p.connection,
            Node::Upsert(p) => &p.connection,
            Node::Delete(p) => &p.connection,
            Node::Get(p) => &p.connection,
            Node::Query(p) => &p.connection,
            Node::Search(p) => &p.connection,
            Node::Request(p) => &p.connection,
            _ => return None,
        })
    }

    /// Every template of the node, named by its param: what is checked at
    /// save time and rendered per record.
    pub fn templates(&self) -> Vec<(String, &str)> {
        fn map<'a>(
            out: &mut Vec<(String, &'a str)>,
            prefix: &str,
            m: &'a IndexMap<String, String>,
        ) {
            for (k, v) in m {
                out.push((format!("{prefix}.{k}"), v.as_str()));
            }
        }
        let mut out: Vec<(String, &str)> = vec![];
        match self {
            Node::Set(p) => map(&mut out, "fields", &p.fields),
            Node::Create(p) => map(&mut out, "fields", &p.fields),
            Node::Update(p) => map(&mut out, "fields", &p.fields),
            Node::Upsert(p) => map(&mut out, "fields", &p.fields),
            Node::Http(p) => map(&mut out, "headers", &p.headers),
            Node::Request(p) => map(&mut out, "query", &p.query),
            Node::CsvAppend(p) => map(&mut out, "columns", &p.columns),
            _ => {}
        }
        match self {
            Node::Update(p) => out.push(("id".into(), &p.id)),
            Node::Delete(p) => out.push(("id".into(), &p.id)),
            Node::Get(p) => out.push(("id".into(), &p.id)),
            Node::Query(QueryParams { soql: Some(s), .. }) => out.push(("soql".into(), s)),
            Node::Query(p) => {
                for (i, c) in p.conditions.iter().enumerate() {
                    out.push((format!("conditions[{i}].value"), &c.value));
                }
            }
            Node::Search(p) => out.push(("sosl".into(), &p.sosl)),
            Node::Request(p) => {
                out.push(("path".into(), &p.path));
                if let Some(b) = &p.body {
                    out.push(("body".into(), b));
                }
            }
            Node::Http(p) => {
                out.push(("url".into(), &p.url));
                if let Some(b) = &p.body {
                    out.push(("body".into(), b));
                }
            }
            _ => {}
        }
        out
    }

    /// The node's condition (an expression), if it has one.
    pub fn condition(&self) -> Option<&str> {
        match self {
            Node::Filter(p) | Node::Branch(p) => Some(&p.condition),
            _ => None,
        }
    }
}

/// What a Salesforce trigger fires on.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TriggerOn {
    Created,
    Updated,
    CreatedOrUpdated,
    Deleted,
    Restored,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerParams {
    pub connection: String,
    pub object: String,
    pub on: TriggerOn,
    pub every_seconds: u64,
    pub fields: Vec<String>,
    #[serde(default, rename = "where")]
    pub condition: Option<String>,
    /// `now` (the default: no flood of old records) or an ISO date-time.
    #[serde(default)]
    pub start: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleParams {
    #[serde(default)]
    pub every_seconds: Option<u64>,
    #[serde(default)]
    pub every_minutes: Option<u64>,
    #[serde(default)]
    pub every_hours: Option<u64>,
    /// A cron line: `min hour day month weekday`.
    #[serde(default)]
    pub cron: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionParams {
    pub condition: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetParams {
    pub fields: IndexMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteParams {
    pub connection: String,
    pub object: String,
    pub fields: IndexMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateParams {
    pub connection: String,
    pub object: String,
    pub id: String,
    pub fields: IndexMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertParams {
    pub connection: String,
    pub object: String,
    pub external_id: String,
    /// Must set the external id field itself.
    pub fields: IndexMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByIdParams {
    pub connection: String,
    #[serde(default)]
    pub object: Option<String>,
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetParams {
    pub connection: String,
    pub object: String,
    pub id: String,
    pub fields: Vec<String>,
}

/// Get Records: an object, fields, conditions joined by AND or OR, a sort
/// and a limit; or a SOQL text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryParams {
    pub connection: String,
    #[serde(default)]
    pub soql: Option<String>,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub conditions: Vec<QueryCondition>,
    #[serde(default)]
    pub join: Join,
    #[serde(default)]
    pub sort: Option<Sort>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryCondition {
    pub field: String,
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`, `like`, `in`, `not in`.
    pub op: String,
    /// A template: the value compared with.
    pub value: String,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Join {
    #[default]
    And,
    Or,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sort {
    pub field: String,
    #[serde(default)]
    pub descending: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    pub connection: String,
    pub sosl: String,
}

/// Any REST path of the org's API, as Alumio's request parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestParams {
    pub connection: String,
    pub method: String,
    /// Under `/services/data/vXX.X/`.
    pub path: String,
    #[serde(default)]
    pub query: IndexMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpParams {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvAppendParams {
    pub path: String,
    /// Column name to template, in the file's order.
    pub columns: IndexMap<String, String>,
}
