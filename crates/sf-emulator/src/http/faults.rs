//! Fault injection on Salesforce's own paths: HTTP 500, 503 with
//! Retry-After, a dropped connection before or after the request is
//! handled, and added latency. Rules are matched in order.

use super::{Shared, json_response, sf_error_body};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Response, StatusCode};
use axum::middleware::Next;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// HTTP 500 UNKNOWN_EXCEPTION.
    Error500,
    /// HTTP 503 SERVER_UNAVAILABLE with Retry-After.
    Error503,
    /// The connection drops before the request is handled.
    Reset,
    /// The request is handled, then the connection drops: the client never
    /// learns the outcome (a "lost" create).
    ResetAfter,
    /// The request is delayed by `latencyMs`.
    Latency,
    /// The request goes through untouched: with `times`, the rules after
    /// this one skip that many matching requests.
    Pass,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// `*`, a route name (`oauth`, `versions`, `sobjects`, `query`,
    /// `queryAll`, `search`, `composite`, `jobs`, `limits`) or a path prefix.
    #[serde(default = "any_route")]
    pub route: String,
    #[serde(default)]
    pub method: Option<String>,
    pub kind: FaultKind,
    #[serde(default = "always")]
    pub probability: f64,
    /// How many times the rule may fire; unlimited when absent.
    #[serde(default)]
    pub times: Option<u64>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

fn any_route() -> String {
    "*".into()
}
fn always() -> f64 {
    1.0
}

/// The route name of a Salesforce path, as fault rules name it.
pub fn route_of(path: &str) -> Option<String> {
    if path.starts_with("/services/oauth2/") || path.starts_with("/id/") {
        return Some("oauth".into());
    }
    let rest = path.strip_prefix("/services/data")?;
    let mut segs = rest.split('/').filter(|s| !s.is_empty());
    let Some(_version) = segs.next() else {
        return Some("versions".into());
    };
    Some(segs.next().unwrap_or("resources").to_string())
}

impl FaultRule {
    fn matches(&self, method: &str, path: &str, route: &str) -> bool {
        let route_ok = self.route == "*"
            || self.route.eq_ignore_ascii_case(route)
            || (self.route.starts_with('/') && path.starts_with(&self.route));
        let method_ok = self
            .method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        route_ok && method_ok && self.times != Some(0)
    }
}

fn dropped_connection() -> Response<Body> {
    let stream = futures::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection reset",
        ))
    });
    Response::new(Body::from_stream(stream))
}

pub async fn inject(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response<Body> {
    let path = req.uri().path().to_string();
    let Some(route) = route_of(&path) else {
        return next.run(req).await;
    };
    let method = req.method().as_str().to_string();
    let mut fired = vec![];
    {
        let mut rules = shared.faults.lock();
        for rule in rules.iter_mut() {
            if rule.matches(&method, &path, &route) && rand::random::<f64>() < rule.probability {
                if let Some(t) = rule.times.as_mut() {
                    *t -= 1;
                }
                fired.push(rule.clone());
                if rule.kind != FaultKind::Latency {
                    break;
                }
            }
        }
    }
    let mut reset_after = false;
    for rule in fired {
        match rule.kind {
            FaultKind::Latency => {
                tokio::time::sleep(Duration::from_millis(rule.latency_ms.unwrap_or(1000))).await
            }
            FaultKind::Error500 => {
                tracing::debug!(%path, "injected 500");
                return json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    sf_error_body(
                        "UNKNOWN_EXCEPTION",
                        "An unexpected error occurred. Please include this ErrorId if you contact support: 1337042-31337 (-1234567890)",
                        &[],
                    ),
                );
            }
            FaultKind::Error503 => {
                let mut r = json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    sf_error_body(
                        "SERVER_UNAVAILABLE",
                        "Server is temporarily unavailable. Please try again later.",
                        &[],
                    ),
                );
                let secs = rule.retry_after.unwrap_or(1).to_string();
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from_str(&secs).expect("digits"));
                return r;
            }
            FaultKind::Reset => return dropped_connection(),
            FaultKind::ResetAfter => reset_after = true,
            FaultKind::Pass => {}
        }
    }
    let response = next.run(req).await;
    if reset_after {
        // Let the handler's work land, then lose the answer.
        let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        return dropped_connection();
    }
    response
}
