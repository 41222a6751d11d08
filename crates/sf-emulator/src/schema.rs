//! Object and field metadata. Standard objects are declared in
//! `standard_objects.json` in the same format a seed file uses for custom
//! objects, so both go through one path.

use crate::values::Val;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Id,
    String,
    Textarea,
    Email,
    Phone,
    Url,
    Picklist,
    Multipicklist,
    Combobox,
    Boolean,
    Int,
    Double,
    Currency,
    Percent,
    Date,
    Datetime,
    Reference,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Picklist => "picklist",
            FieldType::Multipicklist => "multipicklist",
            FieldType::Combobox => "combobox",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Reference => "reference",
        }
    }
    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Int => "xsd:int",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Date => "xsd:date",
            FieldType::Datetime => "xsd:dateTime",
            _ => "xsd:string",
        }
    }
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Textarea
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Picklist
                | FieldType::Multipicklist
                | FieldType::Combobox
        )
    }
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
        )
    }
    /// The type name used in SOQL type-mismatch messages.
    pub fn soql_name(self) -> &'static str {
        match self {
            FieldType::Datetime => "dateTime",
            FieldType::Int => "int",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "double",
            FieldType::Date => "date",
            FieldType::Boolean => "boolean",
            FieldType::Id | FieldType::Reference => "id",
            _ => "string",
        }
    }
}

/// Fields whose values live in the record header rather than its field list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysField {
    Id,
    IsDeleted,
    CreatedDate,
    CreatedById,
    LastModifiedDate,
    LastModifiedById,
    SystemModstamp,
}

/// A field as written in a seed file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ftype: FieldType,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub precision: Option<u32>,
    #[serde(default)]
    pub scale: Option<u32>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub reference_to: Vec<String>,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub child_relationship_name: Option<String>,
    #[serde(default)]
    pub picklist: Vec<String>,
    #[serde(default)]
    pub restricted: bool,
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub auto_number: Option<String>,
    #[serde(default)]
    pub name_field: bool,
}

/// An object as written in a seed file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectSpec {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub label_plural: Option<String>,
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Has an OwnerId (standard objects that users own, every custom object).
    #[serde(default)]
    pub owned: Option<bool>,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
}

#[derive(Debug, Clone)]
pub struct PicklistValue {
    pub value: String,
    pub default: bool,
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub ftype: FieldType,
    pub length: u32,
    pub precision: u32,
    pub scale: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted_on_create: bool,
    pub unique: bool,
    pub external_id: bool,
    pub id_lookup: bool,
    pub calculated: bool,
    pub auto_number: Option<String>,
    pub custom: bool,
    pub name_field: bool,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    pub child_relationship_name: Option<String>,
    pub picklist: Vec<PicklistValue>,
    pub restricted_picklist: bool,
    pub default: Option<Val>,
    pub sys: Option<SysField>,
}

impl FieldDef {
    /// Required on insert: not nillable, createable and not defaulted.
    pub fn required(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted_on_create
    }
}

#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub custom: bool,
    pub fields: Vec<FieldDef>,
    by_name: HashMap<String, usize>,
    by_relationship: HashMap<String, usize>,
}

impl ObjectDef {
    pub fn field(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }
    pub fn relationship(&self, name: &str) -> Option<usize> {
        self.by_relationship
            .get(&name.to_ascii_lowercase())
            .copied()
    }
    pub fn name_field(&self) -> Option<usize> {
        self.fields.iter().position(|f| f.name_field)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("object {0}: {1}")]
    Object(String, String),
}

fn split_camel(name: &str) -> String {
    let base = name.trim_end_matches("__c").trim_end_matches("Id");
    let base = if base.is_empty() { name } else { base };
    let mut out = String::new();
    let chars: Vec<char> = base.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '_' {
            out.push(' ');
            continue;
        }
        if i > 0
            && c.is_uppercase()
            && (chars[i - 1].is_lowercase() || chars.get(i + 1).is_some_and(|n| n.is_lowercase()))
            && !out.ends_with(' ')
        {
            out.push(' ');
        }
        out.push(*c);
    }
    out
}

fn default_length(t: FieldType) -> u32 {
    match t {
        FieldType::Id | FieldType::Reference => 18,
        FieldType::String | FieldType::Url => 255,
        FieldType::Email => 80,
        FieldType::Phone => 40,
        FieldType::Textarea => 32_000,
        FieldType::Picklist | FieldType::Combobox => 255,
        FieldType::Multipicklist => 4099,
        _ => 0,
    }
}

