//! What a token may do.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::AuthError;

/// The scope a token is created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Send telemetry over OTLP (gRPC and HTTP).
    Ingest,
    /// Read: the API, SQL, MCP and the web UI.
    Read,
    /// Everything `read` and `ingest` may, plus changing rules, tokens and retention.
    Admin,
    /// Public by design: send browser telemetry over OTLP/HTTP from its listed origins only.
    Browser,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Ingest, Scope::Read, Scope::Admin, Scope::Browser];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
            Scope::Browser => "browser",
        }
    }

    /// The rights this scope grants (admin implies read and ingest).
    pub fn rights(self) -> Rights {
        match self {
            Scope::Ingest => Rights::INGEST,
            Scope::Read => Rights::READ,
            Scope::Admin => Rights::ADMIN.with(Rights::READ).with(Rights::INGEST),
            Scope::Browser => Rights::BROWSER,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| AuthError::UnknownScope(s.to_string()))
    }
}

/// A set of rights: what a [`crate::Principal`] holds and what a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rights(u8);

impl Rights {
    pub const NONE: Rights = Rights(0);
    pub const INGEST: Rights = Rights(1);
    pub const READ: Rights = Rights(2);
    pub const ADMIN: Rights = Rights(4);
    pub const BROWSER: Rights = Rights(8);
    /// Everything: what an open server (no tokens, loopback only) grants every request.
    pub const ALL: Rights = Rights(15);

    pub const fn with(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    /// Whether every right of `needed` is held.
    pub const fn contains(self, needed: Rights) -> bool {
        self.0 & needed.0 == needed.0
    }

    pub const fn intersects(self, other: Rights) -> bool {
        self.0 & other.0 != 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn admin_implies_read_and_ingest_but_not_browser() {
        let admin = Scope::Admin.rights();
        assert!(admin.contains(Rights::READ));
        assert!(admin.contains(Rights::INGEST));
        assert!(admin.contains(Rights::ADMIN));
        assert!(!admin.contains(Rights::BROWSER));
        assert!(!Scope::Read.rights().contains(Rights::INGEST));
        assert!(!Scope::Ingest.rights().contains(Rights::READ));
        assert!(
            !Scope::Browser
                .rights()
                .intersects(Rights::ALL.with(Rights::NONE).without_browser())
        );
    }

    #[test]
    fn scopes_parse_from_their_names_only() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
        }
        assert!("Admin".parse::<Scope>().is_err());
        assert!("".parse::<Scope>().is_err());
    }

    impl Rights {
        fn without_browser(self) -> Rights {
            Rights(self.0 & !Rights::BROWSER.0)
        }
    }
}
