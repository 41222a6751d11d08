//! `/__emulator/...`: reset, seed, clock, faults, sessions and inspection,
//! for tests in any language. Never under Salesforce's own paths.

use super::Shared;
use super::faults::FaultRule;
use crate::org::{LockRowFault, Org};
use crate::query::render_record;
use crate::seed::Seed;
use crate::values::{format_datetime, parse_datetime};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;

type Reply = (StatusCode, Json<Value>);

fn ok(v: Value) -> Reply {
    (StatusCode::OK, Json(v))
}

fn bad(message: impl Into<String>) -> Reply {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(status))
        .route("/reset", post(reset))
        .route("/seed", post(seed))
        .route("/clock", get(clock).post(set_clock))
        .route(
            "/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/lock-row", post(set_lock_row).delete(clear_lock_row))
        .route("/tokens", post(issue_token))
        .route("/tokens/expire", post(expire_tokens))
        .route("/settings", get(settings).post(set_settings))
        .route("/api-usage", post(set_api_usage))
        .route("/records/{object}", get(records))
        .route("/undelete", post(undelete))
}

pub fn status_json(shared: &Shared) -> Value {
    let org = shared.org.read();
    let counts: serde_json::Map<String, Value> = org
        .schema
        .objects
        .iter()
        .zip(&org.tables)
        .filter(|(_, t)| !t.slots.is_empty())
        .map(|(d, t)| (d.name.clone(), json!(t.live_count())))
        .collect();
    json!({
        "baseUrl": shared.base_url,
        "orgId": org.org_id(),
        "now": format_datetime(org.now()),
        "records": counts,
        "apiUsed": shared.api_used.load(Ordering::Acquire),
        "dailyApiLimit": org.settings.daily_api_limit,
        "sessions": org.sessions.len(),
    })
}

pub async fn status(State(shared): State<Arc<Shared>>) -> Reply {
    ok(status_json(&shared))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResetBody {
    #[serde(default)]
    demo: bool,
}

/// Replaces the org with a fresh one (and the demo data when asked).
pub fn reset_org(shared: &Shared, demo: bool) {
    let mut fresh = Org::new();
    if demo {
        crate::demo::populate(&mut fresh);
    }
    *shared.org.write() = fresh;
    shared.cursors.lock().clear();
    *shared.jobs.lock() = Default::default();
    shared.faults.lock().clear();
    shared.api_used.store(0, Ordering::Release);
    shared.touch();
}

/// An optional JSON body: empty means the defaults.
fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("body: {e}")))
}