fn sys_field(
    name: &str,
    ftype: FieldType,
    sys: SysField,
    reference: Option<(&str, &str)>,
) -> FieldDef {
    FieldDef {
        name: name.into(),
        label: match sys {
            SysField::Id => "Record ID".into(),
            SysField::IsDeleted => "Deleted".into(),
            SysField::CreatedById => "Created By ID".into(),
            SysField::LastModifiedById => "Last Modified By ID".into(),
            SysField::SystemModstamp => "System Modstamp".into(),
            _ => split_camel(name),
        },
        ftype,
        length: default_length(ftype),
        precision: 0,
        scale: 0,
        nillable: false,
        createable: false,
        updateable: false,
        defaulted_on_create: true,
        unique: false,
        external_id: false,
        id_lookup: sys == SysField::Id,
        calculated: false,
        auto_number: None,
        custom: false,
        name_field: false,
        reference_to: reference
            .map(|(t, _)| vec![t.to_string()])
            .unwrap_or_default(),
        relationship_name: reference.map(|(_, r)| r.to_string()),
        child_relationship_name: None,
        picklist: vec![],
        restricted_picklist: false,
        default: None,
        sys: Some(sys),
    }
}

fn field_from_spec(spec: &FieldSpec, custom_object: bool) -> Result<FieldDef, String> {
    let custom = spec.name.ends_with("__c");
    if custom_object && !custom && spec.name != "Name" {
        return Err(format!(
            "field {} of a custom object must end in __c",
            spec.name
        ));
    }
    if spec.ftype == FieldType::Reference && spec.reference_to.is_empty() {
        return Err(format!("lookup {} needs referenceTo", spec.name));
    }
    let calculated = spec.read_only || spec.auto_number.is_some();
    let relationship_name = if spec.ftype == FieldType::Reference {
        Some(spec.relationship_name.clone().unwrap_or_else(|| {
            if custom {
                format!("{}__r", spec.name.trim_end_matches("__c"))
            } else {
                spec.name.trim_end_matches("Id").to_string()
            }
        }))
    } else {
        None
    };
    let default = match &spec.default {
        None if spec.ftype == FieldType::Boolean => Some(Val::Bool(false)),
        None => None,
        Some(serde_json::Value::Bool(b)) => Some(Val::Bool(*b)),
        Some(serde_json::Value::Number(n)) => Some(Val::Num(n.as_f64().unwrap_or_default())),
        Some(serde_json::Value::String(s)) => Some(Val::str(s.clone())),
        Some(other) => return Err(format!("field {}: unsupported default {other}", spec.name)),
    };
    let picklist = spec
        .picklist
        .iter()
        .map(|v| PicklistValue {
            value: v.clone(),
            default: matches!(&default, Some(Val::Str(d)) if **d == **v),
        })
        .collect();
    let (precision, scale) = match spec.ftype {
        FieldType::Int => (spec.precision.unwrap_or(9), 0),
        FieldType::Double | FieldType::Currency | FieldType::Percent => {
            (spec.precision.unwrap_or(18), spec.scale.unwrap_or(2))
        }
        _ => (0, 0),
    };
    Ok(FieldDef {
        label: spec
            .label
            .clone()
            .unwrap_or_else(|| split_camel(&spec.name)),
        name: spec.name.clone(),
        ftype: spec.ftype,
        length: spec.length.unwrap_or_else(|| default_length(spec.ftype)),
        precision,
        scale,
        nillable: !spec.required && spec.ftype != FieldType::Boolean,
        createable: !calculated,
        updateable: !calculated,
        defaulted_on_create: default.is_some() || spec.auto_number.is_some(),
        unique: spec.unique,
        external_id: spec.external_id,
        id_lookup: spec.external_id
            || spec.auto_number.is_some()
            || spec.name_field && spec.ftype == FieldType::String,
        calculated: spec.read_only,
        auto_number: spec.auto_number.clone(),
        custom,
        name_field: spec.name_field,
        reference_to: spec.reference_to.clone(),
        relationship_name,
        child_relationship_name: spec.child_relationship_name.clone(),
        picklist,
        restricted_picklist: spec.restricted,
        default,
        sys: None,
    })
}

