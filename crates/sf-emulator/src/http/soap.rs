//! The SOAP Partner API's `undelete` at `/services/Soap/u/VERSION`: the
//! REST API cannot bring a record back from the recycle bin. An OAuth
//! access token is a valid session id. Answers and faults are the envelopes
//! Salesforce sends.

use super::Shared;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, Response, StatusCode};
use std::sync::Arc;

const MAX_IDS: usize = 200;

/// The text of every element named `local` (any namespace prefix).
fn elements(xml: &str, local: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..end];
        let name = tag.split_whitespace().next().unwrap_or_default();
        let name = name.rsplit(':').next().unwrap_or_default();
        if !tag.starts_with('/') && !tag.ends_with('/') && name == local {
            let body = &rest[end + 1..];
            let text = body.split('<').next().unwrap_or_default();
            out.push(unescape(text.trim()));
        }
        rest = &rest[end + 1..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn envelope(status: StatusCode, body: &str) -> Response<Body> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns=\"urn:partner.soap.sforce.com\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:sf=\"urn:fault.partner.soap.sforce.com\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    );
    let mut r = Response::new(Body::from(xml));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    r
}

fn fault(code: &str, message: &str) -> Response<Body> {
    envelope(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!(
            "<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {}</faultstring></soapenv:Fault>",
            escape(message)
        ),
    )
}

pub async fn handle(State(shared): State<Arc<Shared>>, body: Bytes) -> Response<Body> {
    let xml = String::from_utf8_lossy(&body);
    let Some(session) = elements(&xml, "sessionId").into_iter().next() else {
        return fault(
            "INVALID_SESSION_ID",
            "Invalid Session ID found in SessionHeader: Illegal Session",
        );
    };
    let user = {
        let org = shared.org.read();
        org.sessions
            .get(&session)
            .filter(|s| org.now() - s.issued_at <= org.settings.access_token_ttl_secs * 1000)
            .map(|s| s.user)
    };
    if user.is_none() {
        return fault(
            "INVALID_SESSION_ID",
            "Invalid Session ID found in SessionHeader: Illegal Session. Session not found, missing session hash",
        );
    }
    let (limit, now) = {
        let org = shared.org.read();
        (org.settings.daily_api_limit, org.now())
    };
    let (allowed, _) = shared.count_api_call(now, limit);
    if !allowed {
        return fault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    }
    if elements(&xml, "undelete").is_empty() {
        return fault(
            "INVALID_OPERATION",
            "this playground answers only undelete over SOAP",
        );
    }
    let ids = elements(&xml, "ids");
    if ids.len() > MAX_IDS {
        return fault(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        );
    }
    let mut results = String::new();
    {
        let mut org = shared.org.write();
        for id in &ids {
            let outcome = match org.locate(id) {
                Some((obj, num)) => org.undelete(obj, num),
                None if crate::ids::looks_like_id(id) => Err(crate::org::RecordError::new(
                    "ENTITY_IS_DELETED",
                    "entity is deleted",
                )),
                None => Err(crate::org::RecordError::new(
                    "MALFORMED_ID",
                    format!("malformed id {id}"),
                )),
            };
            match outcome {
                Ok(()) => results.push_str(&format!(
                    "<result><id>{}</id><success>true</success></result>",
                    escape(id)
                )),
                Err(e) => results.push_str(&format!(
                    "<result><errors><message>{}</message><statusCode>{}</statusCode></errors><id>{}</id><success>false</success></result>",
                    escape(&e.message),
                    escape(&e.code),
                    escape(id)
                )),
            }
        }
    }
    shared.touch();
    envelope(
        StatusCode::OK,
        &format!("<undeleteResponse>{results}</undeleteResponse>"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_elements_with_any_prefix() {
        let xml = "<e:Envelope><e:Header><urn:SessionHeader><urn:sessionId>00D!tok&amp;x</urn:sessionId></urn:SessionHeader></e:Header><e:Body><undelete><ids>001A</ids><ns1:ids xmlns:ns1=\"u\">003B</ns1:ids><ids/></undelete></e:Body></e:Envelope>";
        assert_eq!(super::elements(xml, "sessionId"), ["00D!tok&x"]);
        assert_eq!(super::elements(xml, "ids"), ["001A", "003B"]);
    }
}
