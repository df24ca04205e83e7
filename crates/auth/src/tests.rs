//! Decisions of the [`Authorizer`] for every scope and need.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::*;

struct Fixture {
    _dir: tempfile::TempDir,
    authorizer: Authorizer,
}

fn fixture(always_require: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(TokenStore::open(dir.path()).unwrap());
    Fixture {
        authorizer: Authorizer::new(store, always_require),
        _dir: dir,
    }
}

impl Fixture {
    fn token(&self, scope: Scope, origins: &[&str]) -> String {
        let spec = TokenSpec {
            name: None,
            origins: origins.iter().map(|o| o.to_string()).collect(),
        };
        self.authorizer.store().create(scope, spec).unwrap().secret
    }

    fn ok(&self, secret: Option<&str>, need: Need, origin: Option<&str>) -> bool {
        self.authorizer.authorize(secret, need, origin).is_ok()
    }
}

const INGEST: Need = Need::Ingest {
    browser_allowed: false,
};
const BROWSER_INGEST: Need = Need::Ingest {
    browser_allowed: true,
};

#[test]
fn without_tokens_on_loopback_everything_is_open() {
    let f = fixture(false);
    assert!(!f.authorizer.enforcing());
    let p = f.authorizer.authorize(None, Need::Admin, None).unwrap();
    assert!(p.rights.contains(Rights::ADMIN));
    assert!(p.id.is_none());
}

#[test]
fn without_tokens_on_an_exposed_listener_everything_is_refused() {
    let f = fixture(true);
    assert!(f.authorizer.enforcing());
    assert_eq!(
        f.authorizer.authorize(None, Need::Read, None).unwrap_err(),
        Denied::Unauthenticated("a token is required: send 'Authorization: Bearer <token>'")
    );
}

#[test]
fn each_scope_gets_what_it_grants_and_no_more() {
    let f = fixture(false);
    let ingest = f.token(Scope::Ingest, &[]);
    let read = f.token(Scope::Read, &[]);
    let admin = f.token(Scope::Admin, &[]);
    assert!(f.ok(Some(&ingest), INGEST, None));
    assert!(!f.ok(Some(&ingest), Need::Read, None));
    assert!(f.ok(Some(&read), Need::Read, None));
    assert!(!f.ok(Some(&read), INGEST, None));
    assert!(!f.ok(Some(&read), Need::Admin, None));
    for need in [INGEST, Need::Read, Need::Admin] {
        assert!(f.ok(Some(&admin), need, None), "{need:?}");
    }
    let denied = f.authorizer.authorize(Some(&read), Need::Admin, None);
    assert!(matches!(denied, Err(Denied::Forbidden(m)) if m.contains("admin scope")));
}

#[test]
fn browser_tokens_send_only_from_their_origins_and_only_where_allowed() {
    let f = fixture(false);
    let browser = f.token(Scope::Browser, &["https://shop.example.com"]);
    let shop = Some("https://shop.example.com");
    assert!(f.ok(Some(&browser), BROWSER_INGEST, shop));
    assert!(!f.ok(Some(&browser), BROWSER_INGEST, Some("https://evil.example")));
    assert!(!f.ok(Some(&browser), BROWSER_INGEST, None));
    assert!(!f.ok(Some(&browser), INGEST, shop));
    assert!(!f.ok(Some(&browser), Need::Read, shop));
    assert!(
        f.authorizer
            .browser_origin_known("https://shop.example.com")
    );
    assert!(!f.authorizer.browser_origin_known("https://evil.example"));
}

#[test]
fn refusals_are_counted_by_kind() {
    let f = fixture(false);
    let read = f.token(Scope::Read, &[]);
    assert!(!f.ok(None, Need::Read, None));
    assert!(!f.ok(Some("rs_read_forged"), Need::Read, None));
    assert!(!f.ok(Some(&read), Need::Admin, None));
    let c = f.authorizer.counters();
    assert_eq!(c.unauthenticated.load(Ordering::Relaxed), 2);
    assert_eq!(c.forbidden.load(Ordering::Relaxed), 1);
    let snapshot = f.authorizer.snapshot();
    assert_eq!(snapshot["tokens"], 1);
    assert_eq!(snapshot["enforcing"], true);
}

#[test]
fn only_browser_tokens_are_browser_principals() {
    let f = fixture(false);
    assert!(
        !f.authorizer
            .authorize(None, INGEST, None)
            .unwrap()
            .is_browser()
    );
    let browser = f.token(Scope::Browser, &["https://shop.example.com"]);
    let p = f
        .authorizer
        .authorize(
            Some(&browser),
            BROWSER_INGEST,
            Some("https://shop.example.com"),
        )
        .unwrap();
    assert!(p.is_browser());
    for scope in [Scope::Ingest, Scope::Admin] {
        let secret = f.token(scope, &[]);
        let p = f.authorizer.authorize(Some(&secret), INGEST, None).unwrap();
        assert!(!p.is_browser(), "{scope}");
    }
}

#[test]
fn rate_limit_refusals_are_counted_by_limit() {
    let f = fixture(false);
    f.authorizer.rate_limited(LimitedBy::Address);
    f.authorizer.rate_limited(LimitedBy::Address);
    f.authorizer.rate_limited(LimitedBy::Token);
    let snapshot = f.authorizer.snapshot();
    assert_eq!(snapshot["rate_limited"]["address"], 2, "{snapshot}");
    assert_eq!(snapshot["rate_limited"]["token"], 1, "{snapshot}");
}

#[test]
fn credentials_come_from_the_bearer_header_or_the_ui_cookie() {
    let mut headers = http::HeaderMap::new();
    assert_eq!(credential(&headers), None);
    headers.insert(
        http::header::COOKIE,
        "a=1; redscope_token=rs_read_x; b=2".parse().unwrap(),
    );
    assert_eq!(credential(&headers), Some("rs_read_x"));
    headers.insert(
        http::header::AUTHORIZATION,
        "bearer  rs_admin_y ".parse().unwrap(),
    );
    assert_eq!(credential(&headers), Some("rs_admin_y"));
    headers.insert(
        http::header::AUTHORIZATION,
        "Basic dXNlcjpwdw==".parse().unwrap(),
    );
    assert_eq!(credential(&headers), None);
    assert_eq!(bearer_token("Bearer"), None);
}
