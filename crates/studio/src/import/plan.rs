//! From a CSV header to Salesforce fields, checked against describe before
//! anything is sent: which column sets which field (by `--map`, else by API
//! name, else by label, ignoring case, spaces and underscores), parent
//! lookups by external id, constants, and each cell made the value its
//! field takes (numbers, booleans, dates in the chosen format, date-times
//! in the chosen time zone, lengths, restricted picklists).

use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Operation {
    Insert,
    Update,
    Upsert,
    Delete,
    HardDelete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
            Operation::HardDelete => "hard-delete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum DateFormat {
    Iso,
    Dmy,
    Mdy,
}

/// `--map FILE`: columns to fields (`null` skips a column; `Parent.ExtId`
/// sets a lookup by the parent's external id) and constant values.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MapFile {
    #[serde(default)]
    pub columns: HashMap<String, Option<String>>,
    #[serde(default)]
    pub constants: HashMap<String, String>,
}

impl MapFile {
    /// Writes the mapping where the user chose (the wizard's Save mapping),
    /// in the form `--map` reads.
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Output(format!("mapping file {}: {e}", path.display())))?;
        crate::export::write_whole(path, (text + "\n").as_bytes())
    }

    pub fn load(path: &std::path::Path) -> Result<MapFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Invalid(format!("mapping file {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Invalid(format!(
                "mapping file {}: {e} (expected {{\"columns\": {{\"CSV column\": \"Field\"}}, \"constants\": {{\"Field\": \"value\"}}}})",
                path.display()
            ))
        })
    }
}

/// A field as describe tells it.
#[derive(Debug, Clone)]
pub struct FieldMeta {
    pub name: String,
    pub label: String,
    pub ftype: String,
    pub length: usize,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted: bool,
    pub external_id: bool,
    pub id_lookup: bool,
    pub restricted: bool,
    pub picklist: Vec<String>,
    pub relationship: Option<String>,
    pub references: Vec<String>,
}

impl FieldMeta {
    pub(crate) fn of(v: &Value) -> FieldMeta {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let b = |k: &str| v[k].as_bool().unwrap_or(false);
        FieldMeta {
            name: s("name"),
            label: s("label"),
            ftype: s("type"),
            length: v["length"].as_u64().unwrap_or(0) as usize,
            nillable: b("nillable"),
            createable: b("createable"),
            updateable: b("updateable"),
            defaulted: b("defaultedOnCreate"),
            external_id: b("externalId"),
            id_lookup: b("idLookup"),
            restricted: b("restrictedPicklist"),
            picklist: v["picklistValues"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["active"].as_bool().unwrap_or(true))
                .filter_map(|p| p["value"].as_str().map(str::to_string))
                .collect(),
            relationship: v["relationshipName"].as_str().map(str::to_string),
            references: v["referenceTo"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect(),
        }
    }

    /// Whether `op` may write the field's value (keys aside).
    pub fn writable_by(&self, op: Operation) -> bool {
        match op {
            Operation::Insert => self.createable,
            Operation::Update => self.updateable,
            Operation::Upsert => self.createable || self.updateable,
            Operation::Delete | Operation::HardDelete => false,
        }
    }

    /// Must be given on create (Data Loader's notion).
    pub fn required(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted && self.ftype != "boolean"
    }
}

/// What a column sets.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Field(usize),
    /// `Account.ERP_Id__c`: the lookup field, its relationship and the
    /// parent's external id field.
    Lookup {
        field: usize,
        relationship: String,
        parent_field: String,
    },
    /// Mapped to null in `--map`: kept in the result files, not sent.
    Skip,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    pub target: Target,
    /// Matched without `--map` (the wizard marks these).
    pub auto: bool,
}

pub struct Plan {
    pub object: String,
    pub operation: Operation,
    pub fields: Vec<FieldMeta>,
    pub columns: Vec<Column>,
    pub constants: Vec<(usize, String)>,
    /// The column holding the Id (update, delete) or the external id (upsert).
    pub key: Option<usize>,
    pub external_id: Option<String>,
    pub date_format: DateFormat,
    pub time_zone: chrono_tz::Tz,
    pub insert_nulls: bool,
    /// Each field's kind of value (`kinds[i]` is `fields[i]`'s), and the
    /// fields an insert must set: worked out once, not for every row.
    kinds: Vec<Kind>,
    required: Vec<usize>,
}

