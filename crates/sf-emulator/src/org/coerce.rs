//! Values as the REST API (JSON) and Bulk API (text) take them, checked
//! the way Salesforce checks them.

use super::*;

use crate::values::{parse_date, parse_datetime};

impl Org {
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

    pub(super) fn check_text(&self, f: &FieldDef, text: &str) -> Result<(), RecordError> {
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

    pub(super) fn check_reference(&self, f: &FieldDef, s: &str) -> Result<String, RecordError> {
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
}

pub(super) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(' ')
}

pub(super) fn type_error(f: &FieldDef, shown: &str) -> RecordError {
    RecordError::new(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        format!("{}: value not of required type: {shown}", f.label),
    )
    .with_fields(vec![f.name.clone()])
}
