//! sObject collections: up to 200 records a call, with `allOrNone`.

use super::*;

const MAX_COLLECTION: usize = 200;

pub(super) enum CollectionOp {
    Create,
    Update,
    Upsert(usize, String),
}

pub(super) fn collection_result(
    id: Option<String>,
    outcome: Result<Option<bool>, RecordError>,
) -> Value {
    match outcome {
        Ok(created) => {
            let mut v = json!({"id": id, "success": true, "errors": []});
            if let Some(c) = created {
                v["created"] = json!(c);
            }
            v
        }
        Err(e) => {
            let mut v = json!({"success": false, "errors": [{"statusCode": e.code, "message": e.message, "fields": e.fields}]});
            if let Some(id) = id {
                v["id"] = json!(id);
            }
            v
        }
    }
}

pub(super) fn rolled_back(v: &mut Value) {
    let id = v.get("id").cloned();
    *v = json!({"success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]});
    if let Some(id) = id {
        v["id"] = id;
    }
}

pub(super) fn collection_write(org: &mut Org, req: &Req, op: CollectionOp) -> Reply {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let all_or_none = body
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(records) = body.get("records").and_then(Value::as_array) else {
        return Reply::error(
            400,
            "INVALID_FIELD",
            "The records field is required and must be an array",
        );
    };
    if records.len() > MAX_COLLECTION {
        return Reply::error(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        );
    }
    let txn = org.begin();
    let mut results = Vec::with_capacity(records.len());
    let mut failed = false;
    for rec in records {
        let (id, outcome) = collection_one(org, req, &op, rec);
        failed |= outcome.is_err();
        results.push((outcome.is_err(), collection_result(id, outcome)));
    }
    finish(org, txn, results, failed && all_or_none)
}

/// The record's `Id`: field names are case-insensitive, as in Salesforce
/// (jsforce sends `id`).
fn id_in(map: &serde_json::Map<String, Value>) -> Option<&str> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Id"))
        .and_then(|(_, v)| v.as_str())
}

pub(super) fn collection_one(
    org: &mut Org,
    req: &Req,
    op: &CollectionOp,
    rec: &Value,
) -> (Option<String>, Result<Option<bool>, RecordError>) {
    let Some(map) = rec.as_object() else {
        return (
            None,
            Err(RecordError::new(
                "INVALID_FIELD",
                "each record must be a JSON object",
            )),
        );
    };
    let type_name = map
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    let obj = match (op, type_name) {
        (CollectionOp::Upsert(o, _), _) => Some(*o),
        (_, Some(t)) => org.object(t),
        (_, None) => None,
    };
    let Some(o) = obj else {
        let msg = match type_name {
            Some(t) => format!("sObject type '{t}' is not supported."),
            None => "The sObject type is required in attributes.type".to_string(),
        };
        return (None, Err(RecordError::new("INVALID_TYPE", msg)));
    };
    if let Some(e) = org.lock_row_fault(o) {
        return (id_in(map).map(str::to_string), Err(e));
    }
    match op {
        CollectionOp::Create => {
            let r = org
                .json_to_values(o, map, true)
                .and_then(|vals| org.insert(o, vals, req.user));
            match r {
                Ok(id) => (Some(id), Ok(None)),
                Err(e) => (None, Err(e)),
            }
        }
        CollectionOp::Update => {
            let id = id_in(map).unwrap_or("").to_string();
            let num = match parse_id(&id).filter(|p| p.prefix == org.def(o).key_prefix) {
                Some(p) => p.num,
                None => {
                    return (
                        None,
                        Err(RecordError::new(
                            "MALFORMED_ID",
                            format!("{} ID: id value of incorrect type: {id}", org.def(o).label),
                        )
                        .with_fields(vec!["Id".into()])),
                    );
                }
            };
            let canonical = make_id(&org.def(o).key_prefix, num);
            let r = org
                .json_to_values(o, map, false)
                .and_then(|vals| org.update(o, num, vals, req.user));
            (Some(canonical), r.map(|_| None))
        }
        CollectionOp::Upsert(_, field) => {
            let fi = match org.def(o).field(field).filter(|&i| {
                org.def(o).fields[i].external_id || org.def(o).fields[i].sys == Some(SysField::Id)
            }) {
                Some(fi) => fi,
                None => {
                    return (
                        None,
                        Err(RecordError::new(
                            "INVALID_FIELD",
                            format!(
                                "Provided external ID field does not exist or is not accessible: {field}"
                            ),
                        )),
                    );
                }
            };
            let fname = org.def(o).fields[fi].name.clone();
            let value = map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&fname))
                .map(|(_, v)| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                });
            let value = value.unwrap_or_default();
            if value.is_empty() && org.def(o).fields[fi].sys != Some(SysField::Id) {
                return (
                    None,
                    Err(RecordError::new(
                        "MISSING_ARGUMENT",
                        format!("{fname} not specified"),
                    )),
                );
            }
            match upsert_one(org, o, fi, &value, map, req.user) {
                Ok((id, created)) => (Some(id), Ok(Some(created))),
                Err(Ok(e)) => (None, Err(e)),
                Err(Err(many)) => {
                    let ids: Vec<String> = many
                        .iter()
                        .map(|n| make_id(&org.def(o).key_prefix, *n))
                        .collect();
                    (
                        None,
                        Err(RecordError::new(
                            "DUPLICATE_EXTERNAL_ID",
                            format!(
                                "{fname}: more than one record found for external id field: {ids:?}"
                            ),
                        )),
                    )
                }
            }
        }
    }
}