/// How a cell becomes a field's value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Boolean,
    Int,
    Number,
    Date,
    DateTime,
    Id,
    Picklist,
    Text,
}

impl Kind {
    fn of(f: &FieldMeta) -> Kind {
        match f.ftype.as_str() {
            "boolean" => Kind::Boolean,
            "int" => Kind::Int,
            "double" | "currency" | "percent" => Kind::Number,
            "date" => Kind::Date,
            "datetime" => Kind::DateTime,
            "reference" | "id" => Kind::Id,
            "picklist" if f.restricted => Kind::Picklist,
            _ => Kind::Text,
        }
    }
}

/// `Billing_City__c`, `billing city` and `BillingCity` alike.
fn loose(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a column names without a mapping: by API name, then by label,
/// ignoring case, spaces and underscores.
pub fn auto_match(fields: &[FieldMeta], header: &str) -> Option<Target> {
    let l = loose(header);
    fields
        .iter()
        .position(|f| loose(&f.name) == l)
        // `ERP Id` for ERP_Id__c: the suffix is often left out.
        .or_else(|| {
            fields
                .iter()
                .position(|f| f.name.ends_with("__c") && loose(&f.name[..f.name.len() - 3]) == l)
        })
        .or_else(|| fields.iter().position(|f| loose(&f.label) == l))
        .map(Target::Field)
}

pub struct PlanInput<'a> {
    pub object: &'a str,
    pub operation: Operation,
    pub describe: &'a Value,
    pub header: &'a [String],
    pub map: &'a MapFile,
    pub external_id: Option<&'a str>,
    pub date_format: DateFormat,
    pub time_zone: chrono_tz::Tz,
    pub insert_nulls: bool,
}

