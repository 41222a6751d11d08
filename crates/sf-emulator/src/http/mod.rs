//! The HTTP face of the org: axum routes for OAuth, the REST and Bulk APIs
//! under `/services/data`, and the test control API under `/__emulator`.

pub mod control;
pub mod faults;
pub mod oauth;
pub mod rest;
pub mod soap;

use crate::org::Org;
use crate::query::Cursor;
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Response, StatusCode};
use axum::routing::{any, get, post};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

/// Everything the handlers share.
pub struct Shared {
    pub org: RwLock<Org>,
    pub base_url: String,
    pub cursors: Mutex<HashMap<String, Cursor>>,
    /// Bulk API 2.0 jobs. Locked after `org` when both are held.
    pub jobs: Mutex<crate::bulk::Jobs>,
    pub faults: Mutex<Vec<faults::FaultRule>>,
    pub api_used: AtomicU64,
    pub api_day: AtomicI32,
    /// Set by every write; the persister saves and clears it.
    pub dirty: AtomicBool,
    /// Signed-in browser sessions waiting at the consent page.
    pub logins: Mutex<HashMap<String, (u64, i64)>>,
}

impl Shared {
    pub fn new(org: Org, base_url: String) -> Arc<Shared> {
        let (used, day) = (org.usage.used, org.usage.day);
        Arc::new(Shared {
            org: RwLock::new(org),
            base_url,
            cursors: Mutex::new(HashMap::new()),
            jobs: Mutex::new(Default::default()),
            faults: Mutex::new(Vec::new()),
            api_used: AtomicU64::new(used),
            api_day: AtomicI32::new(day),
            dirty: AtomicBool::new(false),
            logins: Mutex::new(HashMap::new()),
        })
    }

    pub fn touch(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    /// Counts one API request against today's allowance; false when spent.
    pub fn count_api_call(&self, now_ms: i64, limit: u64) -> (bool, u64) {
        let today = crate::values::ms_to_days(now_ms);
        if self.api_day.swap(today, Ordering::AcqRel) != today {
            self.api_used.store(0, Ordering::Release);
        }
        let used = self.api_used.load(Ordering::Acquire);
        if used >= limit {
            return (false, used);
        }
        (true, self.api_used.fetch_add(1, Ordering::AcqRel) + 1)
    }

    pub fn limit_info(&self, limit: u64) -> String {
        format!(
            "api-usage={}/{}",
            self.api_used.load(Ordering::Acquire),
            limit
        )
    }
}

/// A Salesforce-shaped error body: `[{"message","errorCode","fields"?}]`.
pub fn sf_error_body(code: &str, message: &str, fields: &[String]) -> String {
    let mut e = serde_json::json!({ "message": message, "errorCode": code });
    if !fields.is_empty() {
        e["fields"] = serde_json::json!(fields);
    }
    serde_json::Value::Array(vec![e]).to_string()
}

pub fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/services/oauth2/authorize",
            get(oauth::authorize_page).post(oauth::authorize_submit),
        )
        .route("/services/oauth2/token", post(oauth::token))
        .route(
            "/services/oauth2/revoke",
            post(oauth::revoke).get(oauth::revoke),
        )
        .route(
            "/services/oauth2/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
        .route(
            "/id/{org}/{user}",
            get(oauth::identity).post(oauth::identity),
        )
        .route("/services/Soap/u/{version}", post(soap::handle))
        .route("/services/Soap/u/{version}/{org}", post(soap::handle))
        .route("/services/data", get(rest::versions))
        .route("/services/data/", get(rest::versions))
        .route("/services/data/{*rest}", any(rest::handle))
        .route("/__emulator/", get(control::status))
        .nest("/__emulator", control::routes())
        .fallback(|| async {
            json_response(
                StatusCode::NOT_FOUND,
                sf_error_body("NOT_FOUND", "The requested resource does not exist", &[]),
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            faults::inject,
        ))
        // Bulk uploads may be up to 150 MB; JSON bodies are checked at 10 MB.
        .layer(DefaultBodyLimit::max(160 * 1024 * 1024))
        .with_state(shared)
}
