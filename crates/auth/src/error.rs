//! Errors of token management.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("unknown scope '{0}': use ingest, read, admin or browser")]
    UnknownScope(String),
    #[error("invalid origin '{0}': use scheme://host[:port], e.g. https://shop.example.com")]
    InvalidOrigin(String),
    #[error("invalid trusted proxy '{0}': use an address or a network, e.g. 10.0.0.0/8 or ::1")]
    InvalidProxy(String),
    #[error("a browser token needs at least one --origin")]
    BrowserNeedsOrigin,
    #[error("only browser tokens take origins")]
    OriginsOnlyForBrowser,
    #[error("invalid token name '{0}': 1 to 100 printable characters")]
    InvalidName(String),
    #[error("no token with id or name '{0}'")]
    NoSuchToken(String),
    #[error("more than one token is named '{0}': revoke it by id")]
    AmbiguousName(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid token file: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path} has format version {version}, this redscope reads version 1")]
    UnknownVersion { path: PathBuf, version: u32 },
}

impl AuthError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> AuthError {
        AuthError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