impl ObjectDef {
    pub fn from_spec(spec: &ObjectSpec, key_prefix: String) -> Result<ObjectDef, SchemaError> {
        let err = |m: String| SchemaError::Object(spec.name.clone(), m);
        let custom = spec.name.ends_with("__c");
        let mut fields = vec![
            sys_field("Id", FieldType::Id, SysField::Id, None),
            sys_field("IsDeleted", FieldType::Boolean, SysField::IsDeleted, None),
        ];
        let mut user_fields = Vec::new();
        for f in &spec.fields {
            user_fields.push(field_from_spec(f, custom).map_err(err)?);
        }
        if custom && !user_fields.iter().any(|f| f.name == "Name") {
            let mut name = field_from_spec(
                &FieldSpec {
                    name: "Name".into(),
                    ftype: FieldType::String,
                    label: Some(format!(
                        "{} Name",
                        spec.label.as_deref().unwrap_or(&spec.name)
                    )),
                    length: Some(80),
                    precision: None,
                    scale: None,
                    required: false,
                    external_id: false,
                    unique: false,
                    reference_to: vec![],
                    relationship_name: None,
                    child_relationship_name: None,
                    picklist: vec![],
                    restricted: false,
                    default: None,
                    read_only: false,
                    auto_number: None,
                    name_field: true,
                },
                true,
            )
            .map_err(err)?;
            name.custom = false;
            user_fields.insert(0, name);
        }
        if spec.owned.unwrap_or(custom) {
            let mut owner = sys_field(
                "OwnerId",
                FieldType::Reference,
                SysField::Id,
                Some(("User", "Owner")),
            );
            owner.sys = None;
            owner.label = "Owner ID".into();
            owner.createable = true;
            owner.updateable = true;
            user_fields.insert(0, owner);
        }
        fields.extend(user_fields);
        fields.extend([
            sys_field(
                "CreatedDate",
                FieldType::Datetime,
                SysField::CreatedDate,
                None,
            ),
            sys_field(
                "CreatedById",
                FieldType::Reference,
                SysField::CreatedById,
                Some(("User", "CreatedBy")),
            ),
            sys_field(
                "LastModifiedDate",
                FieldType::Datetime,
                SysField::LastModifiedDate,
                None,
            ),
            sys_field(
                "LastModifiedById",
                FieldType::Reference,
                SysField::LastModifiedById,
                Some(("User", "LastModifiedBy")),
            ),
            sys_field(
                "SystemModstamp",
                FieldType::Datetime,
                SysField::SystemModstamp,
                None,
            ),
        ]);
        let mut by_name = HashMap::new();
        let mut by_relationship = HashMap::new();
        for (i, f) in fields.iter().enumerate() {
            if by_name.insert(f.name.to_ascii_lowercase(), i).is_some() {
                return Err(err(format!("field {} declared twice", f.name)));
            }
            if let Some(r) = &f.relationship_name {
                by_relationship.insert(r.to_ascii_lowercase(), i);
            }
        }
        if key_prefix.len() != 3 {
            return Err(err(format!(
                "key prefix {key_prefix} must have 3 characters"
            )));
        }
        Ok(ObjectDef {
            label: spec
                .label
                .clone()
                .unwrap_or_else(|| split_camel(&spec.name)),
            label_plural: spec.label_plural.clone().unwrap_or_else(|| {
                format!(
                    "{}s",
                    spec.label
                        .clone()
                        .unwrap_or_else(|| split_camel(&spec.name))
                )
            }),
            name: spec.name.clone(),
            key_prefix,
            custom,
            fields,
            by_name,
            by_relationship,
        })
    }

    /// Adds custom fields to an existing (standard) object.
    pub fn add_fields(&mut self, specs: &[FieldSpec]) -> Result<(), SchemaError> {
        let at = self.fields.len() - 5;
        for (offset, spec) in specs.iter().enumerate() {
            if !spec.name.ends_with("__c") {
                return Err(SchemaError::Object(
                    self.name.clone(),
                    format!("added field {} must end in __c", spec.name),
                ));
            }
            if self.field(&spec.name).is_some() {
                return Err(SchemaError::Object(
                    self.name.clone(),
                    format!("field {} exists already", spec.name),
                ));
            }
            let f = field_from_spec(spec, false)
                .map_err(|m| SchemaError::Object(self.name.clone(), m))?;
            self.fields.insert(at + offset, f);
        }
        self.by_name.clear();
        self.by_relationship.clear();
        for (i, f) in self.fields.iter().enumerate() {
            self.by_name.insert(f.name.to_ascii_lowercase(), i);
            if let Some(r) = &f.relationship_name {
                self.by_relationship.insert(r.to_ascii_lowercase(), i);
            }
        }
        Ok(())
    }
}