async fn reset(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Reply {
    let b: ResetBody = match optional_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    reset_org(&shared, b.demo);
    ok(json!({"reset": true}))
}

async fn seed(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Reply {
    let seed: Seed = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad(format!("seed: {e}")),
    };
    let mut org = shared.org.write();
    let txn = org.begin();
    match seed.apply(&mut org) {
        Ok(report) => {
            org.commit(txn);
            shared.touch();
            ok(json!({"created": report}))
        }
        Err(e) => {
            org.rollback(txn);
            bad(e.to_string())
        }
    }
}

async fn clock(State(shared): State<Arc<Shared>>) -> Reply {
    let org = shared.org.read();
    ok(json!({"now": format_datetime(org.now()), "frozen": org.clock.frozen_at.is_some()}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockBody {
    now: Option<String>,
    advance_secs: Option<f64>,
    freeze: Option<bool>,
}

async fn set_clock(State(shared): State<Arc<Shared>>, Json(b): Json<ClockBody>) -> Reply {
    let mut org = shared.org.write();
    if let Some(now) = &b.now {
        let Some(ms) = parse_datetime(now) else {
            return bad(format!("now: not a date-time: {now}"));
        };
        set_clock_to(&mut org, ms);
    }
    if let Some(secs) = b.advance_secs {
        let target = org.now() + (secs * 1000.0) as i64;
        set_clock_to(&mut org, target);
    }
    match b.freeze {
        Some(true) => org.clock.frozen_at = Some(org.now()),
        Some(false) => {
            let at = org.now();
            org.clock.frozen_at = None;
            org.clock.offset_ms = at - chrono::Utc::now().timestamp_millis();
        }
        None => {}
    }
    shared.touch();
    ok(json!({"now": format_datetime(org.now()), "frozen": org.clock.frozen_at.is_some()}))
}

/// Moves the org's clock, frozen or running, to `ms`.
pub fn set_clock_to(org: &mut Org, ms: i64) {
    if org.clock.frozen_at.is_some() {
        org.clock.frozen_at = Some(ms);
    } else {
        org.clock.offset_ms = ms - chrono::Utc::now().timestamp_millis();
    }
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Reply {
    ok(json!({"rules": *shared.faults.lock(), "lockRow": shared.org.read().lock_row}))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsBody {
    Many { rules: Vec<FaultRule> },
    One(FaultRule),
}

async fn add_faults(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Reply {
    let rules = match serde_json::from_slice::<FaultsBody>(&body) {
        Ok(FaultsBody::Many { rules }) => rules,
        Ok(FaultsBody::One(r)) => vec![r],
        Err(e) => return bad(format!("faults: {e}")),
    };
    if rules.iter().any(|r| !(0.0..=1.0).contains(&r.probability)) {
        return bad("probability must be between 0 and 1");
    }
    let mut f = shared.faults.lock();
    f.extend(rules);
    ok(json!({"rules": *f}))
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Reply {
    shared.faults.lock().clear();
    shared.org.write().lock_row = None;
    ok(json!({"rules": []}))
}

async fn set_lock_row(State(shared): State<Arc<Shared>>, Json(f): Json<LockRowFault>) -> Reply {
    shared.org.write().lock_row = Some(f.clone());
    ok(json!({"lockRow": f}))
}

async fn clear_lock_row(State(shared): State<Arc<Shared>>) -> Reply {
    shared.org.write().lock_row = None;
    ok(json!({"lockRow": null}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TokenBody {
    client_id: Option<String>,
    username: Option<String>,
    refresh: Option<bool>,
}

/// Issues a session without the browser dance, for tests that are not
/// about sign-in.
async fn issue_token(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Reply {
    let b: TokenBody = match optional_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut org = shared.org.write();
    let user = match &b.username {
        Some(u) => match org.user_by_username(u) {
            Some(n) => n,
            None => return bad(format!("no user {u}")),
        },
        None => crate::org::ADMIN_USER,
    };
    let body = super::oauth::issue_for_tests(
        &shared,
        &mut org,
        user,
        b.client_id.as_deref().unwrap_or("emulator-tests"),
        b.refresh.unwrap_or(true),
    );
    ok(body)
}

async fn expire_tokens(State(shared): State<Arc<Shared>>) -> Reply {
    let mut org = shared.org.write();
    let n = org.sessions.len();
    org.sessions.clear();
    shared.touch();
    ok(json!({"expired": n}))
}

/// The settings in the same camelCase names `POST /settings` accepts.
fn settings_json(s: &crate::org::Settings) -> Value {
    json!({
        "accessTokenTtlSecs": s.access_token_ttl_secs,
        "dailyApiLimit": s.daily_api_limit,
        "visibilityDelaySecs": s.visibility_delay_ms as f64 / 1000.0,
        "restrictClients": s.restrict_clients,
        "bulkQueueMs": s.bulk_queue_ms,
    })
}

async fn settings(State(shared): State<Arc<Shared>>) -> Reply {
    ok(settings_json(&shared.org.read().settings))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsBody {
    access_token_ttl_secs: Option<i64>,
    daily_api_limit: Option<u64>,
    visibility_delay_secs: Option<f64>,
    restrict_clients: Option<bool>,
    bulk_queue_ms: Option<u64>,
}

async fn set_settings(State(shared): State<Arc<Shared>>, Json(b): Json<SettingsBody>) -> Reply {
    let mut org = shared.org.write();
    if let Some(t) = b.access_token_ttl_secs {
        org.settings.access_token_ttl_secs = t;
    }
    if let Some(l) = b.daily_api_limit {
        org.settings.daily_api_limit = l;
    }
    if let Some(d) = b.visibility_delay_secs {
        org.settings.visibility_delay_ms = (d * 1000.0) as i64;
    }
    if let Some(r) = b.restrict_clients {
        org.settings.restrict_clients = r;
    }
    if let Some(q) = b.bulk_queue_ms {
        org.settings.bulk_queue_ms = q;
    }
    shared.touch();
    ok(settings_json(&org.settings))
}

#[derive(Deserialize)]
struct UsageBody {
    used: u64,
}

async fn set_api_usage(State(shared): State<Arc<Shared>>, Json(b): Json<UsageBody>) -> Reply {
    let today = crate::values::ms_to_days(shared.org.read().now());
    shared.api_day.store(today, Ordering::Release);
    shared.api_used.store(b.used, Ordering::Release);
    ok(json!({"used": b.used}))
}

/// Every record of an object, deleted ones too, with `IsDeleted`.
async fn records(State(shared): State<Arc<Shared>>, Path(object): Path<String>) -> Reply {
    let org = shared.org.read();
    let Some(obj) = org.object(&object) else {
        return bad(format!("no object {object}"));
    };
    let list: Vec<Value> = org.tables[obj]
        .slots
        .iter()
        .flatten()
        .map(|r| {
            serde_json::from_str(&render_record(&org, obj, r, None, "62.0")).unwrap_or(Value::Null)
        })
        .collect();
    ok(json!({"records": list}))
}

#[derive(Deserialize)]
struct UndeleteBody {
    ids: Vec<String>,
}

async fn undelete(State(shared): State<Arc<Shared>>, Json(b): Json<UndeleteBody>) -> Reply {
    let mut org = shared.org.write();
    let results: Vec<Value> = b
        .ids
        .iter()
        .map(|id| match org.locate(id) {
            Some((o, n)) => match org.undelete(o, n) {
                Ok(()) => json!({"id": id, "success": true, "errors": []}),
                Err(e) => json!({"id": id, "success": false, "errors": [{"statusCode": e.code, "message": e.message}]}),
            },
            None => json!({"id": id, "success": false, "errors": [{"statusCode": "NOT_FOUND", "message": "The requested resource does not exist"}]}),
        })
        .collect();
    shared.touch();
    ok(Value::Array(results))
}
