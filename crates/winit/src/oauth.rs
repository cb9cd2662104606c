//! Winit's OAuth2 implicit flow: the authorize URL, reading the token off the callback (query
//! string or URL fragment), and a tiny page that relays a fragment to the server.

use url::Url;

use crate::{WinitClient, WinitError};

/// The scopes of an overseas-warehouse ERP: 海外仓 and 全球直发.
pub const SCOPE: &str = "OSWH ISP";

/// An HTML page for the redirect URI: browsers never send a URL fragment to the server, so
/// when the token comes back as `#access_token=...`, this page takes the fragment out of the
/// address bar and history, then posts its fields as a form to the same path, where the server
/// reads them. The token is never put in a URL (where proxies' access logs would keep it).
pub const FRAGMENT_RELAY_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Winit authorization</title></head>
<body><p id="status">Completing the Winit authorization…</p>
<script>
(function () {
  var fragment = window.location.hash.replace(/^#/, "");
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  if (!fragment) {
    document.getElementById("status").textContent = "No token in this URL.";
    return;
  }
  var form = document.createElement("form");
  form.method = "post";
  form.action = window.location.pathname;
  new URLSearchParams(fragment).forEach(function (value, name) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = name;
    field.value = value;
    form.appendChild(field);
  });
  document.body.appendChild(form);
  form.submit();
})();
</script></body></html>"#;

/// What the authorization returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplicitGrant {
    pub access_token: String,
    pub state: Option<String>,
    pub expires_in: Option<i64>,
}

impl WinitClient {
    /// `.../oauth2/authorize?response_type=token&client_id=...&redirect_uri=...&scope=OSWH ISP`.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        state: Option<&str>,
    ) -> Result<Url, WinitError> {
        if redirect_uri.trim().is_empty() {
            return Err(WinitError::InvalidArgument {
                field: "redirect_uri".into(),
                message: "expected the callback URL registered for the application".into(),
            });
        }
        let mut url = self.config().authorize_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "token")
                .append_pair("client_id", &self.config().client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", SCOPE);
            if let Some(state) = state {
                query.append_pair("state", state);
            }
        }
        Ok(url)
    }
}

/// Reads the token from a callback URL, from its query string or its fragment (or from just the
/// query/fragment text).
pub fn parse_callback(callback: &str) -> Result<ImplicitGrant, WinitError> {
    let (query, fragment) = match Url::parse(callback) {
        Ok(url) => (
            url.query().unwrap_or_default().to_owned(),
            url.fragment().unwrap_or_default().to_owned(),
        ),
        Err(_) => {
            let text = callback.trim_start_matches(['?', '#']);
            (text.to_owned(), String::new())
        }
    };
    let mut token = None;
    let mut state = None;
    let mut expires_in = None;
    let mut error = None;
    for source in [&query, &fragment] {
        for (name, value) in url::form_urlencoded::parse(source.as_bytes()) {
            match name.as_ref() {
                "access_token" => token = Some(value.into_owned()),
                "state" => state = Some(value.into_owned()),
                "expires_in" => expires_in = value.parse().ok(),
                "error" | "error_description" => error = Some(value.into_owned()),
                _ => {}
            }
        }
    }
    match token.filter(|t| !t.is_empty()) {
        Some(access_token) => Ok(ImplicitGrant {
            access_token,
            state,
            expires_in,
        }),
        None => Err(match error {
            Some(error) => WinitError::AuthorizationDenied(error),
            None => WinitError::InvalidArgument {
                field: "callback".into(),
                message: "no access_token in the query string or the fragment".into(),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_query_or_fragment() {
        let q = parse_callback("https://erp.example.com/winit/cb?access_token=ABC&state=s")
            .expect("query");
        assert_eq!(
            (q.access_token.as_str(), q.state.as_deref()),
            ("ABC", Some("s"))
        );
        let f = parse_callback("https://erp.example.com/winit/cb#access_token=DEF&expires_in=3600")
            .expect("fragment");
        assert_eq!((f.access_token.as_str(), f.expires_in), ("DEF", Some(3600)));
        assert!(matches!(
            parse_callback("https://x/cb?error=access_denied"),
            Err(WinitError::AuthorizationDenied(_))
        ));
        assert!(parse_callback("https://x/cb").is_err());
        assert!(FRAGMENT_RELAY_PAGE.contains("location.hash"));
    }
}
