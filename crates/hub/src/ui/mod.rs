//! How the hub's pages look and speak: templates (minijinja, auto-escaped, one base layout), the
//! Chinese and English catalogs, the visitor's language, and the console's stylesheet and script.

pub mod chart;
pub mod i18n;

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::{Kwargs, Serde, Value};
use minijinja::{Environment, State, UndefinedBehavior};
use serde::Serialize;

/// The cookie that remembers a chosen language.
pub const LANG_COOKIE: &str = "sb_lang";

/// The console's two languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Lang {
    #[serde(rename = "zh")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn english(self) -> bool {
        self == Lang::En
    }

    /// The message `key` in this language.
    pub fn t(self, key: &str) -> String {
        i18n::catalog().text(self, key, None)
    }

    /// The message `key` with arguments.
    pub fn t_with(self, key: &str, args: &[(&str, String)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, FluentValue::from(value.clone()));
        }
        i18n::catalog().text(self, key, Some(&fluent))
    }
}

/// The language: `?lang=` (remembered in a cookie), else the cookie, else the browser's first
/// choice, else Chinese.
pub fn lang_of(jar: &CookieJar, headers: &HeaderMap, chosen: Option<Lang>) -> Lang {
    if let Some(lang) = chosen {
        return lang;
    }
    if let Some(lang) = jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
        return lang;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("zh");
    if accept.trim_start().starts_with("en") {
        Lang::En
    } else {
        Lang::Zh
    }
}

/// A cookie lifetime of `days` days.
pub fn cookie_days(days: i64) -> cookie::time::Duration {
    cookie::time::Duration::days(days)
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("message.html", include_str!("../../templates/message.html")),
    ("shops.html", include_str!("../../templates/shops.html")),
    ("sync.html", include_str!("../../templates/sync.html")),
    (
        "sync_stream.html",
        include_str!("../../templates/sync_stream.html"),
    ),
    ("orders.html", include_str!("../../templates/orders.html")),
    ("order.html", include_str!("../../templates/order.html")),
    (
        "union_order.html",
        include_str!("../../templates/union_order.html"),
    ),
    (
        "earnings.html",
        include_str!("../../templates/earnings.html"),
    ),
    ("links.html", include_str!("../../templates/links.html")),
    (
        "activity.html",
        include_str!("../../templates/activity.html"),
    ),
];

/// The stylesheet and script every page loads from the binary (nothing from another site).
pub const STYLESHEET: &str = include_str!("../../assets/console.css");
pub const SCRIPT: &str = include_str!("../../assets/console.js");

/// `t("key", name=value, ...)`: the message in the page's language.
fn translate(state: &State, key: &str, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let lang = page_lang(state);
    let mut args = FluentArgs::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        let value = match value.as_i64() {
            Some(n) => FluentValue::from(n),
            None => FluentValue::from(value.to_string()),
        };
        args.set(name.to_owned(), value);
    }
    Ok(i18n::catalog().text(lang, key, Some(&args)))
}

/// Epoch milliseconds as Beijing time, to the second (`full`) or the minute.
fn beijing(ms: Option<i64>, full: Option<bool>) -> String {
    let Some(ms) = ms else {
        return "—".into();
    };
    let text = shopbridge_vop::time::format_datetime_ms(ms);
    if full == Some(true) {
        text
    } else {
        text.get(..16).map(str::to_owned).unwrap_or(text)
    }
}

/// A duration in milliseconds, short (`1.2 s`, `3 min 4 s`), in the page's language.
pub fn duration_text(lang: Lang, ms: i64) -> String {
    match ms {
        ms if ms < 1_000 => lang.t_with("duration-ms", &[("n", ms.to_string())]),
        ms if ms < 60_000 => lang.t_with(
            "duration-s",
            &[("n", format!("{:.1}", ms as f64 / 1_000.0))],
        ),
        ms => lang.t_with(
            "duration-min",
            &[
                ("m", (ms / 60_000).to_string()),
                ("s", (ms % 60_000 / 1_000).to_string()),
            ],
        ),
    }
}

/// A decimal amount with thousands separators (`1667.11` → `1,667.11`); anything that is not a
/// plain decimal is shown as it is.
pub fn money(amount: &str) -> String {
    let (sign, digits) = match amount.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", amount),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return amount.to_owned();
    }
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(fraction) => format!("{sign}{grouped}.{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

fn page_lang(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::Zh)
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // A misspelt variable is an error, not an empty string.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            if let Err(err) = env.add_template(name, source) {
                tracing::error!(template = name, error = %err, "console template does not parse");
            }
        }
        env.add_function("t", translate);
        env.add_filter("beijing", beijing);
        env.add_filter("money", |amount: Value| money(&amount.to_string()));
        env.add_filter("duration", |state: &State, ms: i64| {
            duration_text(page_lang(state), ms)
        });
        env
    })
}

