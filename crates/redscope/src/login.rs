//! The web UI's sign-in: a form that takes a read token once and keeps it in an `HttpOnly`,
//! `SameSite=Strict` cookie, which the API accepts like a bearer token.

use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use auth::{COOKIE_NAME, Denied, Need};

use crate::access::Gate;

const PAGE: &str = include_str!("login.html");
/// A sign-in form is a few hundred bytes; anything much larger is not one.
const MAX_FORM_BYTES: usize = 8 * 1024;

/// The form, with an optional error and the page to return to after signing in.
pub fn page_with(status: StatusCode, message: Option<&str>, next: &str) -> Response {
    let message = message
        .map(|m| format!("<p class=\"error\">{}</p>", escape(m)))
        .unwrap_or_default();
    let html = PAGE
        .replace("{{message}}", &message)
        .replace("{{next}}", &escape(next));
    let mut response = (status, html).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// What a UI page answers without a token: the form (401), returning to the page afterwards.
pub fn page(next: Option<&str>) -> Response {
    page_with(StatusCode::UNAUTHORIZED, None, next.unwrap_or("/"))
}

/// `GET /login[?next=/path]`: the form on its own (the UI sends people here on a 401).
pub async fn form(RawQuery(query): RawQuery) -> Response {
    let next = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "next")
        .map(|(_, value)| safe_next(&value))
        .unwrap_or_else(|| "/".to_string());
    page_with(StatusCode::OK, None, &next)
}

/// `POST /login` (`token=...&next=...`): checks the token and sets the cookie.
pub async fn submit(State(gate): State<Gate>, request: Request) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Ok(bytes) = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await else {
        return page_with(
            StatusCode::BAD_REQUEST,
            Some("The form was too large."),
            "/",
        );
    };
    let mut token = String::new();
    let mut next = "/".to_string();
    for (key, value) in form_urlencoded::parse(&bytes) {
        match key.as_ref() {
            "token" => token = value.trim().to_string(),
            "next" => next = safe_next(&value),
            _ => {}
        }
    }
    let decision = gate
        .authorizer
        .authorize(Some(&token), Need::Read, origin.as_deref());
    match decision {
        Ok(_) => signed_in(&token, &next),
        Err(Denied::Unauthenticated(_)) => page_with(
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid (or was revoked)."),
            &next,
        ),
        Err(Denied::Forbidden(_)) => page_with(
            StatusCode::FORBIDDEN,
            Some("That token cannot read: use one with the read or admin scope."),
            &next,
        ),
    }
}

fn signed_in(token: &str, next: &str) -> Response {
    // Tokens are `rs_<scope>_<hex>`; anything that is not a valid cookie value is refused.
    if token
        .bytes()
        .any(|b| b == b';' || b == b',' || b.is_ascii_whitespace())
    {
        return page_with(StatusCode::BAD_REQUEST, Some("That is not a token."), "/");
    }
    let cookie = format!("{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/");
    let (Ok(cookie), Ok(location)) = (HeaderValue::from_str(&cookie), HeaderValue::from_str(next))
    else {
        return page_with(StatusCode::BAD_REQUEST, Some("That is not a token."), "/");
    };
    redirect(location, cookie)
}

/// `POST /logout`: forgets the cookie.
pub async fn logout() -> Response {
    let cookie = format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    match HeaderValue::from_str(&cookie) {
        Ok(c) => redirect(HeaderValue::from_static("/login"), c),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn redirect(location: HeaderValue, cookie: HeaderValue) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    let h = response.headers_mut();
    h.insert(header::LOCATION, location);
    h.insert(header::SET_COOKIE, cookie);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A path on this server only: no scheme, no `//host`, no backslash tricks.
fn safe_next(raw: &str) -> String {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(char::is_control);
    if ok { raw.to_string() } else { "/".to_string() }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server_and_text_is_escaped() {
        assert_eq!(safe_next("/service/checkout?x=1"), "/service/checkout?x=1");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil"), "/");
        assert_eq!(escape("\"><script>"), "&quot;&gt;&lt;script&gt;");
    }
}
