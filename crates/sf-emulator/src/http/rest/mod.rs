//! `/services/data/vXX.X/...`: one dispatcher for the REST and Bulk APIs, so
//! that `/composite` can run subrequests through the same code paths. Each
//! family of resources lives in its own file.

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

mod bulk;
mod collections;
mod composite;
mod describe;
mod query;
mod records;

use bulk::*;
use collections::*;
use composite::*;
use describe::*;
use query::*;
use records::*;

pub const MIN_VERSION: u32 = 31;

pub const MAX_VERSION: u32 = 62;

const MAX_JSON_BODY: usize = 10 * 1024 * 1024;

/// Any request body read whole (a Bulk upload is streamed instead).
const MAX_BODY: usize = 160 * 1024 * 1024;

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
    /// A body streamed from a job's file instead (a result file).
    pub file: Option<crate::bulk::Spool>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, v: impl ToString) -> Reply {
        Reply {
            status,
            content_type: "application/json;charset=UTF-8",
            body: v.to_string().into_bytes(),
            file: None,
            headers: vec![],
        }
    }
    fn empty(status: u16) -> Reply {
        Reply {
            status,
            content_type: "",
            body: vec![],
            file: None,
            headers: vec![],
        }
    }
    fn csv(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: "text/csv",
            body,
            file: None,
            headers: vec![],
        }
    }
    /// CSV read from a job's file as it is sent.
    fn csv_file(spool: crate::bulk::Spool) -> Reply {
        Reply {
            file: Some(spool),
            ..Reply::csv(vec![])
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

/// A file's first `len` bytes as a body, read a block at a time.
fn file_body(spool: crate::bulk::Spool) -> Body {
    use tokio::io::AsyncReadExt;
    match std::fs::File::open(spool.path()) {
        Ok(f) => {
            let f = tokio::fs::File::from_std(f).take(spool.len);
            Body::from_stream(tokio_util::io::ReaderStream::with_capacity(f, 1 << 16))
        }
        Err(e) => Body::from_stream(futures::stream::once(async move { Err::<Bytes, _>(e) })),
    }
}

fn to_response(shared: &Shared, reply: Reply, limit: u64) -> Response<Body> {
    let body = match reply.file {
        Some(spool) => file_body(spool),
        None => Body::from(reply.body),
    };
    let mut r = Response::new(body);
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
    body: Body,
) -> Response<Body> {
    let (limit, now) = {
        let org = shared.org.read();
        (org.settings.daily_api_limit, org.now())
    };
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
    let gzipped = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|enc| enc.eq_ignore_ascii_case("gzip"));
    // A Bulk upload goes to disk as it arrives: it may be 150 MB.
    if method == Method::PUT
        && let [jobs, ingest, id, batches] = segs.as_slice()
        && (jobs.as_str(), ingest.as_str(), batches.as_str()) == ("jobs", "ingest", "batches")
    {
        let reply = upload_batch(&shared, id, &headers, gzipped, body).await;
        shared.touch();
        return to_response(&shared, reply, limit);
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return to_response(
            &shared,
            Reply::error(
                413,
                "REQUEST_ENTITY_TOO_LARGE",
                "The request body is larger than the API accepts",
            ),
            limit,
        );
    };
    let body = match gzipped {
        true => {
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
        false => body,
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
        ["search"] => match crate::sosl::search(org, req.param("q").unwrap_or(""), &req.version) {
            Ok(body) => Reply::json(200, body),
            Err(e) => Reply::error(400, e.code, &e.message),
        },
        ["composite", "sobjects", obj] => with_object(org, obj, |o| retrieve_many(org, o, req)),
        ["jobs", "ingest"] => list_jobs(shared, false),
        ["jobs", "query"] => list_jobs(shared, true),
        ["jobs", "ingest", id] => match shared.jobs.lock().ingest.get(*id) {
            Some(j) => Reply::json(200, j.info(true)),
            None => job_not_found(),
        },
        [
            "jobs",
            "ingest",
            id,
            kind @ ("successfulResults" | "failedResults" | "unprocessedrecords"),
        ] => match shared.jobs.lock().ingest.get(*id) {
            Some(j) => match j.result_spool(kind) {
                Some(spool) => Reply::csv_file(spool.clone()),
                None => Reply::csv(vec![]),
            },
            None => job_not_found(),
        },
        ["jobs", "query", id] => match shared.jobs.lock().query.get(*id) {
            Some(j) => Reply::json(200, j.info(true)),
            None => job_not_found(),
        },
        ["jobs", "query", id, "results"] => query_results(shared, org, id, req),
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
        (Method::POST, ["jobs", "ingest"]) => create_ingest_job(shared, org, req),
        (Method::PATCH, ["jobs", "ingest", id]) => patch_ingest_job(shared, org, id, req),
        (Method::DELETE, ["jobs", "ingest", id]) => {
            if shared.jobs.lock().ingest.remove(*id).is_some() {
                Reply::empty(204)
            } else {
                job_not_found()
            }
        }
        (Method::POST, ["jobs", "query"]) => create_query_job(shared, org, req),
        (Method::PATCH, ["jobs", "query", id]) => match shared.jobs.lock().query.get_mut(*id) {
            Some(j) => {
                if j.state != "JobComplete" {
                    j.state = "Aborted".into();
                }
                Reply::json(200, j.info(false))
            }
            None => job_not_found(),
        },
        (Method::DELETE, ["jobs", "query", id]) => {
            if shared.jobs.lock().query.remove(*id).is_some() {
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