/// Every object of the org, by name and by key prefix.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub objects: Vec<ObjectDef>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<String, usize>,
    pub custom_specs: Vec<ObjectSpec>,
    pub added_fields: Vec<(String, Vec<FieldSpec>)>,
}

pub const STANDARD_OBJECTS: &str = include_str!("standard_objects.json");

impl Schema {
    pub fn standard() -> Schema {
        let specs: Vec<ObjectSpec> =
            serde_json::from_str(STANDARD_OBJECTS).expect("standard_objects.json is valid");
        let mut schema = Schema::default();
        for spec in specs {
            let prefix = spec
                .key_prefix
                .clone()
                .expect("standard objects declare their key prefix");
            let def = ObjectDef::from_spec(&spec, prefix).expect("standard object is valid");
            schema.push(def);
        }
        schema
    }

    fn push(&mut self, def: ObjectDef) -> usize {
        let i = self.objects.len();
        self.by_name.insert(def.name.to_ascii_lowercase(), i);
        self.by_prefix.insert(def.key_prefix.clone(), i);
        self.objects.push(def);
        i
    }

    pub fn object(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn by_prefix(&self, prefix: &str) -> Option<usize> {
        self.by_prefix.get(prefix).copied()
    }

    /// Adds a custom object from a seed; it gets the next free a0X prefix.
    pub fn add_custom(&mut self, spec: &ObjectSpec) -> Result<usize, SchemaError> {
        if !spec.name.ends_with("__c") {
            return Err(SchemaError::Object(
                spec.name.clone(),
                "custom object names end in __c".into(),
            ));
        }
        if self.object(&spec.name).is_some() {
            return Err(SchemaError::Object(
                spec.name.clone(),
                "object exists already".into(),
            ));
        }
        let prefix = match &spec.key_prefix {
            Some(p) => p.clone(),
            None => {
                let mut n = 0u32;
                loop {
                    let p = format!(
                        "a0{}",
                        char::from_digit(n % 36, 36).unwrap().to_ascii_uppercase()
                    );
                    let p = if n >= 36 {
                        format!("a{}{}", n / 36, &p[2..])
                    } else {
                        p
                    };
                    if !self.by_prefix.contains_key(&p) {
                        break p;
                    }
                    n += 1;
                }
            }
        };
        if self.by_prefix.contains_key(&prefix) {
            return Err(SchemaError::Object(
                spec.name.clone(),
                format!("key prefix {prefix} is taken"),
            ));
        }
        let def = ObjectDef::from_spec(spec, prefix)?;
        self.custom_specs.push(spec.clone());
        Ok(self.push(def))
    }

    pub fn add_fields(&mut self, object: &str, specs: &[FieldSpec]) -> Result<(), SchemaError> {
        let i = self
            .object(object)
            .ok_or_else(|| SchemaError::Object(object.to_string(), "no such object".into()))?;
        self.objects[i].add_fields(specs)?;
        self.added_fields
            .push((self.objects[i].name.clone(), specs.to_vec()));
        Ok(())
    }

    /// Lookups pointing at `object`: (child object, field index).
    pub fn children_of(&self, object: &str) -> Vec<(usize, usize)> {
        let mut out = vec![];
        for (oi, o) in self.objects.iter().enumerate() {
            for (fi, f) in o.fields.iter().enumerate() {
                if f.reference_to
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(object))
                {
                    out.push((oi, fi));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_objects_load() {
        let s = Schema::standard();
        for name in [
            "Account",
            "Contact",
            "Lead",
            "Opportunity",
            "Case",
            "Task",
            "Campaign",
            "Product2",
            "Pricebook2",
            "PricebookEntry",
            "User",
            "ContentVersion",
        ] {
            let o = &s.objects[s.object(name).unwrap_or_else(|| panic!("{name}"))];
            assert!(
                o.field("Id").is_some() && o.field("SystemModstamp").is_some(),
                "{name}"
            );
        }
        let contact = &s.objects[s.object("contact").unwrap()];
        assert_eq!(contact.key_prefix, "003");
        let acc = contact.relationship("Account").unwrap();
        assert_eq!(contact.fields[acc].name, "AccountId");
        assert_eq!(split_camel("BillingPostalCode"), "Billing Postal Code");
    }
}
