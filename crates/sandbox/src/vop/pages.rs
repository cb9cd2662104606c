//! The HTML pages of the simulated auth.vip.com: login, consent (授权 / 取消), code, errors.

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; background: #f5f5f5; margin: 0; }}
main {{ max-width: 420px; margin: 48px auto; background: #fff; padding: 24px 28px; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
h1 {{ color: #e4007f; font-size: 1.3rem; }}
label {{ display: block; margin: 12px 0 4px; }}
input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box; padding: 8px; }}
button {{ margin-top: 16px; padding: 8px 20px; border: 0; border-radius: 4px; cursor: pointer; }}
.primary {{ background: #e4007f; color: #fff; }}
.error {{ color: #b00020; }}
code {{ font-size: 1.2rem; word-break: break-all; }}
.note {{ color: #777; font-size: .85rem; }}
</style>
</head>
<body><main>
<p class="note">唯品会开放平台 · shopbridge sandbox</p>
{body}
</main></body>
</html>"#,
        title = escape(title)
    )
}

/// What the login form carries along.
pub struct LoginContext<'a> {
    pub app_name: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
    pub display: Option<&'a str>,
    pub error: Option<&'a str>,
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        r#"<input type="hidden" name="{}" value="{}">"#,
        escape(name),
        escape(value)
    )
}

pub fn login_page(ctx: &LoginContext<'_>) -> String {
    let mut fields = hidden("client_id", ctx.client_id);
    fields.push_str(&hidden("response_type", "code"));
    fields.push_str(&hidden("redirect_uri", ctx.redirect_uri));
    if let Some(state) = ctx.state {
        fields.push_str(&hidden("state", state));
    }
    if let Some(display) = ctx.display {
        fields.push_str(&hidden("display", display));
    }
    let error = ctx
        .error
        .map(|error| format!(r#"<p class="error" role="alert">{}</p>"#, escape(error)))
        .unwrap_or_default();
    layout(
        "登录唯品会",
        &format!(
            r#"<h1>登录唯品会 · Sign in</h1>
<p>应用 <strong>{app}</strong> 请求访问你的唯品会账号。</p>
{error}
<form method="post" action="authorize" id="login-form">
{fields}
<label for="username">用户名 (username)</label>
<input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">密码 (password)</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" class="primary" id="login">登录 (sign in)</button>
</form>"#,
            app = escape(ctx.app_name),
        ),
    )
}

pub fn consent_page(app_name: &str, username: &str, ticket: &str) -> String {
    layout(
        "授权",
        &format!(
            r#"<h1>授权 · Authorize</h1>
<p><strong>{user}</strong>,应用 <strong>{app}</strong> 将获得访问你的订单、商品与推广数据的权限。</p>
<form method="post" action="consent" id="consent-form">
{ticket}
<button type="submit" class="primary" name="decision" value="approve" id="approve">授权 (approve)</button>
<button type="submit" name="decision" value="deny" id="deny">取消 (cancel)</button>
</form>"#,
            user = escape(username),
            app = escape(app_name),
            ticket = hidden("ticket", ticket),
        ),
    )
}

pub fn oob_code_page(code: &str) -> String {
    layout(
        "授权码",
        &format!(
            r#"<h1>授权成功 · Authorized</h1>
<p>请将以下授权码复制到应用中 (copy this code into the application):</p>
<p><code id="authorization-code">{}</code></p>
<p class="note">授权码10分钟内有效,只能使用一次。</p>"#,
            escape(code)
        ),
    )
}

pub fn error_page(error: &str, description: &str) -> String {
    layout(
        "授权失败",
        &format!(
            r#"<h1>授权失败 · Authorization failed</h1>
<p class="error" role="alert"><strong id="error">{}</strong>: <span id="error-description">{}</span></p>"#,
            escape(error),
            escape(description)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let page = login_page(&LoginContext {
            app_name: "<script>",
            client_id: "c",
            redirect_uri: "http://x/\"cb",
            state: Some("s&t"),
            display: None,
            error: None,
        });
        assert!(!page.contains("<script>"));
        assert!(page.contains("s&amp;t"));
    }
}