/// The shared parts of every page: language, title, the signed-in tenant's CSRF token.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    pub lang: Lang,
    /// The language the switch offers.
    pub other_lang: &'static str,
    /// This page in the other language.
    pub switch_href: String,
    pub title: String,
    /// Which main section is current (`shops`, `orders`...), for the navigation.
    pub section: &'static str,
    /// The session's CSRF token; `None` outside the console.
    pub csrf: Option<String>,
    /// The server's clock, so that countdowns agree with it.
    pub now_ms: i64,
    /// A notice shown at the top of the page (from `?notice=`).
    pub notice: Option<String>,
}

impl Frame {
    pub fn new(lang: Lang, title_key: &str, section: &'static str, now_ms: i64) -> Self {
        let other_lang = match lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        };
        Self {
            lang,
            other_lang,
            switch_href: format!("?lang={other_lang}"),
            title: lang.t(title_key),
            section,
            csrf: None,
            now_ms,
            notice: None,
        }
    }

    /// The other language's link keeps the page's own query (`path_and_query` without `lang`).
    pub fn switching_at(mut self, path: &str, query: Option<&str>) -> Self {
        let mut kept = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if name != "lang" {
                kept.append_pair(&name, &value);
            }
        }
        kept.append_pair("lang", self.other_lang);
        self.switch_href = format!("{path}?{}", kept.finish());
        self
    }

    pub fn signed_in(mut self, csrf: &str) -> Self {
        self.csrf = Some(csrf.to_owned());
        self
    }
}

/// Renders `template` with the frame and the page's own values.
pub fn render<T: Serialize>(template: &str, frame: &Frame, page: &T) -> Response {
    render_with_status(StatusCode::OK, template, frame, page)
}

/// [`render`] with a status other than 200.
pub fn render_with_status<T: Serialize>(
    status: StatusCode,
    template: &str,
    frame: &Frame,
    page: &T,
) -> Response {
    let env = environment();
    let context = minijinja::context! {
        frame => Value::from(Serde(frame)),
        lang => frame.lang.code(),
        page => Value::from(Serde(page)),
    };
    match env.get_template(template).and_then(|t| t.render(context)) {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            // Scripts and styles only from the hub itself: no inline code runs.
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
                ),
            );
            response
        }
        Err(err) => {
            tracing::error!(template, error = %err, detail = %err.display_debug_info(), "console page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered; the hub's log says why",
            )
                .into_response()
        }
    }
}

/// A page that says one thing (a result, or why something did not happen) and leads back.
#[derive(Debug, Serialize)]
pub struct Message {
    /// `ok` or `error`.
    pub tone: &'static str,
    pub heading: String,
    /// What it is about, as recorded (a shop's name): shown apart from the page's words.
    pub subject: Option<String>,
    pub detail: String,
    pub back_href: String,
    pub back_label: String,
    /// The address may hold a secret (a token in the query): the page removes its query from
    /// the address bar and history as it loads.
    pub clean_url: bool,
}

pub fn message(status: StatusCode, frame: &Frame, message: &Message) -> Response {
    render_with_status(status, "message.html", frame, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t("...")` in a template names a message of the catalogs.
    #[test]
    fn every_message_a_template_uses_exists() {
        let ids = i18n::ids(include_str!("../../locales/en.ftl"));
        let mut missing = Vec::new();
        for (name, source) in TEMPLATES {
            for part in source.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                if !ids.contains(key) {
                    missing.push(format!("{name}: {key}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "templates use unknown messages: {missing:?}"
        );
    }

    #[test]
    fn every_template_parses() {
        let env = environment();
        for (name, _) in TEMPLATES {
            if let Err(err) = env.get_template(name) {
                panic!("{name}: {err:#}");
            }
        }
    }

    #[test]
    fn times_are_beijing_time() {
        assert_eq!(beijing(Some(0), None), "1970-01-01 08:00");
        assert_eq!(beijing(Some(0), Some(true)), "1970-01-01 08:00:00");
        assert_eq!(beijing(None, None), "—");
        assert_eq!(duration_text(Lang::En, 1_234), "1.2 s");
        assert_eq!(duration_text(Lang::En, 125_000), "2 min 5 s");
        assert_eq!(duration_text(Lang::Zh, 58), "58 毫秒");
        assert_eq!(money("1667.11"), "1,667.11");
        assert_eq!(money("-1234567"), "-1,234,567");
        assert_eq!(money("0.00"), "0.00");
        assert_eq!(money("999"), "999");
        assert_eq!(money("n/a"), "n/a");
    }
}
