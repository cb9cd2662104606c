//! A scripted "person in a browser" for the sandbox's own login and consent pages.
//!
//! The demo and the tests use it to complete an OAuth authorization over plain HTTP, the way a
//! person would: open the login page, post the form with its hidden fields, press 授权 or 取消.

/// The outcome of answering the consent page.
#[derive(Debug)]
pub struct Decision {
    /// HTTP status of the final answer (302 for a redirect, 200 for the oob code page).
    pub status: u16,
    /// The `Location` header of a redirect.
    pub location: Option<String>,
    /// The body of a page (the oob code page or an error page).
    pub body: String,
}

impl Decision {
    /// The code shown on the native (oob) flow's page.
    pub fn oob_code(&self) -> Option<String> {
        element_text(&self.body, "<code id=\"authorization-code\">", "</code>")
    }
}

/// What went wrong while clicking through.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    #[error("HTTP failure: {0}")]
    Http(String),
    #[error("{step} answered HTTP {status}: {excerpt}")]
    Page {
        step: &'static str,
        status: u16,
        excerpt: String,
    },
}

fn http_error(err: reqwest::Error) -> BrowserError {
    BrowserError::Http(err.without_url().to_string())
}

/// Opens `authorize_url`, signs in as `username`, and approves (or cancels) the consent page
/// when there is one.
///
/// `http` must not follow redirects, so that the redirect back to the app can be read.
pub async fn authorize(
    http: &reqwest::Client,
    authorize_url: &str,
    username: &str,
    password: &str,
    approve: bool,
) -> Result<Decision, BrowserError> {
    let page = http.get(authorize_url).send().await.map_err(http_error)?;
    let login_url = page.url().clone();
    let status = page.status().as_u16();
    let html = page.text().await.map_err(http_error)?;
    if status != 200 {
        return Err(BrowserError::Page {
            step: "login page",
            status,
            excerpt: excerpt(&html),
        });
    }
    let mut form = hidden_inputs(&html);
    form.push(("username".into(), username.into()));
    form.push(("password".into(), password.into()));
    let action = login_url
        .join("authorize")
        .map_err(|err| BrowserError::Http(err.to_string()))?;
    let consent = http
        .post(action)
        .form(&form)
        .send()
        .await
        .map_err(http_error)?;
    let status = consent.status().as_u16();
    // Pages without a consent step (Winit's) redirect straight after signing in.
    if consent.status().is_redirection() {
        let location = consent
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        return Ok(Decision {
            status,
            location,
            body: String::new(),
        });
    }
    let html = consent.text().await.map_err(http_error)?;
    if status != 200 {
        return Err(BrowserError::Page {
            step: "login form",
            status,
            excerpt: excerpt(&html),
        });
    }
    let mut answer = hidden_inputs(&html);
    answer.push((
        "decision".into(),
        if approve { "approve" } else { "deny" }.into(),
    ));
    let action = login_url
        .join("consent")
        .map_err(|err| BrowserError::Http(err.to_string()))?;
    let response = http
        .post(action)
        .form(&answer)
        .send()
        .await
        .map_err(http_error)?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.map_err(http_error)?;
    Ok(Decision {
        status,
        location,
        body,
    })
}

fn excerpt(html: &str) -> String {
    element_text(html, "<span id=\"error-description\">", "</span>")
        .or_else(|| element_text(html, "<p class=\"error\" role=\"alert\">", "</p>"))
        .unwrap_or_else(|| html.chars().take(200).collect())
}

fn element_text(html: &str, open: &str, close: &str) -> Option<String> {
    let start = html.find(open)? + open.len();
    let end = html[start..].find(close)? + start;
    Some(unescape(&html[start..end]))
}

/// The `<input type="hidden" name=".." value="..">` pairs of a page, unescaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" ").skip(1) {
        let attribute = |name: &str| {
            let start = chunk.find(&format!("{name}=\""))? + name.len() + 2;
            let end = chunk[start..].find('"')? + start;
            Some(unescape(&chunk[start..end]))
        };
        if let (Some(name), Some(value)) = (attribute("name"), attribute("value")) {
            out.push((name, value));
        }
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_inputs_round_trip_escaping() {
        let html = crate::vop::pages::consent_page("app", "user", "T&1\"x");
        assert_eq!(
            hidden_inputs(&html),
            vec![("ticket".to_owned(), "T&1\"x".to_owned())]
        );
    }
}