impl Plan {
    pub fn new(input: PlanInput<'_>) -> Result<Plan> {
        let fields: Vec<FieldMeta> = input.describe["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(FieldMeta::of)
            .collect();
        let by_name = |name: &str| {
            fields
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(name))
        };
        let op = input.operation;
        let resolve = |spec: &str| -> Option<Target> {
            if let Some((rel, parent_field)) = spec.split_once('.') {
                let field = fields.iter().position(|f| {
                    f.relationship
                        .as_deref()
                        .is_some_and(|r| r.eq_ignore_ascii_case(rel))
                })?;
                return Some(Target::Lookup {
                    relationship: fields[field].relationship.clone().unwrap_or_default(),
                    field,
                    parent_field: parent_field.to_string(),
                });
            }
            by_name(spec).map(Target::Field)
        };
        let mut columns = Vec::with_capacity(input.header.len());
        let mut unmatched = vec![];
        for h in input.header {
            // Our own result columns (a retry reads an error file): kept
            // in the result files, never sent.
            if h.len() > 4 && h[..4].eq_ignore_ascii_case("sf__") {
                columns.push(Column {
                    header: h.clone(),
                    target: Target::Skip,
                    auto: true,
                });
                continue;
            }
            let mapped = input
                .map
                .columns
                .iter()
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(h));
            let (target, auto) = match mapped {
                Some((_, None)) => (Some(Target::Skip), false),
                Some((_, Some(spec))) => match resolve(spec.trim()) {
                    Some(t) => (Some(t), false),
                    None => {
                        return Err(Error::Invalid(format!(
                            "the mapping sends column {h:?} to {spec:?}, which {} does not have",
                            input.object
                        )));
                    }
                },
                None => (resolve(h).or_else(|| auto_match(&fields, h)), true),
            };
            match target {
                Some(target) => columns.push(Column {
                    header: h.clone(),
                    target,
                    auto,
                }),
                None if matches!(op, Operation::Delete | Operation::HardDelete) => {
                    columns.push(Column {
                        header: h.clone(),
                        target: Target::Skip,
                        auto: true,
                    })
                }
                None => unmatched.push(h.clone()),
            }
        }
        if !unmatched.is_empty() {
            let list = unmatched
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::Invalid(format!(
                "no field of {} matches {}: {list}. Name the field in a mapping file (--map), or map the column to null to leave it out",
                input.object,
                if unmatched.len() == 1 {
                    "this column"
                } else {
                    "these columns"
                },
            )));
        }
        let mut constants = vec![];
        for (field, value) in &input.map.constants {
            let i = by_name(field).ok_or_else(|| {
                Error::Invalid(format!(
                    "the mapping sets a constant for {field:?}, which {} does not have",
                    input.object
                ))
            })?;
            constants.push((i, value.clone()));
        }
        // Each field once, and writable by this operation.
        let mut seen: HashMap<usize, String> = HashMap::new();
        let sent: Vec<(usize, String)> = columns
            .iter()
            .filter_map(|c| match &c.target {
                Target::Field(i) | Target::Lookup { field: i, .. } => Some((*i, c.header.clone())),
                Target::Skip => None,
            })
            .chain(
                constants
                    .iter()
                    .map(|(i, _)| (*i, "a constant".to_string())),
            )
            .collect();
        let key_field = match op {
            Operation::Upsert => {
                let ext = input.external_id.ok_or_else(|| {
                    Error::Invalid("an upsert needs --external-id FIELD: the field that finds existing records".into())
                })?;
                let i = by_name(ext).ok_or_else(|| {
                    Error::Invalid(format!("{} has no field {ext:?}", input.object))
                })?;
                let f = &fields[i];
                if !(f.external_id || f.id_lookup || f.name == "Id") {
                    return Err(Error::Invalid(format!(
                        "{} is not an external id field of {}; upsert by a field marked External ID, or by Id",
                        f.name, input.object
                    )));
                }
                Some(i)
            }
            Operation::Update | Operation::Delete | Operation::HardDelete => by_name("Id"),
            Operation::Insert => None,
        };
        let mut key = None;
        for (i, who) in sent {
            if let Some(other) = seen.insert(i, who.clone()) {
                return Err(Error::Invalid(format!(
                    "{} is set by both {other:?} and {who:?}; map one of them to null",
                    fields[i].name
                )));
            }
            if Some(i) == key_field {
                continue;
            }
            if matches!(op, Operation::Delete | Operation::HardDelete) {
                continue;
            }
            let f = &fields[i];
            if !f.writable_by(op) {
                return Err(Error::Invalid(format!(
                    "{} ({who}) cannot be written on {} by an {}",
                    f.name,
                    input.object,
                    op.as_str()
                )));
            }
        }
        if let Some(k) = key_field {
            key = columns.iter().position(|c| c.target == Target::Field(k));
            if key.is_none() {
                return Err(Error::Invalid(format!(
                    "an {} needs a column for {} (it says which record each row is)",
                    op.as_str(),
                    fields[k].name
                )));
            }
        }
        // A delete reads only the Id; the other columns ride along into
        // the result files.
        if matches!(op, Operation::Delete | Operation::HardDelete) {
            for (i, c) in columns.iter_mut().enumerate() {
                if Some(i) != key {
                    c.target = Target::Skip;
                }
            }
            constants.clear();
        }
        if matches!(op, Operation::Insert | Operation::Upsert) {
            let missing: Vec<&str> = fields
                .iter()
                .enumerate()
                .filter(|(i, f)| f.required() && !seen.contains_key(i))
                .map(|(_, f)| f.name.as_str())
                .collect();
            if !missing.is_empty() && op == Operation::Insert {
                return Err(Error::Invalid(format!(
                    "{} needs {} on create, and no column or constant gives {}",
                    input.object,
                    missing.join(", "),
                    if missing.len() == 1 { "it" } else { "them" }
                )));
            }
        }
        let external_id = key_field
            .filter(|_| op == Operation::Upsert)
            .map(|i| fields[i].name.clone());
        let kinds = fields.iter().map(Kind::of).collect();
        let required = (0..fields.len())
            .filter(|&i| fields[i].required())
            .collect();
        Ok(Plan {
            object: input.object.to_string(),
            operation: op,
            kinds,
            required,
            fields,
            columns,
            constants,
            key,
            external_id,
            date_format: input.date_format,
            time_zone: input.time_zone,
            insert_nulls: input.insert_nulls,
        })
    }

    /// The record one row sends, or why the row cannot be sent.
    /// Whether a column sets a lookup to this same object (a parent row
    /// may then be in the batch sent just before).
    pub fn refers_to_itself(&self) -> bool {
        self.columns.iter().any(|c| match &c.target {
            Target::Lookup { field, .. } => self.fields[*field]
                .references
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&self.object)),
            _ => false,
        })
    }

    pub fn record(&self, cells: &[String]) -> std::result::Result<Map<String, Value>, String> {
        let mut out = Map::with_capacity(self.columns.len() + self.constants.len());
        self.values(cells, &mut out)?;
        Ok(out)
    }

    /// Hands `out` the values one row sets, in the order a record lists
    /// them, or answers why the row cannot be sent. `record` keeps them as
    /// a JSON record; a Bulk insert packs them as bytes (`pack`).
    pub(crate) fn values<'a>(
        &'a self,
        cells: &'a [String],
        out: &mut impl Values<'a>,
    ) -> std::result::Result<(), String> {
        let mut problems = vec![];
        for (col, cell) in self.columns.iter().zip(cells) {
            let value = cell.trim();
            match &col.target {
                Target::Skip => {}
                Target::Field(i) => {
                    let f = &self.fields[*i];
                    if value.is_empty() {
                        if self.insert_nulls && self.operation != Operation::Insert {
                            out.set(&f.name, Val::Json(Value::Null));
                        }
                        continue;
                    }
                    match self.coerce(*i, value) {
                        Ok(v) => out.set(&f.name, v),
                        Err(why) => problems.push(format!("{} ({}): {why}", col.header, f.name)),
                    }
                }
                Target::Lookup {
                    relationship,
                    parent_field,
                    ..
                } => {
                    if value.is_empty() {
                        continue;
                    }
                    out.set(relationship, Val::Parent(parent_field, value));
                }
            }
        }
        for (i, value) in &self.constants {
            let f = &self.fields[*i];
            match self.coerce(*i, value) {
                Ok(v) => out.set(&f.name, v),
                Err(why) => problems.push(format!("constant {}: {why}", f.name)),
            }
        }
        if self.operation == Operation::Insert {
            for f in self.required.iter().map(|&i| &self.fields[i]) {
                let given = out.has(&f.name) || f.relationship.as_ref().is_some_and(|r| out.has(r));
                if !given {
                    problems.push(format!("{}: required on create, and empty", f.name));
                }
            }
        }
        if let Some(k) = self.key {
            let name = match &self.columns[k].target {
                Target::Field(i) => &self.fields[*i].name,
                _ => "Id",
            };
            if cells.get(k).is_none_or(|c| c.trim().is_empty()) {
                problems.push(format!(
                    "{}: empty, so no record can be found",
                    self.columns[k].header
                ));
            } else if !out.has(name) && name == "Id" {
                out.set("Id", Val::Text(std::borrow::Cow::Borrowed(cells[k].trim())));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn coerce<'a>(&'a self, field: usize, value: &'a str) -> std::result::Result<Val<'a>, String> {
        let f = &self.fields[field];
        let text = || Val::Text(std::borrow::Cow::Borrowed(value));
        match self.kinds[field] {
            Kind::Boolean => match value.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => Ok(Val::Json(Value::Bool(true))),
                "false" | "no" | "n" | "0" => Ok(Val::Json(Value::Bool(false))),
                _ => Err(format!("{value:?} is not true or false")),
            },
            Kind::Int => value
                .replace([',', ' '], "")
                .parse::<i64>()
                .map(|n| Val::Json(Value::from(n)))
                .map_err(|_| format!("{value:?} is not a whole number")),
            Kind::Number => value
                .replace([',', ' '], "")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(|n| Val::Json(Value::Number(n)))
                .ok_or_else(|| format!("{value:?} is not a number")),
            Kind::Date => parse_date(value, self.date_format)
                .map(|d| Val::Text(d.format("%Y-%m-%d").to_string().into()))
                .ok_or_else(|| {
                    format!(
                        "{value:?} is not a date in {} form",
                        date_hint(self.date_format)
                    )
                }),
            Kind::DateTime => parse_datetime(value, self.date_format, self.time_zone)
                .map(|t| Val::Text(t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string().into()))
                .ok_or_else(|| {
                    format!(
                        "{value:?} is not a date and time in {} form",
                        date_hint(self.date_format)
                    )
                }),
            Kind::Id => {
                if (value.len() == 15 || value.len() == 18)
                    && value.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    Ok(text())
                } else {
                    Err(format!(
                        "{value:?} is not a Salesforce id (15 or 18 letters and digits)"
                    ))
                }
            }
            Kind::Picklist => f
                .picklist
                .iter()
                .find(|p| p.eq_ignore_ascii_case(value))
                .map(|p| Val::Text(p.as_str().into()))
                .ok_or_else(|| {
                    format!(
                        "{value:?} is not one of its values ({})",
                        f.picklist.join(", ")
                    )
                }),
            // A string no longer in bytes than the limit is within it.
            Kind::Text if f.length == 0 || value.len() <= f.length => Ok(text()),
            Kind::Text => {
                let n = value.chars().count();
                if n > f.length {
                    Err(format!("{n} characters, at most {}", f.length))
                } else {
                    Ok(text())
                }
            }
        }
    }
}

