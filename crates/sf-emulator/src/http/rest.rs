//! `/services/data/vXX.X/...`: one dispatcher for the REST and Bulk APIs, so
//! that `/composite` can run subrequests through the same code paths.

use super::{Shared, sf_error_body};
use crate::bulk::{IngestJob, QueryJob, delimiter_byte};
use crate::ids::{looks_like_id, make_id, parse_id};
use crate::org::{Org, RecordError};
use crate::query::{Cursor, Plan, render_aggregate, render_csv, render_page, render_record};
use crate::schema::{FieldType, SysField};
use crate::values::{format_datetime, parse_datetime};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde_json::{Value, json};
use std::io::Read;
use std::sync::Arc;

pub const MIN_VERSION: u32 = 31;
pub const MAX_VERSION: u32 = 62;
const MAX_JSON_BODY: usize = 10 * 1024 * 1024;
const MAX_BULK_UPLOAD: usize = 150 * 1024 * 1024;
const MAX_COLLECTION: usize = 200;
const MAX_COMPOSITE: usize = 25;
const DEFAULT_PAGE: usize = 2000;
const MAX_CURSORS: usize = 10_000;
const CURSOR_IDLE_MS: i64 = 15 * 60 * 1000;
const INGEST_CHUNK: usize = 2000;
const DEFAULT_QUERY_RESULTS_PAGE: usize = 50_000;

/// One request to the REST API, already authenticated.
pub struct Req {
    pub method: Method,
    pub version: String,
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub user: u64,
}

impl Req {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn version_num(&self) -> f64 {
        self.version.parse().unwrap_or(MAX_VERSION as f64)
    }
}

pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, v: impl ToString) -> Reply {
        Reply {
            status,
            content_type: "application/json;charset=UTF-8",
            body: v.to_string().into_bytes(),
            headers: vec![],
        }
    }
    fn empty(status: u16) -> Reply {
        Reply {
            status,
            content_type: "",
            body: vec![],
            headers: vec![],
        }
    }
    fn csv(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: "text/csv",
            body,
            headers: vec![],
        }
    }
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(status, sf_error_body(code, message, &[]))
    }
    fn record_error(e: &RecordError) -> Reply {
        let status = match e.code.as_str() {
            "NOT_FOUND" | "ENTITY_IS_DELETED" => 404,
            _ => 400,
        };
        Reply::json(
            status,
            json!([{ "message": e.message, "errorCode": e.code, "fields": e.fields }]),
        )
    }
    fn not_found() -> Reply {
        Reply::error(404, "NOT_FOUND", "The requested resource does not exist")
    }
    fn method_not_allowed(req: &Req) -> Reply {
        Reply::error(
            405,
            "METHOD_NOT_ALLOWED",
            &format!(
                "HTTP Method '{}' not allowed. Allowed are GET,PATCH,POST,DELETE,HEAD",
                req.method
            ),
        )
    }
}

fn version_label(v: u32) -> String {
    let season = ["Winter", "Spring", "Summer"][((v - 20) % 3) as usize];
    let year = 11 + (v - 20) / 3;
    format!("{season} '{year:02}")
}

