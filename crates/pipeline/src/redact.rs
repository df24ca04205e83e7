//! Finding sensitive values in text: built-in detectors and the user's patterns, replaced by a
//! mask naming what was found or by a short hash (so equal values stay joinable).

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;
use sha2::{Digest, Sha256};

/// A built-in kind of sensitive value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detector {
    /// E-mail addresses.
    Email,
    /// Payment card numbers (13 to 19 digits passing the Luhn check).
    Card,
    /// Bearer tokens, JSON web tokens, AWS access key ids, `password=`/`token=`/`secret=` values.
    Token,
    /// IPv4 addresses.
    Ip,
}

impl Detector {
    pub fn parse(name: &str) -> Option<Detector> {
        Some(match name {
            "email" => Detector::Email,
            "card" | "credit_card" => Detector::Card,
            "token" | "secret" => Detector::Token,
            "ip" => Detector::Ip,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Detector::Email => "email",
            Detector::Card => "card",
            Detector::Token => "token",
            Detector::Ip => "ip",
        }
    }

    /// The detector's regular expression (the syntax of the `regex` crate, which DataFusion's
    /// `regexp_like` shares).
    pub fn pattern(self) -> &'static str {
        self.regex().as_str()
    }

    fn regex(self) -> &'static Regex {
        static RES: OnceLock<[Regex; 4]> = OnceLock::new();
        let all = RES.get_or_init(|| {
            let re = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("built-in pattern {p}: {e}"));
            [
                re(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
                re(r"\b(?:\d[ -]?){12,18}\d\b"),
                re(concat!(
                    r"(?i:bearer\s+)[A-Za-z0-9._~+/=-]{12,}",
                    r"|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}",
                    r"|\bAKIA[0-9A-Z]{16}\b",
                    r#"|(?i:password|passwd|pwd|secret|api[_-]?key|token)["']?\s*[=:]\s*["']?[^\s"'&,;]{4,}"#,
                )),
                re(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
            ]
        });
        match self {
            Detector::Email => &all[0],
            Detector::Card => &all[1],
            Detector::Token => &all[2],
            Detector::Ip => &all[3],
        }
    }
}

/// Whether `digits` (spaces and dashes allowed) pass the Luhn check.
fn luhn(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                (d * 2).div_euclid(10) + (d * 2) % 10
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn replacement(kind: &str, found: &str, hash: bool) -> String {
    if hash {
        let digest = Sha256::digest(found.as_bytes());
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("[{kind}:{hex}]")
    } else {
        format!("[REDACTED:{kind}]")
    }
}

/// `text` with every value the detectors and patterns find replaced, and how many were.
pub fn redact<'a>(
    text: &'a str,
    detectors: &[Detector],
    patterns: &[Regex],
    hash: bool,
) -> (Cow<'a, str>, u64) {
    let mut out = Cow::Borrowed(text);
    let mut count = 0u64;
    for d in detectors {
        let re = d.regex();
        if !re.is_match(&out) {
            continue;
        }
        let replaced = re.replace_all(&out, |c: &regex::Captures| {
            let found = &c[0];
            if *d == Detector::Card && !luhn(found) {
                return found.to_string();
            }
            count += 1;
            replacement(d.name(), found, hash)
        });
        out = Cow::Owned(replaced.into_owned());
    }
    for p in patterns {
        if !p.is_match(&out) {
            continue;
        }
        let replaced = p.replace_all(&out, |c: &regex::Captures| {
            count += 1;
            replacement("pattern", &c[0], hash)
        });
        out = Cow::Owned(replaced.into_owned());
    }
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Detector> {
        vec![
            Detector::Email,
            Detector::Card,
            Detector::Token,
            Detector::Ip,
        ]
    }

    #[test]
    fn built_in_detectors_find_what_they_name() {
        let (out, n) = redact(
            "user alice@example.com paid with 4111 1111 1111 1111 from 10.1.2.3 using Authorization: Bearer abcdefghijklmnop1234",
            &all(),
            &[],
            false,
        );
        assert_eq!(n, 4, "{out}");
        assert!(
            !out.contains("alice@")
                && !out.contains("4111")
                && !out.contains("10.1.2.3")
                && !out.contains("abcdefghijklmnop"),
            "{out}"
        );
        assert!(
            out.contains("[REDACTED:email]") && out.contains("[REDACTED:card]"),
            "{out}"
        );
    }

    #[test]
    fn a_number_failing_luhn_is_not_a_card() {
        let (out, n) = redact("order 1234567890123 shipped", &[Detector::Card], &[], false);
        assert_eq!(n, 0);
        assert_eq!(out, "order 1234567890123 shipped");
    }

    #[test]
    fn secrets_in_key_value_form_and_jwts() {
        let (out, n) = redact(
            "login password=hunter2xx token: eyJhbGciOi.eyJzdWIiOiIx.SflKxwRJSM ok",
            &[Detector::Token],
            &[],
            false,
        );
        assert_eq!(n, 2, "{out}");
        assert!(
            !out.contains("hunter2") && !out.contains("eyJhbGci"),
            "{out}"
        );
        assert!(out.ends_with(" ok"));
    }

    #[test]
    fn hashing_keeps_equal_values_equal_and_user_patterns_apply() {
        let p = [Regex::new("session=[0-9a-f]+").unwrap()];
        let (a, _) = redact("a@b.io session=beef", &[Detector::Email], &p, true);
        let (b, _) = redact("a@b.io session=beef", &[Detector::Email], &p, true);
        let (c, _) = redact("c@d.io session=beef", &[Detector::Email], &p, true);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("[email:") && a.contains("[pattern:"), "{a}");
    }

    #[test]
    fn text_without_findings_is_not_copied() {
        let (out, n) = redact("nothing to see", &all(), &[], false);
        assert_eq!(n, 0);
        assert!(matches!(out, Cow::Borrowed(_)));
    }
}