/// A value a row sets, as `Plan::values` hands it over: text borrowed
/// from the row or the plan where it can be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Text(std::borrow::Cow<'a, str>),
    /// A boolean, a number, or null.
    Json(Value),
    /// A lookup by the parent's external id: its field, and the value.
    Parent(&'a str, &'a str),
}

impl Val<'_> {
    pub(crate) fn into_json(self) -> Value {
        match self {
            Val::Text(t) => Value::String(t.into_owned()),
            Val::Json(v) => v,
            Val::Parent(field, value) => {
                let mut parent = Map::new();
                parent.insert(field.to_string(), Value::String(value.to_string()));
                Value::Object(parent)
            }
        }
    }
}

/// What takes a row's values (`Plan::values`): each field once (`Plan::new`
/// refuses a field two columns or a column and a constant set), in the
/// order of the plan's columns, then its constants.
pub(crate) trait Values<'a> {
    fn set(&mut self, name: &'a str, value: Val<'a>);
    fn has(&self, name: &str) -> bool;
}

impl<'a> Values<'a> for Map<String, Value> {
    fn set(&mut self, name: &'a str, value: Val<'a>) {
        self.insert(name.to_string(), value.into_json());
    }

    fn has(&self, name: &str) -> bool {
        self.contains_key(name)
    }
}