pub async fn versions() -> Response<Body> {
    let list: Vec<Value> = (MIN_VERSION..=MAX_VERSION)
        .map(|v| json!({"label": version_label(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")}))
        .collect();
    super::json_response(StatusCode::OK, Value::Array(list).to_string())
}

fn decode_segment(s: &str) -> String {
    percent_decode(s)
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits `vNN.N/a/b` into the version and the segments; None if the
/// version is not one we serve.
pub fn split_path(rest: &str) -> Option<(String, Vec<String>)> {
    let mut parts = rest.split('/');
    let v = parts.next()?.strip_prefix('v')?;
    let (major, minor) = v.split_once('.')?;
    let major: u32 = major.parse().ok()?;
    if minor != "0" || !(MIN_VERSION..=MAX_VERSION).contains(&major) {
        return None;
    }
    Some((
        format!("{major}.0"),
        parts
            .filter(|s| !s.is_empty())
            .map(decode_segment)
            .collect(),
    ))
}

fn to_response(shared: &Shared, reply: Reply, limit: u64) -> Response<Body> {
    let mut r = Response::new(Body::from(reply.body));
    *r.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    if !reply.content_type.is_empty() {
        h.insert("content-type", HeaderValue::from_static(reply.content_type));
    }
    h.insert(
        "sforce-limit-info",
        HeaderValue::from_str(&shared.limit_info(limit)).expect("ascii"),
    );
    for (k, v) in reply.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    r
}

pub async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let limit = shared.org.read().settings.daily_api_limit;
    let rest = uri.path().strip_prefix("/services/data/").unwrap_or("");
    let Some((version, segs)) = split_path(rest) else {
        return to_response(&shared, Reply::not_found(), limit);
    };
    let Some(user) = super::oauth::authenticate(&shared, &headers) else {
        let mut r = to_response(
            &shared,
            Reply::error(401, "INVALID_SESSION_ID", "Session expired or invalid"),
            limit,
        );
        r.headers_mut()
            .insert("www-authenticate", HeaderValue::from_static("Token"));
        return r;
    };
    let now = shared.org.read().now();
    let (allowed, _) = shared.count_api_call(now, limit);
    if !allowed {
        return to_response(
            &shared,
            Reply::error(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            ),
            limit,
        );
    }
    let body = match headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
    {
        Some(enc) if enc.eq_ignore_ascii_case("gzip") => {
            let mut out = Vec::new();
            if flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .is_err()
            {
                return to_response(
                    &shared,
                    Reply::error(
                        400,
                        "JSON_PARSER_ERROR",
                        "The request body is not valid gzip",
                    ),
                    limit,
                );
            }
            Bytes::from(out)
        }
        _ => body,
    };
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let req = Req {
        method,
        version,
        segs,
        query,
        headers,
        body,
        user,
    };
    let worker = shared.clone();
    let reply = tokio::task::spawn_blocking(move || dispatch(&worker, &req))
        .await
        .unwrap_or_else(|e| {
            Reply::error(
                500,
                "UNKNOWN_EXCEPTION",
                &format!("An unexpected error occurred: {e}"),
            )
        });
    to_response(&shared, reply, limit)
}

/// Runs one request: GETs under a read lock, everything else under the
/// write lock.
pub fn dispatch(shared: &Arc<Shared>, req: &Req) -> Reply {
    if req.method == Method::GET || req.method == Method::HEAD {
        let org = shared.org.read();
        return route_read(shared, &org, req);
    }
    let mut org = shared.org.write();
    let reply = route_write(shared, &mut org, req);
    shared.touch();
    reply
}

fn route_read(shared: &Arc<Shared>, org: &Org, req: &Req) -> Reply {
    let s: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        [] => resources(req),
        ["limits"] => limits(shared, org),
        ["sobjects"] => describe_global(org, req),
        ["sobjects", obj] => with_object(org, obj, |o| sobject_info(org, o, req)),
        ["sobjects", obj, "describe"] => {
            with_object(org, obj, |o| Reply::json(200, describe(org, o, req)))
        }
        ["sobjects", obj, "updated"] => with_object(org, obj, |o| updated(org, o, req, false)),
        ["sobjects", obj, "deleted"] => with_object(org, obj, |o| updated(org, o, req, true)),
        ["sobjects", obj, id] => with_object(org, obj, |o| get_record(org, o, id, req)),
        ["sobjects", obj, field, value] => {
            with_object(org, obj, |o| get_by_external(org, o, field, value, req))
        }
        ["query"] => start_query(shared, org, req, false),
        ["queryAll"] => start_query(shared, org, req, true),
        ["query", locator] | ["queryAll", locator] => next_page(shared, org, locator),
        ["search"] => crate::sosl::search(org, req.param("q").unwrap_or(""), &req.version),
        ["composite", "sobjects", obj] => with_object(org, obj, |o| retrieve_many(org, o, req)),
        ["jobs", "ingest"] => list_jobs(org, false),
        ["jobs", "query"] => list_jobs(org, true),
        ["jobs", "ingest", id] => match org.bulk.ingest.get(*id) {
            Some(j) => Reply::json(200, j.info(true)),
            None => job_not_found(),
        },
        [
            "jobs",
            "ingest",
            id,
            kind @ ("successfulResults" | "failedResults" | "unprocessedrecords"),
        ] => match org.bulk.ingest.get(*id) {
            Some(j) => Reply::csv(j.results_csv(kind)),
            None => job_not_found(),
        },
        ["jobs", "query", id] => match org.bulk.query.get(*id) {
            Some(j) => Reply::json(200, j.info(true)),
            None => job_not_found(),
        },
        ["jobs", "query", id, "results"] => query_results(org, id, req),
        _ => Reply::not_found(),
    }
}

fn route_write(shared: &Arc<Shared>, org: &mut Org, req: &Req) -> Reply {
    if req.method == Method::GET {
        return route_read(shared, org, req);
    }
    let s: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let m = req.method.clone();
    match (m, s.as_slice()) {
        (Method::POST, ["sobjects", obj]) => {
            with_object_mut(org, obj, |org, o| create(org, o, req))
        }
        (Method::PATCH, ["sobjects", obj, id]) => {
            with_object_mut(org, obj, |org, o| update(org, o, id, req))
        }
        (Method::DELETE, ["sobjects", obj, id]) => {
            with_object_mut(org, obj, |org, o| delete(org, o, id))
        }
        (Method::PATCH, ["sobjects", obj, field, value]) => {
            with_object_mut(org, obj, |org, o| upsert(org, o, field, value, req))
        }
        (Method::DELETE, ["sobjects", obj, field, value]) => with_object_mut(org, obj, |org, o| {
            delete_by_external(org, o, field, value, req)
        }),
        (Method::POST, ["composite"]) => composite(shared, org, req),
        (Method::POST, ["composite", "sobjects"]) => {
            collection_write(org, req, CollectionOp::Create)
        }
        (Method::PATCH, ["composite", "sobjects"]) => {
            collection_write(org, req, CollectionOp::Update)
        }
        (Method::PATCH, ["composite", "sobjects", obj, field]) => {
            with_object_mut(org, obj, |org, o| {
                collection_write(org, req, CollectionOp::Upsert(o, field.to_string()))
            })
        }
        (Method::DELETE, ["composite", "sobjects"]) => collection_delete(org, req),
        (Method::POST, ["composite", "sobjects", obj]) => {
            with_object_mut(org, obj, |org, o| retrieve_many(org, o, req))
        }
        (Method::POST, ["jobs", "ingest"]) => create_ingest_job(org, req),
        (Method::PUT, ["jobs", "ingest", id, "batches"]) => upload_batch(org, id, req),
        (Method::PATCH, ["jobs", "ingest", id]) => patch_ingest_job(shared, org, id, req),
        (Method::DELETE, ["jobs", "ingest", id]) => {
            if org.bulk.ingest.remove(*id).is_some() {
                Reply::empty(204)
            } else {
                job_not_found()
            }
        }
        (Method::POST, ["jobs", "query"]) => create_query_job(shared, org, req),
        (Method::PATCH, ["jobs", "query", id]) => match org.bulk.query.get_mut(*id) {
            Some(j) => {
                if j.state != "JobComplete" {
                    j.state = "Aborted".into();
                }
                Reply::json(200, j.info(false))
            }
            None => job_not_found(),
        },
        (Method::DELETE, ["jobs", "query", id]) => {
            if org.bulk.query.remove(*id).is_some() {
                Reply::empty(204)
            } else {
                job_not_found()
            }
        }
        (Method::DELETE, ["query", _] | ["queryAll", _]) => Reply::empty(204),
        (_, [])
        | (_, ["limits"])
        | (_, ["sobjects"])
        | (_, ["query"])
        | (_, ["queryAll"])
        | (_, ["search"]) => Reply::method_not_allowed(req),
        _ => Reply::not_found(),
    }
}

fn with_object(org: &Org, name: &str, f: impl FnOnce(usize) -> Reply) -> Reply {
    match org.object(name) {
        Some(o) => f(o),
        None => Reply::error(404, "NOT_FOUND", "The requested resource does not exist"),
    }
}

fn with_object_mut(org: &mut Org, name: &str, f: impl FnOnce(&mut Org, usize) -> Reply) -> Reply {
    match org.object(name) {
        Some(o) => f(org, o),
        None => Reply::error(404, "NOT_FOUND", "The requested resource does not exist"),
    }
}

fn job_not_found() -> Reply {
    Reply::error(404, "NOT_FOUND", "The requested resource does not exist")
}

/// Parses a JSON body, answering 415 for another content type, 413 past 10 MB
/// and JSON_PARSER_ERROR for bad JSON.
fn json_body(req: &Req) -> Result<Value, Reply> {
    if let Some(ct) = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        && !ct.to_ascii_lowercase().starts_with("application/json")
    {
        return Err(Reply::error(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            &format!("Content-Type header specified in HTTP request is not supported: {ct}"),
        ));
    }
    if req.body.len() > MAX_JSON_BODY {
        return Err(Reply::error(
            413,
            "REQUEST_ENTITY_TOO_LARGE",
            "Request body exceeds the 10 MB limit for JSON",
        ));
    }
    serde_json::from_slice(&req.body).map_err(|e| {
        Reply::error(
            400,
            "JSON_PARSER_ERROR",
            &format!(
                "{} at [line:{}, column:{}]",
                e.to_string().split(" at line").next().unwrap_or(""),
                e.line(),
                e.column()
            ),
        )
    })
}

fn resources(req: &Req) -> Reply {
    let v = &req.version;
    let names = [
        "sobjects",
        "query",
        "queryAll",
        "search",
        "limits",
        "composite",
        "jobs",
        "recent",
        "tooling",
        "metadata",
        "analytics",
        "connect",
        "chatter",
        "tabs",
        "appMenu",
        "quickActions",
        "process",
    ];
    let map: serde_json::Map<String, Value> = names
        .iter()
        .map(|n| (n.to_string(), json!(format!("/services/data/v{v}/{n}"))))
        .collect();
    Reply::json(200, Value::Object(map))
}

fn limits(shared: &Shared, org: &Org) -> Reply {
    let max = org.settings.daily_api_limit;
    let used = shared.api_used.load(std::sync::atomic::Ordering::Acquire);
    let bulk_jobs = org.bulk.ingest.len() as u64;
    let query_jobs = org.bulk.query.len() as u64;
    let records: usize = org.tables.iter().map(|t| t.live_count()).sum();
    let data_mb = (records as u64 * 2 / 1024) as i64;
    let pair = |max: i64, remaining: i64| json!({"Max": max, "Remaining": remaining.max(0)});
    Reply::json(
        200,
        json!({
            "ConcurrentAsyncGetReportInstances": pair(200, 200),
            "DailyApiRequests": pair(max as i64, max as i64 - used as i64),
            "DailyAsyncApexExecutions": pair(250000, 250000),
            "DailyBulkApiBatches": pair(15000, 15000 - bulk_jobs as i64),
            "DailyBulkV2QueryFileStorageMB": pair(976562, 976562),
            "DailyBulkV2QueryJobs": pair(10000, 10000 - query_jobs as i64),
            "DailyStreamingApiEvents": pair(10000, 10000),
            "DataStorageMB": pair(1024, 1024 - data_mb),
            "FileStorageMB": pair(20480, 20480),
            "HourlyODataCallout": pair(20000, 20000),
            "SingleEmail": pair(5000, 5000),
        }),
    )
}

fn object_urls(name: &str, v: &str) -> Value {
    json!({
        "sobject": format!("/services/data/v{v}/sobjects/{name}"),
        "describe": format!("/services/data/v{v}/sobjects/{name}/describe"),
        "rowTemplate": format!("/services/data/v{v}/sobjects/{name}/{{ID}}"),
    })
}

fn global_entry(org: &Org, o: usize, v: &str) -> Value {
    let d = org.def(o);
    let system_only = d.name == "User";
    json!({
        "activateable": false, "associateEntityType": null, "associateParentEntity": null,
        "createable": true, "custom": d.custom, "customSetting": false, "deepCloneable": false,
        "deletable": !system_only, "deprecatedAndHidden": false, "feedEnabled": false,
        "hasSubtypes": false, "isInterface": false, "isSubtype": false,
        "keyPrefix": d.key_prefix, "label": d.label, "labelPlural": d.label_plural,
        "layoutable": true, "mergeable": matches!(d.name.as_str(), "Account" | "Contact" | "Lead" | "Case"),
        "mruEnabled": true, "name": d.name, "queryable": true, "replicateable": true,
        "retrieveable": true, "searchable": true, "triggerable": true, "undeletable": !system_only,
        "updateable": true, "urls": object_urls(&d.name, v),
    })
}

fn describe_global(org: &Org, req: &Req) -> Reply {
    let list: Vec<Value> = (0..org.schema.objects.len())
        .map(|o| global_entry(org, o, &req.version))
        .collect();
    Reply::json(
        200,
        json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}),
    )
}

fn sobject_info(org: &Org, o: usize, req: &Req) -> Reply {
    let d = org.def(o);
    let recent: Vec<Value> = org.tables[o]
        .slots
        .iter()
        .rev()
        .flatten()
        .filter(|r| r.deleted_at.is_none())
        .take(5)
        .map(|r| {
            let mut m = json!({"attributes": {"type": d.name, "url": format!("/services/data/v{}/sobjects/{}/{}", req.version, d.name, make_id(&d.key_prefix, r.num))}, "Id": make_id(&d.key_prefix, r.num)});
            if let Some(nf) = d.name_field() {
                m[&d.fields[nf].name] = serde_json::from_str(&render_value(org, o, r, nf)).unwrap_or(Value::Null);
            }
            m
        })
        .collect();
    Reply::json(
        200,
        json!({"objectDescribe": global_entry(org, o, &req.version), "recentItems": recent}),
    )
}

fn render_value(org: &Org, o: usize, r: &crate::org::Record, fi: usize) -> String {
    let mut s = String::new();
    crate::query::push_json_val(&mut s, &org.value(o, r, fi), org.def(o).fields[fi].ftype);
    s
}

fn describe(org: &Org, o: usize, req: &Req) -> Value {
    let d = org.def(o);
    let fields: Vec<Value> = d
        .fields
        .iter()
        .map(|f| {
            let numeric = f.ftype.is_numeric();
            json!({
                "aggregatable": f.ftype != FieldType::Textarea,
                "autoNumber": f.auto_number.is_some(),
                "byteLength": if f.ftype.is_text() || matches!(f.ftype, FieldType::Id | FieldType::Reference) { f.length * 3 } else { 0 },
                "calculated": f.calculated,
                "calculatedFormula": null,
                "cascadeDelete": false,
                "caseSensitive": false,
                "createable": f.createable,
                "custom": f.custom,
                // Picklist defaults show in picklistValues, not here.
                "defaultValue": match &f.default { Some(crate::values::Val::Bool(b)) => json!(b), _ => Value::Null },
                "defaultValueFormula": null,
                "defaultedOnCreate": f.defaulted_on_create,
                "dependentPicklist": false,
                "deprecatedAndHidden": false,
                "digits": if f.ftype == FieldType::Int { f.precision } else { 0 },
                "externalId": f.external_id,
                "filterable": f.ftype != FieldType::Textarea || f.length <= 255,
                "groupable": !numeric && f.ftype != FieldType::Textarea,
                "htmlFormatted": false,
                "idLookup": f.id_lookup,
                "inlineHelpText": null,
                "label": f.label,
                "length": if f.ftype.is_text() || matches!(f.ftype, FieldType::Id | FieldType::Reference) { f.length } else { 0 },
                "name": f.name,
                "nameField": f.name_field,
                "namePointing": f.reference_to.len() > 1,
                "nillable": f.nillable,
                "permissionable": f.nillable && f.sys.is_none(),
                "picklistValues": f.picklist.iter().map(|p| json!({"active": true, "defaultValue": p.default, "label": p.value, "validFor": null, "value": p.value})).collect::<Vec<_>>(),
                "polymorphicForeignKey": f.reference_to.len() > 1,
                "precision": if matches!(f.ftype, FieldType::Double | FieldType::Currency | FieldType::Percent) { f.precision } else { 0 },
                "referenceTargetField": null,
                "referenceTo": f.reference_to,
                "relationshipName": f.relationship_name,
                "relationshipOrder": null,
                "restrictedPicklist": f.restricted_picklist,
                "scale": f.scale,
                "soapType": f.ftype.soap_type(),
                "sortable": f.ftype != FieldType::Textarea || f.length <= 255,
                "type": f.ftype.name(),
                "unique": f.unique,
                "updateable": f.updateable,
                "writeRequiresMasterRead": false,
            })
        })
        .collect();
    let children: Vec<Value> = org
        .schema
        .children_of(&d.name)
        .into_iter()
        .map(|(co, cf)| {
            let f = &org.def(co).fields[cf];
            json!({
                "cascadeDelete": false,
                "childSObject": org.def(co).name,
                "deprecatedAndHidden": false,
                "field": f.name,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": f.child_relationship_name,
                "restrictedDelete": false,
            })
        })
        .collect();
    let mut v = global_entry(org, o, &req.version);
    let m = v.as_object_mut().expect("object");
    m.insert("fields".into(), Value::Array(fields));
    m.insert("childRelationships".into(), Value::Array(children));
    m.insert(
        "recordTypeInfos".into(),
        json!([{"active": true, "available": true, "defaultRecordTypeMapping": true, "developerName": "Master", "master": true, "name": "Master", "recordTypeId": "012000000000000AAA", "urls": {"layout": format!("/services/data/v{}/sobjects/{}/describe/layouts/012000000000000AAA", req.version, d.name)}}]),
    );
    m.insert("compactLayoutable".into(), json!(true));
    m.insert("listviewable".into(), Value::Null);
    m.insert("lookupLayoutable".into(), Value::Null);
    m.insert("networkScopeFieldName".into(), Value::Null);
    m.insert("searchLayoutable".into(), json!(true));
    m.insert(
        "supportedScopes".into(),
        json!([{"label": format!("All {}", d.label_plural.to_lowercase()), "name": "everything"}]),
    );
    m.insert("actionOverrides".into(), json!([]));
    m.insert("namedLayoutInfos".into(), json!([]));
    m.insert("sobjectDescribeOption".into(), json!("FULL"));
    v
}

fn malformed_id(org: &Org, o: usize, id: &str) -> Reply {
    Reply::json(
        400,
        json!([{"errorCode": "MALFORMED_ID", "message": format!("{} ID: id value of incorrect type: {id}", org.def(o).label), "fields": ["Id"]}]),
    )
}

/// Finds the record behind an id segment, answering as Salesforce does for
/// malformed, foreign, missing and deleted ids.
fn record_num(org: &Org, o: usize, id: &str) -> Result<u64, Reply> {
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

fn field_list(org: &Org, o: usize, req: &Req) -> Result<Option<Vec<usize>>, Reply> {
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

fn get_record(org: &Org, o: usize, id: &str, req: &Req) -> Reply {
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

fn body_object(req: &Req) -> Result<serde_json::Map<String, Value>, Reply> {
    match json_body(req)? {
        Value::Object(m) => Ok(m),
        _ => Err(Reply::error(
            400,
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of the sObject from a value that is not a JSON object",
        )),
    }
}

fn create(org: &mut Org, o: usize, req: &Req) -> Reply {
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

fn update(org: &mut Org, o: usize, id: &str, req: &Req) -> Reply {
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

fn delete(org: &mut Org, o: usize, id: &str) -> Reply {
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
fn external_field(org: &Org, o: usize, field: &str) -> Result<usize, Reply> {
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

fn matches_by_external(org: &Org, o: usize, fi: usize, value: &str) -> Vec<u64> {
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

fn multiple_choices(org: &Org, o: usize, nums: &[u64], req: &Req) -> Reply {
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

fn get_by_external(org: &Org, o: usize, field: &str, value: &str, req: &Req) -> Reply {
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

fn delete_by_external(org: &mut Org, o: usize, field: &str, value: &str, req: &Req) -> Reply {
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
fn upsert_one(
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

fn upsert(org: &mut Org, o: usize, field: &str, value: &str, req: &Req) -> Reply {
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

fn updated(org: &Org, o: usize, req: &Req, deleted: bool) -> Reply {
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
    // Salesforce covers whole minutes, up to the current one.
    let latest = (end.min(now) / 60_000) * 60_000;
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

fn soql_error(e: crate::soql::SoqlError) -> Reply {
    Reply::error(400, e.code, &e.message)
}

fn page_size(req: &Req) -> usize {
    req.headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|kv| kv.trim().strip_prefix("batchSize="))
                .and_then(|n| n.trim().parse::<usize>().ok())
        })
        .map(|n| n.clamp(200, 2000))
        .unwrap_or(DEFAULT_PAGE)
}

fn start_query(shared: &Shared, org: &Org, req: &Req, all: bool) -> Reply {
    let Some(q) = req.param("q") else {
        return Reply::error(400, "MALFORMED_QUERY", "A query string has to be specified");
    };
    let plan = match Plan::compile(org, q) {
        Ok(p) => p,
        Err(e) => return soql_error(e),
    };
    let nums = plan.execute(org, all);
    if plan.count_all || !plan.count_fields.is_empty() {
        return Reply::json(200, render_aggregate(org, &plan, &nums));
    }
    let cursor = Cursor {
        plan: Arc::new(plan),
        nums: Arc::new(nums),
        page_size: page_size(req),
        version: req.version.clone(),
        last_used: org.now(),
    };
    let cursor_id = make_id("01g", rand::random::<u32>() as u64 + 1);
    let body = render_page(org, &cursor, 0, &cursor_id);
    if cursor.nums.len() > cursor.page_size {
        let mut cursors = shared.cursors.lock();
        let now = org.now();
        cursors.retain(|_, c| now - c.last_used < CURSOR_IDLE_MS);
        if cursors.len() >= MAX_CURSORS
            && let Some(oldest) = cursors
                .iter()
                .min_by_key(|(_, c)| c.last_used)
                .map(|(k, _)| k.clone())
        {
            cursors.remove(&oldest);
        }
        cursors.insert(cursor_id, cursor);
    }
    Reply::json(200, body)
}

fn next_page(shared: &Shared, org: &Org, locator: &str) -> Reply {
    let invalid = || Reply::error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    let Some((id, offset)) = locator.rsplit_once('-') else {
        return invalid();
    };
    let Ok(offset) = offset.parse::<usize>() else {
        return invalid();
    };
    let cursor = {
        let mut cursors = shared.cursors.lock();
        let Some(c) = cursors.get_mut(id) else {
            return invalid();
        };
        c.last_used = org.now();
        c.clone()
    };
    if offset > cursor.nums.len() {
        return invalid();
    }
    let body = render_page(org, &cursor, offset, id);
    if offset + cursor.page_size >= cursor.nums.len() {
        shared.cursors.lock().remove(id);
    }
    Reply::json(200, body)
}

// ---- sObject collections -----------------------------------------------

enum CollectionOp {
    Create,
    Update,
    Upsert(usize, String),
}

fn collection_result(id: Option<String>, outcome: Result<Option<bool>, RecordError>) -> Value {
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

fn rolled_back(v: &mut Value) {
    let id = v.get("id").cloned();
    *v = json!({"success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]});
    if let Some(id) = id {
        v["id"] = id;
    }
}

fn collection_write(org: &mut Org, req: &Req, op: CollectionOp) -> Reply {
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
    let results: Vec<Value> = if failed && all_or_none {
        org.rollback(txn);
        results
            .into_iter()
            .map(|(bad, mut v)| {
                if !bad {
                    rolled_back(&mut v);
                } else if let Some(o) = v.as_object_mut() {
                    o.remove("created");
                }
                v
            })
            .collect()
    } else {
        org.commit(txn);
        results.into_iter().map(|(_, v)| v).collect()
    };
    Reply::json(200, Value::Array(results))
}

fn collection_one(
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
        let id = map.get("Id").and_then(Value::as_str).map(str::to_string);
        return (id, Err(e));
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
            let id = map
                .get("Id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
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

fn collection_delete(org: &mut Org, req: &Req) -> Reply {
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
    let results: Vec<Value> = if failed && all_or_none {
        org.rollback(txn);
        results
            .into_iter()
            .map(|(bad, mut v)| {
                if !bad {
                    rolled_back(&mut v)
                }
                v
            })
            .collect()
    } else {
        org.commit(txn);
        results.into_iter().map(|(_, v)| v).collect()
    };
    Reply::json(200, Value::Array(results))
}

fn retrieve_many(org: &Org, o: usize, req: &Req) -> Reply {
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

fn lookup_reference<'a>(
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

fn split_index(s: &str) -> (&str, Option<usize>) {
    match s.split_once('[') {
        Some((k, rest)) => (k, rest.trim_end_matches(']').parse().ok()),
        None => (s, None),
    }
}

/// Replaces `@{ref.path}` with earlier results; Err names the bad reference.
fn substitute(
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

fn composite(shared: &Arc<Shared>, org: &mut Org, req: &Req) -> Reply {
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

fn halted(reference_id: &str) -> Value {
    json!({
        "body": [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}],
        "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference_id
    })
}

// ---- Bulk API 2.0 ---------------------------------------------------------

fn list_jobs(org: &Org, query: bool) -> Reply {
    let mut records: Vec<(i64, Value)> = if query {
        org.bulk
            .query
            .values()
            .map(|j| (j.created, j.info(false)))
            .collect()
    } else {
        org.bulk
            .ingest
            .values()
            .map(|j| (j.created, j.info(false)))
            .collect()
    };
    records.sort_by_key(|(t, _)| *t);
    let records: Vec<Value> = records.into_iter().map(|(_, v)| v).collect();
    Reply::json(
        200,
        json!({"done": true, "records": records, "nextRecordsUrl": null}),
    )
}

fn create_ingest_job(org: &mut Org, req: &Req) -> Reply {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(object) = s("object") else {
        return Reply::error(400, "INVALIDJOB", "InvalidJob : Object is required");
    };
    let Some(o) = org.object(&object) else {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Unable to find object: {object}"),
        );
    };
    let operation = s("operation").unwrap_or_default();
    if !["insert", "update", "upsert", "delete", "hardDelete"].contains(&operation.as_str()) {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid operation: {operation}"),
        );
    }
    let ext = s("externalIdFieldName");
    if operation == "upsert" {
        let Some(e) = &ext else {
            return Reply::error(
                400,
                "INVALIDJOB",
                "InvalidJob : External ID was blank for upsert",
            );
        };
        let d = org.def(o);
        if !d
            .field(e)
            .is_some_and(|fi| d.fields[fi].external_id || d.fields[fi].sys == Some(SysField::Id))
        {
            return Reply::error(
                400,
                "INVALIDJOB",
                &format!(
                    "InvalidJob : Field name provided, {e} is not an External ID or indexed field for {}",
                    d.name
                ),
            );
        }
    }
    let line_ending = s("lineEnding").unwrap_or_else(|| "LF".into());
    let delimiter = s("columnDelimiter").unwrap_or_else(|| "COMMA".into());
    if line_ending != "LF" && line_ending != "CRLF" {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid lineEnding: {line_ending}"),
        );
    }
    if delimiter_byte(&delimiter).is_none() {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid columnDelimiter: {delimiter}"),
        );
    }
    if s("contentType").is_some_and(|c| c != "CSV") {
        return Reply::error(
            400,
            "INVALIDJOB",
            "InvalidJob : Only CSV content is supported",
        );
    }
    let now = org.now();
    let serial = org.serial();
    let job = IngestJob {
        id: make_id("750", serial),
        object: org.def(o).name.clone(),
        key_prefix: org.def(o).key_prefix.clone(),
        operation,
        external_id_field: ext,
        line_ending,
        column_delimiter: delimiter,
        state: "Open".into(),
        created: now,
        modstamp: now,
        created_by: req.user,
        api_version: req.version.clone(),
        data: vec![],
        header_end: 0,
        results: vec![],
        processed: 0,
        failed: 0,
        error_message: None,
        processing_ms: 0,
    };
    let info = job.info(false);
    org.bulk.ingest.insert(job.id.clone(), job);
    Reply::json(200, info)
}

fn upload_batch(org: &mut Org, id: &str, req: &Req) -> Reply {
    let Some(job) = org.bulk.ingest.get_mut(id) else {
        return job_not_found();
    };
    let ct = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("text/csv") {
        return Reply::error(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            &format!("Content-Type header specified in HTTP request is not supported: {ct}"),
        );
    }
    if job.state != "Open" {
        return Reply::error(
            409,
            "INVALIDJOBSTATE",
            &format!("Job {id} is not in the Open state: {}", job.state),
        );
    }
    if job.data.len() + req.body.len() > MAX_BULK_UPLOAD {
        return Reply::error(
            413,
            "REQUEST_ENTITY_TOO_LARGE",
            "The upload exceeds the 150 MB limit of a Bulk API 2.0 job",
        );
    }
    if job.data.is_empty() {
        job.data.extend_from_slice(&req.body);
    } else {
        // A later upload repeats the header row: keep only its data rows.
        let body = &req.body[..];
        let skip = body
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| p + 1)
            .unwrap_or(body.len());
        if !job.data.ends_with(b"\n") {
            job.data.push(b'\n');
        }
        job.data.extend_from_slice(&body[skip..]);
    }
    Reply::empty(201)
}

fn patch_ingest_job(shared: &Arc<Shared>, org: &mut Org, id: &str, req: &Req) -> Reply {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(job) = org.bulk.ingest.get_mut(id) else {
        return job_not_found();
    };
    let now = org.clock.now();
    match body.get("state").and_then(Value::as_str) {
        Some("UploadComplete") => {
            if job.state != "Open" {
                return Reply::error(
                    409,
                    "INVALIDJOBSTATE",
                    &format!("Job {id} is not in the Open state: {}", job.state),
                );
            }
            job.state = "UploadComplete".into();
            job.modstamp = now;
            let info = job.info(false);
            let shared = shared.clone();
            let id = id.to_string();
            std::thread::spawn(move || process_ingest(&shared, &id));
            Reply::json(200, info)
        }
        Some("Aborted") => {
            if matches!(job.state.as_str(), "JobComplete" | "Failed") {
                return Reply::error(
                    409,
                    "INVALIDJOBSTATE",
                    &format!("Job {id} is already {}", job.state),
                );
            }
            job.state = "Aborted".into();
            job.modstamp = now;
            Reply::json(200, job.info(false))
        }
        other => Reply::error(
            400,
            "INVALIDJOBSTATE",
            &format!("Invalid state: {}", other.unwrap_or("(none)")),
        ),
    }
}

/// Runs an ingest job in chunks, letting other requests in between.
pub fn process_ingest(shared: &Arc<Shared>, id: &str) {
    let started = std::time::Instant::now();
    let prepared = {
        let mut org = shared.org.write();
        let Some(mut job) = org.bulk.ingest.remove(id) else {
            return;
        };
        if job.state != "UploadComplete" {
            org.bulk.ingest.insert(id.to_string(), job);
            return;
        }
        job.state = "InProgress".into();
        let plan = crate::bulk::prepare_ingest(&org, &mut job);
        let user = job.created_by;
        if let Err(msg) = &plan {
            job.state = "Failed".into();
            job.error_message = Some(msg.clone());
            job.modstamp = org.now();
        }
        org.bulk.ingest.insert(id.to_string(), job);
        plan.ok().map(|p| (p, user))
    };
    let Some((plan, user)) = prepared else {
        shared.touch();
        return;
    };
    let total = plan.len();
    let mut at = 0;
    while at < total {
        let end = (at + INGEST_CHUNK).min(total);
        let mut org = shared.org.write();
        if org.bulk.ingest.get(id).is_none_or(|j| j.state == "Aborted") {
            break;
        }
        let results = plan.process(&mut org, at..end, user);
        let job = org.bulk.ingest.get_mut(id).expect("checked");
        for r in results {
            job.processed += 1;
            if matches!(r.outcome, crate::bulk::Outcome::Failed { .. }) {
                job.failed += 1;
            }
            job.results.push(r);
        }
        drop(org);
        shared.touch();
        at = end;
    }
    let mut org = shared.org.write();
    let now = org.now();
    if let Some(job) = org.bulk.ingest.get_mut(id) {
        if job.state == "Aborted" {
            let done = job.results.len();
            for i in done..total {
                let (start, end) = plan.row_span(i);
                job.results.push(crate::bulk::RowResult {
                    start,
                    end,
                    outcome: crate::bulk::Outcome::Unprocessed,
                });
            }
        } else {
            job.state = "JobComplete".into();
        }
        job.modstamp = now;
        job.processing_ms = started.elapsed().as_millis() as u64;
    }
    shared.touch();
}

fn create_query_job(shared: &Arc<Shared>, org: &mut Org, req: &Req) -> Reply {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let operation = s("operation").unwrap_or_else(|| "query".into());
    if operation != "query" && operation != "queryAll" {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid operation: {operation}"),
        );
    }
    let Some(soql) = s("query") else {
        return Reply::error(400, "INVALIDJOB", "InvalidJob : query is required");
    };
    let plan = match Plan::compile(org, &soql) {
        Ok(p) => p,
        Err(e) => return soql_error(e),
    };
    if plan.count_all || !plan.count_fields.is_empty() {
        return Reply::error(
            400,
            "INVALIDJOB",
            "InvalidJob : Aggregate queries are not supported by Bulk API 2.0 query jobs",
        );
    }
    let delimiter = s("columnDelimiter").unwrap_or_else(|| "COMMA".into());
    if delimiter_byte(&delimiter).is_none() {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid columnDelimiter: {delimiter}"),
        );
    }
    let now = org.now();
    let serial = org.serial();
    let job = QueryJob {
        id: make_id("750", serial),
        operation: operation.clone(),
        object: org.def(plan.obj).name.clone(),
        query: soql,
        state: "UploadComplete".into(),
        created: now,
        modstamp: now,
        created_by: req.user,
        api_version: req.version.clone(),
        column_delimiter: delimiter,
        line_ending: s("lineEnding").unwrap_or_else(|| "LF".into()),
        plan: Arc::new(plan),
        nums: None,
        processing_ms: 0,
    };
    let info = job.info(false);
    let id = job.id.clone();
    org.bulk.query.insert(id.clone(), job);
    let shared = shared.clone();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let (plan, all) = {
            let org = shared.org.read();
            let Some(j) = org.bulk.query.get(&id) else {
                return;
            };
            (j.plan.clone(), j.operation == "queryAll")
        };
        let nums = {
            let org = shared.org.read();
            plan.execute(&org, all)
        };
        let mut org = shared.org.write();
        let now = org.now();
        if let Some(j) = org.bulk.query.get_mut(&id)
            && j.state != "Aborted"
        {
            j.nums = Some(Arc::new(nums));
            j.state = "JobComplete".into();
            j.modstamp = now;
            j.processing_ms = started.elapsed().as_millis() as u64;
        }
    });
    Reply::json(200, info)
}

fn query_results(org: &Org, id: &str, req: &Req) -> Reply {
    let Some(job) = org.bulk.query.get(id) else {
        return job_not_found();
    };
    let Some(nums) = job.nums.as_ref().filter(|_| job.state == "JobComplete") else {
        return Reply::error(
            400,
            "INVALIDJOBSTATE",
            &format!("Job {id} is not complete: {}", job.state),
        );
    };
    let start = match req
        .param("locator")
        .filter(|l| !l.is_empty() && *l != "null")
    {
        Some(l) => match STANDARD_NO_PAD
            .decode(l.trim_end_matches('='))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<usize>().ok())
        {
            Some(n) if n <= nums.len() => n,
            _ => return Reply::error(400, "INVALIDLOCATOR", &format!("Invalid locator: {l}")),
        },
        None => 0,
    };
    let max = req
        .param("maxRecords")
        .and_then(|m| m.parse::<usize>().ok())
        .filter(|m| *m > 0)
        .unwrap_or(DEFAULT_QUERY_RESULTS_PAGE);
    let end = (start + max).min(nums.len());
    let delimiter = delimiter_byte(&job.column_delimiter).unwrap_or(b',');
    let body = render_csv(
        org,
        &job.plan,
        &nums[start..end],
        true,
        delimiter,
        job.line_ending == "CRLF",
    );
    let locator = if end < nums.len() {
        STANDARD_NO_PAD.encode(end.to_string())
    } else {
        "null".to_string()
    };
    let mut r = Reply::csv(body);
    r.headers.push(("sforce-locator", locator));
    r.headers
        .push(("sforce-numberofrecords", (end - start).to_string()));
    r
}