pub(super) fn collection_delete(org: &mut Org, req: &Req) -> Reply {
    let ids: Vec<String> = req
        .param("ids")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        return Reply::error(400, "MISSING_ARGUMENT", "ids parameter is required");
    }
    if ids.len() > MAX_COLLECTION {
        return Reply::error(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        );
    }
    let all_or_none = req
        .param("allOrNone")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let txn = org.begin();
    let mut results = vec![];
    let mut failed = false;
    for id in &ids {
        let outcome = match org.locate(id) {
            Some((o, num)) => match org.lock_row_fault(o) {
                Some(e) => Err(e),
                None => org.delete(o, num),
            },
            None if looks_like_id(id) => {
                Err(RecordError::new("ENTITY_IS_DELETED", "entity is deleted"))
            }
            None => Err(RecordError::new(
                "MALFORMED_ID",
                format!("malformed id {id}"),
            )),
        };
        failed |= outcome.is_err();
        results.push((
            outcome.is_err(),
            collection_result(Some(id.clone()), outcome.map(|_| None)),
        ));
    }
    finish(org, txn, results, failed && all_or_none)
}

/// Commits, or with allOrNone and a failure rolls back and marks every
/// record that had succeeded as rolled back.
fn finish(
    org: &mut Org,
    txn: crate::org::Txn,
    results: Vec<(bool, Value)>,
    roll_back: bool,
) -> Reply {
    if !roll_back {
        org.commit(txn);
        return Reply::json(
            200,
            Value::Array(results.into_iter().map(|(_, v)| v).collect()),
        );
    }
    org.rollback(txn);
    let results = results
        .into_iter()
        .map(|(bad, mut v)| {
            if bad {
                // Nothing was created after all.
                if let Some(o) = v.as_object_mut() {
                    o.remove("created");
                }
            } else {
                rolled_back(&mut v);
            }
            v
        })
        .collect();
    Reply::json(200, Value::Array(results))
}

pub(super) fn retrieve_many(org: &Org, o: usize, req: &Req) -> Reply {
    let (ids, fields): (Vec<String>, Vec<String>) = if req.method == Method::POST {
        let body = match json_body(req) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let list = |k: &str| {
            body.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        (list("ids"), list("fields"))
    } else {
        let split = |k: &str| {
            req.param(k)
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        (split("ids"), split("fields"))
    };
    if fields.is_empty() {
        return Reply::error(400, "MISSING_ARGUMENT", "fields parameter is required");
    }
    if ids.len() > 2000 {
        return Reply::error(
            400,
            "EXCEEDED_ID_LIMIT",
            "cannot retrieve more than 2000 records in one call",
        );
    }
    let d = org.def(o);
    let mut fis = vec![];
    for f in &fields {
        match d.field(f) {
            Some(fi) => fis.push(fi),
            None => {
                return Reply::error(
                    400,
                    "INVALID_FIELD",
                    &format!("No such column '{f}' on entity '{}'.", d.name),
                );
            }
        }
    }
    let mut out = String::from("[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match parse_id(id)
            .filter(|p| p.prefix == d.key_prefix)
            .and_then(|p| org.record(o, p.num))
            .filter(|r| r.deleted_at.is_none())
        {
            Some(r) => out.push_str(&render_record(org, o, r, Some(&fis), &req.version)),
            None => out.push_str("null"),
        }
    }
    out.push(']');
    Reply::json(200, out)
}

// ---- /composite ---------------------------------------------------------
