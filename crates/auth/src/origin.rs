//! Web origins: the form tokens and configuration list them in, and the check that keeps
//! other web pages from using a user's access (`Origin` on the API, `/mcp` and the UI).

use crate::AuthError;

/// `scheme://host[:port]` in lowercase, without a trailing slash; anything else is refused.
pub fn normalize_origin(raw: &str) -> Result<String, AuthError> {
    let invalid = || AuthError::InvalidOrigin(raw.to_string());
    let lower = raw.trim().to_ascii_lowercase();
    let trimmed = lower.strip_suffix('/').unwrap_or(&lower);
    let (scheme, authority) = trimmed.split_once("://").ok_or_else(invalid)?;
    if scheme != "http" && scheme != "https" {
        return Err(invalid());
    }
    let host_ok = !authority.is_empty()
        && !authority.starts_with(':')
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
    if !host_ok {
        return Err(invalid());
    }
    Ok(format!("{scheme}://{authority}"))
}

/// Which cross-origin pages may call a listener (`server.cors_origins`). Requests without an
/// `Origin` (SDKs, curl, agents) and same-origin requests (the UI itself) always pass.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    allowed: Vec<String>,
}

impl OriginPolicy {
    pub fn new(origins: &[String]) -> Result<OriginPolicy, AuthError> {
        let mut allowed = Vec::with_capacity(origins.len());
        for o in origins {
            allowed.push(normalize_origin(o)?);
        }
        Ok(OriginPolicy { allowed })
    }

    /// Whether `origin` is one of the configured ones (exact, case-insensitive).
    pub fn is_listed(&self, origin: &str) -> bool {
        self.allowed.iter().any(|a| a.eq_ignore_ascii_case(origin))
    }

    pub fn origins(&self) -> &[String] {
        &self.allowed
    }

    /// Whether a request with these `Origin` and `Host` headers may be served.
    pub fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        match origin {
            None => true,
            Some(o) => is_same_origin(o, host) || self.is_listed(o),
        }
    }
}

/// Whether the page that sent `Origin` was served by the host the request is addressed to.
pub fn is_same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    let strip = |a: &str| {
        let lower = a.trim().to_ascii_lowercase();
        match lower.strip_suffix(default_port) {
            Some(s) => s.to_string(),
            None => lower,
        }
    };
    strip(authority) == strip(host)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn origins_are_normalized_or_refused() {
        assert_eq!(
            normalize_origin("HTTPS://Shop.Example.com/").unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            normalize_origin("http://localhost:5173").unwrap(),
            "http://localhost:5173"
        );
        for bad in [
            "shop.example.com",
            "ftp://x",
            "https://",
            "https://x/path",
            "*",
            "null",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn same_origin_and_listed_origins_pass_others_do_not() {
        let policy = OriginPolicy::new(&["https://grafana.example.com".to_string()]).unwrap();
        assert!(policy.allows(None, Some("127.0.0.1:8080")));
        assert!(policy.allows(Some("http://127.0.0.1:8080"), Some("127.0.0.1:8080")));
        assert!(policy.allows(Some("http://localhost"), Some("localhost:80")));
        assert!(policy.allows(Some("https://grafana.example.com"), Some("x:1")));
        assert!(!policy.allows(Some("https://evil.example"), Some("127.0.0.1:8080")));
        assert!(!policy.allows(Some("null"), Some("127.0.0.1:8080")));
        assert!(!policy.allows(Some("http://127.0.0.1:8080"), None));
        assert!(!policy.allows(Some("http://127.0.0.1:9999"), Some("127.0.0.1:8080")));
    }
}
