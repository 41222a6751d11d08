//! One record at a time: create, read, update, delete, upsert by external
//! id, and the replication calls (`updated`, `deleted`).

use super::*;

pub(super) fn malformed_id(org: &Org, o: usize, id: &str) -> Reply {
    Reply::json(
        400,
        json!([{"errorCode": "MALFORMED_ID", "message": format!("{} ID: id value of incorrect type: {id}", org.def(o).label), "fields": ["Id"]}]),
    )
}

/// Finds the record behind an id segment, answering as Salesforce does for
/// malformed, foreign, missing and deleted ids.
pub(super) fn record_num(org: &Org, o: usize, id: &str) -> Result<u64, Reply> {
    if !looks_like_id(id) {
        return Err(Reply::error(
            404,
            "NOT_FOUND",
            &format!("Provided external ID field does not exist or is not accessible: {id}"),
        ));
    }
    if !id.starts_with(&org.def(o).key_prefix) {
        return Err(malformed_id(org, o, id));
    }
    // Well-formed but not one of ours (another instance): no such record.
    let Some(p) = parse_id(id) else {
        return Err(Reply::not_found());
    };
    match org.record(o, p.num) {
        None => Err(Reply::not_found()),
        Some(r) if r.deleted_at.is_some() => Err(Reply::json(
            404,
            json!([{"errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]),
        )),
        Some(_) => Ok(p.num),
    }
}

pub(super) fn field_list(org: &Org, o: usize, req: &Req) -> Result<Option<Vec<usize>>, Reply> {
    let Some(fields) = req.param("fields") else {
        return Ok(None);
    };
    let d = org.def(o);
    let mut out = vec![];
    for name in fields.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match d.field(name) {
            Some(fi) => out.push(fi),
            None => {
                return Err(Reply::error(
                    400,
                    "INVALID_FIELD",
                    &format!(
                        "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                        d.name
                    ),
                ));
            }
        }
    }
    Ok(Some(out))
}

pub(super) fn get_record(org: &Org, o: usize, id: &str, req: &Req) -> Reply {
    let num = match record_num(org, o, id) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let fields = match field_list(org, o, req) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let rec = org.record(o, num).expect("checked");
    Reply::json(
        200,
        render_record(org, o, rec, fields.as_deref(), &req.version),
    )
}

pub(super) fn body_object(req: &Req) -> Result<serde_json::Map<String, Value>, Reply> {
    match json_body(req)? {
        Value::Object(m) => Ok(m),
        _ => Err(Reply::error(
            400,
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of the sObject from a value that is not a JSON object",
        )),
    }
}

pub(super) fn create(org: &mut Org, o: usize, req: &Req) -> Reply {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = org
        .json_to_values(o, &body, true)
        .and_then(|vals| org.insert(o, vals, req.user));
    match result {
        Ok(id) => Reply::json(201, json!({"id": id, "success": true, "errors": []})),
        Err(e) => Reply::record_error(&e),
    }
}

pub(super) fn update(org: &mut Org, o: usize, id: &str, req: &Req) -> Reply {
    let num = match record_num(org, o, id) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let body = match body_object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match org
        .json_to_values(o, &body, false)
        .and_then(|vals| org.update(o, num, vals, req.user))
    {
        Ok(()) => Reply::empty(204),
        Err(e) => Reply::record_error(&e),
    }
}

pub(super) fn delete(org: &mut Org, o: usize, id: &str) -> Reply {
    let num = match record_num(org, o, id) {
        Ok(n) => n,
        Err(r) => return r,
    };
    match org.delete(o, num) {
        Ok(()) => Reply::empty(204),
        Err(e) => Reply::record_error(&e),
    }
}

/// The external id field named in a path, or the 404 Salesforce gives.
pub(super) fn external_field(org: &Org, o: usize, field: &str) -> Result<usize, Reply> {
    let d = org.def(o);
    match d.field(field) {
        Some(fi) if d.fields[fi].external_id || d.fields[fi].sys == Some(SysField::Id) => Ok(fi),
        _ => Err(Reply::error(
            404,
            "NOT_FOUND",
            &format!("Provided external ID field does not exist or is not accessible: {field}"),
        )),
    }
}

pub(super) fn matches_by_external(org: &Org, o: usize, fi: usize, value: &str) -> Vec<u64> {
    if org.def(o).fields[fi].sys == Some(SysField::Id) {
        return parse_id(value)
            .filter(|p| {
                p.prefix == org.def(o).key_prefix
                    && org.record(o, p.num).is_some_and(|r| r.deleted_at.is_none())
            })
            .map(|p| vec![p.num])
            .unwrap_or_default();
    }
    org.find_by_field(o, fi, value)
}

pub(super) fn multiple_choices(org: &Org, o: usize, nums: &[u64], req: &Req) -> Reply {
    let d = org.def(o);
    let urls: Vec<String> = nums
        .iter()
        .map(|n| {
            format!(
                "/services/data/v{}/sobjects/{}/{}",
                req.version,
                d.name,
                make_id(&d.key_prefix, *n)
            )
        })
        .collect();
    Reply::json(300, json!(urls))
}

pub(super) fn get_by_external(org: &Org, o: usize, field: &str, value: &str, req: &Req) -> Reply {
    let fi = match external_field(org, o, field) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match matches_by_external(org, o, fi, value).as_slice() {
        [] => Reply::not_found(),
        [n] => {
            let fields = match field_list(org, o, req) {
                Ok(f) => f,
                Err(r) => return r,
            };
            Reply::json(
                200,
                render_record(
                    org,
                    o,
                    org.record(o, *n).expect("found"),
                    fields.as_deref(),
                    &req.version,
                ),
            )
        }
        many => multiple_choices(org, o, many, req),
    }
}

pub(super) fn delete_by_external(
    org: &mut Org,
    o: usize,
    field: &str,
    value: &str,
    req: &Req,
) -> Reply {
    let fi = match external_field(org, o, field) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match matches_by_external(org, o, fi, value).as_slice() {
        [] => Reply::not_found(),
        [n] => match org.delete(o, *n) {
            Ok(()) => Reply::empty(204),
            Err(e) => Reply::record_error(&e),
        },
        many => multiple_choices(org, o, many, req),
    }
}

/// Upsert of one record: Ok((id, created)).
pub(super) fn upsert_one(
    org: &mut Org,
    o: usize,
    fi: usize,
    value: &str,
    body: &serde_json::Map<String, Value>,
    user: u64,
) -> Result<(String, bool), Result<RecordError, Vec<u64>>> {
    let is_id = org.def(o).fields[fi].sys == Some(SysField::Id);
    let mut body = body.clone();
    let ext_name = org.def(o).fields[fi].name.clone();
    body.retain(|k, _| !k.eq_ignore_ascii_case(&ext_name) || is_id);
    if is_id {
        body.retain(|k, _| !k.eq_ignore_ascii_case("Id"));
    }
    match matches_by_external(org, o, fi, value).as_slice() {
        [] => {
            let mut vals = org.json_to_values(o, &body, true).map_err(Ok)?;
            if !is_id {
                vals.push((fi, org.coerce_text(o, fi, value).map_err(Ok)?));
            }
            let id = org.insert(o, vals, user).map_err(Ok)?;
            Ok((id, true))
        }
        [n] => {
            let vals = org.json_to_values(o, &body, false).map_err(Ok)?;
            org.update(o, *n, vals, user).map_err(Ok)?;
            Ok((make_id(&org.def(o).key_prefix, *n), false))
        }
        many => Err(Err(many.to_vec())),
    }
}

pub(super) fn upsert(org: &mut Org, o: usize, field: &str, value: &str, req: &Req) -> Reply {
    let fi = match external_field(org, o, field) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let body = match body_object(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match upsert_one(org, o, fi, value, &body, req.user) {
        Ok((id, true)) => Reply::json(
            201,
            json!({"id": id, "success": true, "errors": [], "created": true}),
        ),
        Ok((id, false)) if req.version_num() >= 46.0 => Reply::json(
            200,
            json!({"id": id, "success": true, "errors": [], "created": false}),
        ),
        Ok(_) => Reply::empty(204),
        Err(Ok(e)) => Reply::record_error(&e),
        Err(Err(many)) => multiple_choices(org, o, &many, req),
    }
}

pub(super) fn updated(org: &Org, o: usize, req: &Req, deleted: bool) -> Reply {
    let (Some(start), Some(end)) = (
        req.param("start").and_then(parse_datetime),
        req.param("end").and_then(parse_datetime),
    ) else {
        return Reply::error(
            400,
            "MISSING_ARGUMENT",
            "start and end are required, as ISO 8601 date-times",
        );
    };
    let now = org.now();
    if end < start {
        return Reply::error(
            400,
            "INVALID_REPLICATION_DATE",
            "EndDate can not be before StartDate",
        );
    }
    if start < now - 30 * 86_400_000 {
        return Reply::error(
            400,
            "INVALID_REPLICATION_DATE",
            "startDate cannot be more than 30 days ago",
        );
    }
    // Salesforce covers whole minutes, up to the current one, and never
    // past the start of a transaction still open (a record not visible
    // yet, from its first write in it): a client resuming from
    // latestDateCovered then sees it commit, creation and all.
    let minute = |t: i64| (t / 60_000) * 60_000;
    let open_since = org.tables[o]
        .slots
        .iter()
        .flatten()
        .filter(|r| r.visible_at > now)
        .map(|r| r.open_since.unwrap_or(r.deleted_at.unwrap_or(r.modstamp)))
        .min();
    let latest = minute(end.min(now)).min(open_since.map_or(i64::MAX, minute));
    let d = org.def(o);
    let recs = org.tables[o].slots.iter().flatten();
    if deleted {
        let list: Vec<Value> = recs
            .filter_map(|r| r.deleted_at.filter(|t| *t >= start && *t < latest).map(|t| (r, t)))
            .map(|(r, t)| json!({"id": make_id(&d.key_prefix, r.num), "deletedDate": format_datetime(t)}))
            .collect();
        let earliest = org.tables[o]
            .slots
            .iter()
            .flatten()
            .filter_map(|r| r.deleted_at)
            .min()
            .unwrap_or(now);
        Reply::json(
            200,
            json!({"deletedRecords": list, "earliestDateAvailable": format_datetime(earliest), "latestDateCovered": format_datetime(latest)}),
        )
    } else {
        let ids: Vec<String> = recs
            .filter(|r| {
                r.deleted_at.is_none()
                    && r.modstamp >= start
                    && r.modstamp < latest
                    && r.visible_at <= now
            })
            .map(|r| make_id(&d.key_prefix, r.num))
            .collect();
        Reply::json(
            200,
            json!({"ids": ids, "latestDateCovered": format_datetime(latest)}),
        )
    }
}

// ---- query ------------------------------------------------------------
