//! Deciding a request: who sent it ([`Principal`]) and whether that is enough for what it
//! asks ([`Need`]). Protocol adapters extract the credential and map [`Denied`] to 401/403 or
//! UNAUTHENTICATED/PERMISSION_DENIED; nothing else sees token strings.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{LimitedBy, Rights, Scope, TokenRecord, TokenStore};

/// Name of the cookie the web UI keeps its token in.
pub const COOKIE_NAME: &str = "redscope_token";

/// Who a request comes from. Built from a token today; an OIDC session would build the same.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token id (`None` on an open server, where no token is needed).
    pub id: Option<String>,
    pub name: String,
    pub rights: Rights,
    /// Origins a browser principal may send from.
    pub origins: Arc<[String]>,
}

impl Principal {
    /// Everyone, on a server without tokens and listening on loopback only.
    pub fn open() -> Principal {
        Principal {
            id: None,
            name: "anonymous".to_string(),
            rights: Rights::ALL,
            origins: Arc::from(Vec::new()),
        }
    }

    /// A browser token: public, so what it sends is rate limited ([`crate::BrowserLimiter`]).
    /// An open server's principal, which holds every right, is not one.
    pub fn is_browser(&self) -> bool {
        self.id.is_some()
            && self.rights.contains(Rights::BROWSER)
            && !self.rights.intersects(Rights::INGEST)
    }

    fn of(record: TokenRecord) -> Principal {
        Principal {
            rights: record.scope.rights(),
            id: Some(record.id),
            name: record.name,
            origins: record.origins.into(),
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Send telemetry; `browser_allowed` where a browser token may do it from its origins
    /// (OTLP/HTTP), not where it may not (gRPC).
    Ingest {
        browser_allowed: bool,
    },
    Read,
    Admin,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No valid credential: 401, gRPC UNAUTHENTICATED.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A valid credential without the right: 403, gRPC PERMISSION_DENIED.
    #[error("{0}")]
    Forbidden(String),
}

/// Counters of refusals, shown at `/api/v1/status`.
#[derive(Debug, Default)]
pub struct AuthCounters {
    pub unauthenticated: AtomicU64,
    pub forbidden: AtomicU64,
    /// Cross-origin requests from origins that are not allowed.
    pub origin_refused: AtomicU64,
    /// Browser-token requests refused by the per-token rate limit.
    pub rate_limited_token: AtomicU64,
    /// Browser-token requests refused by the per-client-address rate limit.
    pub rate_limited_address: AtomicU64,
}

/// The one place requests are decided.
#[derive(Debug)]
pub struct Authorizer {
    store: Arc<TokenStore>,
    /// A listener is exposed beyond loopback: without tokens every request is refused rather
    /// than served openly.
    always_require: bool,
    counters: AuthCounters,
}

impl Authorizer {
    pub fn new(store: Arc<TokenStore>, always_require: bool) -> Authorizer {
        Authorizer {
            store,
            always_require,
            counters: AuthCounters::default(),
        }
    }

    pub fn store(&self) -> &TokenStore {
        &self.store
    }

    pub fn counters(&self) -> &AuthCounters {
        &self.counters
    }

    /// Whether requests need a token right now (any token exists, or a listener is exposed).
    pub fn enforcing(&self) -> bool {
        self.always_require || !self.store.is_empty()
    }

    /// Decides a request carrying `credential` (a bearer token or the UI cookie's value).
    pub fn authorize(
        &self,
        credential: Option<&str>,
        need: Need,
        origin: Option<&str>,
    ) -> Result<Principal, Denied> {
        let result = self.decide(credential, need, origin);
        match &result {
            Err(Denied::Unauthenticated(_)) => {
                self.counters
                    .unauthenticated
                    .fetch_add(1, Ordering::Relaxed);
            }
            Err(Denied::Forbidden(_)) => {
                self.counters.forbidden.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
        }
        result
    }

    fn decide(
        &self,
        credential: Option<&str>,
        need: Need,
        origin: Option<&str>,
    ) -> Result<Principal, Denied> {
        if !self.enforcing() {
            return Ok(Principal::open());
        }
        let Some(secret) = credential.filter(|c| !c.is_empty()) else {
            return Err(Denied::Unauthenticated(
                "a token is required: send 'Authorization: Bearer <token>'",
            ));
        };
        let Some(record) = self.store.verify(secret) else {
            return Err(Denied::Unauthenticated("invalid or revoked token"));
        };
        let principal = Principal::of(record);
        let needed = match need {
            Need::Ingest { .. } => Rights::INGEST,
            Need::Read => Rights::READ,
            Need::Admin => Rights::ADMIN,
        };
        if principal.rights.contains(needed) {
            return Ok(principal);
        }
        let browser_ingest = matches!(
            need,
            Need::Ingest {
                browser_allowed: true
            }
        );
        if browser_ingest && principal.rights.contains(Rights::BROWSER) {
            return match origin {
                Some(o) if principal.origins.iter().any(|a| a.eq_ignore_ascii_case(o)) => {
                    Ok(principal)
                }
                Some(_) => Err(Denied::Forbidden(format!(
                    "browser token '{}' may not send from this origin",
                    principal.name
                ))),
                None => Err(Denied::Forbidden(format!(
                    "browser token '{}' may send only from its origins (no Origin header)",
                    principal.name
                ))),
            };
        }
        Err(Denied::Forbidden(format!(
            "token '{}' lacks the {} scope this needs",
            principal.name,
            scope_for(needed)
        )))
    }

    /// Whether some browser token lists `origin` (for CORS on the OTLP/HTTP paths).
    pub fn browser_origin_known(&self, origin: &str) -> bool {
        self.store.tokens().iter().any(|t| {
            t.record.scope == Scope::Browser
                && t.record
                    .origins
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(origin))
        })
    }

    /// Counts a request refused for its `Origin`.
    pub fn origin_refused(&self) {
        self.counters.origin_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a browser-token request refused by a rate limit.
    pub fn rate_limited(&self, by: LimitedBy) {
        let counter = match by {
            LimitedBy::Token => &self.counters.rate_limited_token,
            LimitedBy::Address => &self.counters.rate_limited_address,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters and the mode, for `/api/v1/status`.
    pub fn snapshot(&self) -> serde_json::Value {
        let c = &self.counters;
        serde_json::json!({
            "enforcing": self.enforcing(),
            "tokens": self.store.tokens().len(),
            "unauthenticated": c.unauthenticated.load(Ordering::Relaxed),
            "forbidden": c.forbidden.load(Ordering::Relaxed),
            "origin_refused": c.origin_refused.load(Ordering::Relaxed),
            "rate_limited": {
                "token": c.rate_limited_token.load(Ordering::Relaxed),
                "address": c.rate_limited_address.load(Ordering::Relaxed),
            },
        })
    }
}

fn scope_for(needed: Rights) -> &'static str {
    if needed == Rights::ADMIN {
        "admin"
    } else if needed == Rights::READ {
        "read"
    } else {
        "ingest"
    }
}

/// The token in an `Authorization: Bearer <token>` value (the scheme is case-insensitive).
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, rest) = authorization.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

/// The credential of an HTTP request: the bearer token, else the UI's cookie.
pub fn credential(headers: &http::HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        return value.to_str().ok().and_then(bearer_token);
    }
    for value in headers.get_all(http::header::COOKIE) {
        let Ok(text) = value.to_str() else {
            continue;
        };
        for pair in text.split(';') {
            if let Some((name, v)) = pair.trim().split_once('=')
                && name == COOKIE_NAME
                && !v.is_empty()
            {
                return Some(v);
            }
        }
    }
    None
}
