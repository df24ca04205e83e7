//! Access control: tokens with scopes, the file they are kept in, and the decision whether a
//! request may do what it asks.
//!
//! - [`TokenStore`]: `<data>/auth/tokens.json` (format version, id, name, scope, created,
//!   origins and a SHA-256 hash of the secret — never the secret). A running server re-reads
//!   it when it changes, so `redscope token create|revoke` takes effect without a restart.
//! - [`Scope`] and [`Rights`]: `ingest`, `read`, `admin` (implies read and ingest) and
//!   `browser` (public: sends browser telemetry from its listed origins only).
//! - [`Authorizer`]: credential + [`Need`] → [`Principal`] or [`Denied`] (401 or 403), counted.
//!   Adapters (OTLP, API, MCP, UI) only extract the credential ([`credential`]) and map the
//!   answer; a later OIDC login would produce the same [`Principal`].
//! - [`OriginPolicy`]: which cross-origin pages may call the API and `/mcp`.
//! - [`BrowserLimiter`]: token-bucket limits on what browser tokens send, per client address
//!   ([`TrustedProxies`] decide whether `X-Forwarded-For` names it) and per token.
//!
//! ```
//! use std::sync::Arc;
//! use auth::{Authorizer, Need, Scope, TokenSpec, TokenStore};
//! let dir = tempfile::tempdir().unwrap();
//! let store = Arc::new(TokenStore::open(dir.path()).unwrap());
//! let token = store.create(Scope::Read, TokenSpec::default()).unwrap();
//! let authorizer = Authorizer::new(store, false);
//! assert!(authorizer.authorize(Some(&token.secret), Need::Read, None).is_ok());
//! assert!(authorizer.authorize(Some(&token.secret), Need::Admin, None).is_err());
//! assert!(authorizer.authorize(None, Need::Read, None).is_err());
//! ```

mod access;
mod error;
mod origin;
mod proxy;
mod rate;
mod scope;
mod store;
mod token;

pub use access::{
    AuthCounters, Authorizer, COOKIE_NAME, Denied, Need, Principal, bearer_token, credential,
};
pub use error::AuthError;
pub use origin::{OriginPolicy, is_same_origin, normalize_origin};
pub use proxy::TrustedProxies;
pub use rate::{BrowserLimiter, KeyLimits, Limited, LimitedBy, Rate, RateLimits, address_key};
pub use scope::{Rights, Scope};
pub use store::{FORMAT_VERSION, StoredToken, TokenStore};
pub use token::{NewToken, TokenRecord, TokenSpec, hash_secret};

#[cfg(test)]
mod tests;
