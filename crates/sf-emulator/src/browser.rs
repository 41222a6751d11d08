//! Plays the user in the browser against this org's own login and consent
//! pages, for tests of sign-in flows in any crate: load the authorization
//! URL, submit the login form, answer the consent form, and (optionally)
//! follow the redirect to the app's loopback listener.

/// The user's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Allow,
    Deny,
}

fn form_fields(html: &str, form_id: &str) -> Result<Vec<(String, String)>, String> {
    let start = html.find(&format!("id=\"{form_id}\"")).ok_or_else(|| {
        format!(
            "no form #{form_id} on the page: {}",
            html.chars().take(300).collect::<String>()
        )
    })?;
    let end = html[start..]
        .find("</form>")
        .map(|e| start + e)
        .ok_or("unterminated form")?;
    Ok(html[start..end]
        .split("<input")
        .skip(1)
        .filter_map(|i| {
            let attr = |a: &str| {
                i.split(&format!("{a}=\"")).nth(1).map(|r| {
                    r[..r.find('"').unwrap_or(0)]
                        .replace("&quot;", "\"")
                        .replace("&#39;", "'")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&amp;", "&")
                })
            };
            Some((attr("name")?, attr("value").unwrap_or_default()))
        })
        .collect())
}

/// Logs in as the pre-filled user and answers the consent page; returns
/// the redirect URL the browser would go to next.
pub async fn consent(authorization_url: &str, choice: Choice) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let url = url::Url::parse(authorization_url).map_err(|e| e.to_string())?;
    let action = url
        .join("/services/oauth2/authorize")
        .map_err(|e| e.to_string())?;
    let page = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !page.status().is_success() {
        return Err(format!(
            "authorization page: HTTP {}: {}",
            page.status(),
            page.text().await.unwrap_or_default()
        ));
    }
    let login = page.text().await.map_err(|e| e.to_string())?;
    let consent = http
        .post(action.clone())
        .form(&form_fields(&login, "login")?)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let consent = consent.text().await.map_err(|e| e.to_string())?;
    let mut fields = form_fields(&consent, "consent")?;
    fields.push((
        "action".into(),
        if choice == Choice::Allow {
            "allow"
        } else {
            "deny"
        }
        .into(),
    ));
    let answer = http
        .post(action)
        .form(&fields)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    answer
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| format!("no redirect after consent (HTTP {})", answer.status()))
}

/// `consent`, then follows the redirect to the app's loopback listener and
/// returns the page it shows. `localhost` is sent to 127.0.0.1, where
/// native apps listen (RFC 8252).
pub async fn grant(authorization_url: &str, choice: Choice) -> Result<String, String> {
    let redirect = consent(authorization_url, choice).await?;
    let redirect = redirect.replacen("://localhost:", "://127.0.0.1:", 1);
    let page = reqwest::get(&redirect)
        .await
        .map_err(|e| format!("{redirect}: {e}"))?;
    page.text().await.map_err(|e| e.to_string())
}
