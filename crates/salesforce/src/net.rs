//! The HTTP client every call uses: no redirects (tokens must not follow
//! one), and extra trusted certificates from `SSL_CERT_FILE` (a PEM bundle)
//! for corporate TLS proxies and local test orgs.

use std::sync::OnceLock;

fn extra_roots() -> &'static Vec<reqwest::Certificate> {
    static ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let Some(path) = std::env::var_os("SSL_CERT_FILE") else {
            return vec![];
        };
        match std::fs::read(&path).map(|pem| reqwest::Certificate::from_pem_bundle(&pem)) {
            Ok(Ok(certs)) => certs,
            Ok(Err(e)) => {
                tracing::warn!(path = ?path, "SSL_CERT_FILE is not a PEM bundle: {e}");
                vec![]
            }
            Err(e) => {
                tracing::warn!(path = ?path, "cannot read SSL_CERT_FILE: {e}");
                vec![]
            }
        }
    })
}

pub fn http_client() -> reqwest::Client {
    let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    for cert in extra_roots() {
        b = b.add_root_certificate(cert.clone());
    }
    b.build().expect("http client")
}

/// An error with its causes ("client error: tls: invalid peer certificate:
/// UnknownIssuer"), so the user sees why, not just that.
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// A TLS failure that no retry mends: the certificate is not trusted.
pub fn is_certificate_problem(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("certificate") || m.contains("unknownissuer") || m.contains("notvalidforname")
}

/// A request that got no answer: an untrusted certificate, or the network.
pub fn unreachable(url: &str, message: String) -> crate::Error {
    if is_certificate_problem(&message) {
        crate::Error::Tls {
            url: url.to_string(),
            message,
        }
    } else {
        crate::Error::Network {
            url: url.to_string(),
            message,
        }
    }
}