fn date_hint(f: DateFormat) -> &'static str {
    match f {
        DateFormat::Iso => "YYYY-MM-DD",
        DateFormat::Dmy => "DD/MM/YYYY",
        DateFormat::Mdy => "MM/DD/YYYY",
    }
}

fn parse_date(value: &str, f: DateFormat) -> Option<chrono::NaiveDate> {
    use chrono::NaiveDate;
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Some(d);
    }
    let normal = value.replace(['.', '-'], "/");
    let pattern = match f {
        DateFormat::Iso => "%Y/%m/%d",
        DateFormat::Dmy => "%d/%m/%Y",
        DateFormat::Mdy => "%m/%d/%Y",
    };
    NaiveDate::parse_from_str(&normal, pattern).ok()
}

/// A date-time: with an offset or `Z` as written, else in `tz` (a local
/// time that a clock change skips or repeats is refused, not guessed).
fn parse_datetime(
    value: &str,
    f: DateFormat,
    tz: chrono_tz::Tz,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{NaiveDateTime, TimeZone};
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    if let Ok(t) = chrono::DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let (date, time) = value.split_once(['T', ' ']).unwrap_or((value, "00:00:00"));
    let date = parse_date(date.trim(), f)?;
    let time = ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|p| chrono::NaiveTime::parse_from_str(time.trim(), p).ok())?;
    let local = NaiveDateTime::new(date, time);
    tz.from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn describe() -> Value {
        json!({"fields": [
            {"name": "Id", "label": "Account ID", "type": "id", "nillable": false, "createable": false, "updateable": false, "defaultedOnCreate": true, "idLookup": true},
            {"name": "Name", "label": "Account Name", "type": "string", "length": 10, "nillable": false, "createable": true, "updateable": true},
            {"name": "NumberOfEmployees", "label": "Employees", "type": "int", "nillable": true, "createable": true, "updateable": true},
            {"name": "Industry", "label": "Industry", "type": "picklist", "nillable": true, "createable": true, "updateable": true, "restrictedPicklist": true, "picklistValues": [{"value": "Technology", "active": true}]},
            {"name": "Founded__c", "label": "Founded", "type": "date", "nillable": true, "createable": true, "updateable": true},
            {"name": "Seen__c", "label": "Last Seen", "type": "datetime", "nillable": true, "createable": true, "updateable": true},
            {"name": "ERP_Id__c", "label": "ERP Id", "type": "string", "length": 40, "nillable": true, "createable": true, "updateable": true, "externalId": true},
            {"name": "ParentId", "label": "Parent Account ID", "type": "reference", "nillable": true, "createable": true, "updateable": true, "relationshipName": "Parent", "referenceTo": ["Account"]},
            {"name": "CreatedDate", "label": "Created Date", "type": "datetime", "nillable": false, "createable": false, "updateable": false, "defaultedOnCreate": true}
        ]})
    }

    /// A plan for Accounts (see `describe`), dates day first.
    pub(crate) fn plan(
        op: Operation,
        header: &[&str],
        map: MapFile,
        ext: Option<&str>,
    ) -> Result<Plan> {
        let d = describe();
        let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        Plan::new(PlanInput {
            object: "Account",
            operation: op,
            describe: &d,
            header: &header,
            map: &map,
            external_id: ext,
            date_format: DateFormat::Dmy,
            time_zone: "Europe/Berlin".parse().unwrap(),
            insert_nulls: false,
        })
    }

    #[test]
    fn columns_match_by_name_then_label_and_cells_become_values() {
        let p = plan(
            Operation::Insert,
            &[
                "account name",
                "Employees",
                "industry",
                "FOUNDED",
                "Last_Seen",
                "Parent.ERP_Id__c",
            ],
            MapFile::default(),
            None,
        )
        .unwrap();
        assert!(p.columns.iter().all(|c| c.auto));
        let cells: Vec<String> = [
            "Acme",
            "1,200",
            "technology",
            "31.01.2024",
            "31/01/2024 00:30",
            "ERP-9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let r = p.record(&cells).unwrap();
        assert_eq!(r["Name"], "Acme");
        assert_eq!(r["NumberOfEmployees"], 1200);
        assert_eq!(r["Industry"], "Technology");
        assert_eq!(
            r["Founded__c"], "2024-01-31",
            "a date is never shifted by a time zone"
        );
        assert_eq!(
            r["Seen__c"], "2024-01-30T23:30:00.000+0000",
            "Berlin is UTC+1 in January"
        );
        assert_eq!(r["Parent"], json!({"ERP_Id__c": "ERP-9"}));
        let bad: Vec<String> = [
            "Far too long a name",
            "many",
            "Retail",
            "2024-13-01",
            "",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let why = p.record(&bad).unwrap_err();
        for part in [
            "at most 10",
            "not a whole number",
            "not one of its values",
            "not a date",
        ] {
            assert!(why.contains(part), "{why}");
        }
    }

    #[test]
    fn header_problems_are_refused_before_anything_is_sent() {
        let err = plan(
            Operation::Insert,
            &["Name", "Colour"],
            MapFile::default(),
            None,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("\"Colour\""), "{err}");
        let skip = MapFile {
            columns: [("Colour".to_string(), None)].into(),
            ..Default::default()
        };
        assert!(plan(Operation::Insert, &["Name", "Colour"], skip, None).is_ok());
        let err = plan(Operation::Insert, &["Employees"], MapFile::default(), None)
            .err()
            .unwrap();
        assert!(err.to_string().contains("needs Name on create"), "{err}");
        let err = plan(
            Operation::Insert,
            &["Name", "Created Date"],
            MapFile::default(),
            None,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("cannot be written"), "{err}");
        let err = plan(Operation::Update, &["Name"], MapFile::default(), None)
            .err()
            .unwrap();
        assert!(err.to_string().contains("needs a column for Id"), "{err}");
        let err = plan(
            Operation::Upsert,
            &["Name"],
            MapFile::default(),
            Some("Name"),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("not an external id"), "{err}");
        let p = plan(
            Operation::Upsert,
            &["ERP Id", "Name"],
            MapFile::default(),
            Some("erp_id__c"),
        )
        .unwrap();
        assert_eq!(p.external_id.as_deref(), Some("ERP_Id__c"));
        let err = p.record(&["".into(), "x".into()]).unwrap_err();
        assert!(err.contains("empty, so no record can be found"), "{err}");
        let dup = plan(
            Operation::Insert,
            &["Name", "Account Name"],
            MapFile::default(),
            None,
        )
        .err()
        .unwrap();
        assert!(dup.to_string().contains("set by both"), "{dup}");
    }
}
