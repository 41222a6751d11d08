//! `/composite`: subrequests run through the same dispatcher, with
//! `@{ref.path}` references and `allOrNone`.

use super::*;

const MAX_COMPOSITE: usize = 25;

pub(super) fn lookup_reference<'a>(
    results: &'a std::collections::HashMap<String, Value>,
    expr: &str,
) -> Option<&'a Value> {
    let mut parts = expr.split('.');
    let first = parts.next()?;
    let (name, idx) = split_index(first);
    let mut cur = results.get(name)?;
    if let Some(i) = idx {
        cur = cur.get(i)?;
    }
    for p in parts {
        let (key, idx) = split_index(p);
        cur = cur.get(key)?;
        if let Some(i) = idx {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

pub(super) fn split_index(s: &str) -> (&str, Option<usize>) {
    match s.split_once('[') {
        Some((k, rest)) => (k, rest.trim_end_matches(']').parse().ok()),
        None => (s, None),
    }
}

/// Replaces `@{ref.path}` with earlier results; Err names the bad reference.
pub(super) fn substitute(
    text: &str,
    results: &std::collections::HashMap<String, Value>,
    in_json_string: bool,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let expr = &after[..end];
        let v = lookup_reference(results, expr).ok_or_else(|| expr.to_string())?;
        let s = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if in_json_string {
            let escaped = serde_json::to_string(&s).expect("string");
            out.push_str(&escaped[1..escaped.len() - 1]);
        } else {
            out.push_str(&s);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub(super) fn composite(shared: &Arc<Shared>, org: &mut Org, req: &Req) -> Reply {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let all_or_none = body
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(subs) = body.get("compositeRequest").and_then(Value::as_array) else {
        return Reply::error(400, "JSON_PARSER_ERROR", "compositeRequest is required");
    };
    if subs.len() > MAX_COMPOSITE {
        return Reply::error(
            400,
            "LIMIT_EXCEEDED",
            "Composite request limit exceeded: a composite request may contain at most 25 subrequests",
        );
    }
    let mut ref_ids = std::collections::HashSet::new();
    for s in subs {
        let rid = s.get("referenceId").and_then(Value::as_str).unwrap_or("");
        if rid.is_empty() || !ref_ids.insert(rid) {
            return Reply::error(
                400,
                "INVALID_INPUT",
                &format!("Duplicate or missing referenceId: '{rid}'"),
            );
        }
    }
    let txn = org.begin();
    let mut results: std::collections::HashMap<String, Value> = Default::default();
    let mut responses: Vec<Value> = vec![];
    let mut failed_at = None;
    for (i, s) in subs.iter().enumerate() {
        let reference_id = s
            .get("referenceId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if failed_at.is_some() && all_or_none {
            responses.push(halted(&reference_id));
            continue;
        }
        let method = s
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let url = s.get("url").and_then(Value::as_str).unwrap_or("");
        let sub_body = s.get("body").map(|b| b.to_string());
        let resolved = substitute(url, &results, false).and_then(|u| {
            let b = sub_body
                .as_deref()
                .map(|b| substitute(b, &results, true))
                .transpose()?;
            Ok((u, b))
        });
        let (url, sub_body) = match resolved {
            Ok(x) => x,
            Err(expr) => {
                responses.push(json!({
                    "body": [{"errorCode": "PROCESSING_HALTED", "message": format!("Invalid reference specified. No value for {expr} found in {}. Provided referenceId ('{}') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_').", expr.split('.').next().unwrap_or(""), expr.split('.').next().unwrap_or(""))}],
                    "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference_id
                }));
                failed_at.get_or_insert(i);
                continue;
            }
        };
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let Some((version, segs)) = path.strip_prefix("/services/data/").and_then(split_path)
        else {
            responses.push(json!({"body": [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], "httpHeaders": {}, "httpStatusCode": 404, "referenceId": reference_id}));
            failed_at.get_or_insert(i);
            continue;
        };
        let mut headers = HeaderMap::new();
        if let Some(h) = s.get("httpHeaders").and_then(Value::as_object) {
            for (k, v) in h {
                if let (Ok(name), Some(Ok(val))) = (
                    axum::http::HeaderName::from_bytes(k.as_bytes()),
                    v.as_str().map(HeaderValue::from_str),
                ) {
                    headers.insert(name, val);
                }
            }
        }
        let sub = Req {
            method: Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET),
            version,
            segs,
            query: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            headers,
            body: Bytes::from(sub_body.unwrap_or_default()),
            user: req.user,
        };
        if matches!(
            sub.segs.first().map(String::as_str),
            Some("composite") | Some("jobs")
        ) {
            responses.push(json!({"body": [{"errorCode": "INVALID_API_INPUT", "message": "This resource is not supported in a composite request"}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference_id}));
            failed_at.get_or_insert(i);
            continue;
        }
        let reply = route_write(shared, org, &sub);
        let body: Value = if reply.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
        };
        let mut http_headers = serde_json::Map::new();
        if reply.status == 201
            && let Some(id) = body.get("id").and_then(Value::as_str)
        {
            let obj = sub.segs.get(1).cloned().unwrap_or_default();
            http_headers.insert(
                "Location".into(),
                json!(format!(
                    "/services/data/v{}/sobjects/{obj}/{id}",
                    sub.version
                )),
            );
        }
        if reply.status >= 400 {
            failed_at.get_or_insert(i);
        } else {
            results.insert(reference_id.clone(), body.clone());
        }
        responses.push(json!({"body": body, "httpHeaders": http_headers, "httpStatusCode": reply.status, "referenceId": reference_id}));
    }
    if let (Some(bad), true) = (failed_at, all_or_none) {
        org.rollback(txn);
        for (i, r) in responses.iter_mut().enumerate() {
            if i < bad {
                let rid = r["referenceId"].as_str().unwrap_or("").to_string();
                *r = halted(&rid);
            }
        }
    } else {
        org.commit(txn);
    }
    Reply::json(200, json!({"compositeResponse": responses}))
}

pub(super) fn halted(reference_id: &str) -> Value {
    json!({
        "body": [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}],
        "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference_id
    })
}

// ---- Bulk API 2.0 ---------------------------------------------------------
