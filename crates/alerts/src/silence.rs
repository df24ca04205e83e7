//! Silences: label matchers (`=`, `!=`, `=~`, `!~`, as Alertmanager's) over a time span.
//! A silenced alert is still evaluated and shown (`silenced: true`); it is not notified.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One matcher, in Alertmanager's API shape.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Matcher {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub is_regex: bool,
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    /// The anchored regular expression of a regex matcher, as Alertmanager anchors it.
    fn regex(&self) -> Result<regex::Regex, String> {
        regex::Regex::new(&format!("^(?:{})$", self.value))
            .map_err(|e| format!("matcher {}: invalid regular expression: {e}", self.name))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.name).map(String::as_str).unwrap_or("");
        let hit = if self.is_regex {
            self.regex().is_ok_and(|r| r.is_match(v))
        } else {
            v == self.value
        };
        hit == self.is_equal
    }
}

/// A silence as the API takes it (without id and state).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SilenceSpec {
    pub matchers: Vec<Matcher>,
    pub starts_at_ms: Option<i64>,
    pub ends_at_ms: i64,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub created_by: String,
    pub comment: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SilenceState {
    Active,
    Pending,
    Expired,
}

impl Silence {
    /// Checks a spec and makes it a silence with `id`; starts now when no start is given.
    pub fn new(spec: SilenceSpec, id: String, now_ms: i64) -> Result<Silence, String> {
        if spec.matchers.is_empty() {
            return Err("a silence needs at least one matcher".to_string());
        }
        for m in &spec.matchers {
            if m.name.trim().is_empty() {
                return Err("a matcher needs a label name".to_string());
            }
            if m.is_regex {
                m.regex()?;
            }
        }
        // A silence must not match everything: one matcher at least must not match "".
        let empty = BTreeMap::new();
        if spec.matchers.iter().all(|m| m.matches(&empty)) {
            return Err("at least one matcher must not match the empty string".to_string());
        }
        let starts_at_ms = spec.starts_at_ms.unwrap_or(now_ms);
        if spec.ends_at_ms <= starts_at_ms {
            return Err("ends_at_ms must be after starts_at_ms".to_string());
        }
        if spec.ends_at_ms <= now_ms {
            return Err("ends_at_ms is in the past".to_string());
        }
        Ok(Silence {
            id,
            matchers: spec.matchers,
            starts_at_ms,
            ends_at_ms: spec.ends_at_ms,
            created_by: spec.created_by,
            comment: spec.comment,
        })
    }

    pub fn state(&self, now_ms: i64) -> SilenceState {
        if now_ms >= self.ends_at_ms {
            SilenceState::Expired
        } else if now_ms < self.starts_at_ms {
            SilenceState::Pending
        } else {
            SilenceState::Active
        }
    }

    /// Whether it silences an alert with `labels` at `now_ms`.
    pub fn silences(&self, labels: &BTreeMap<String, String>, now_ms: i64) -> bool {
        self.state(now_ms) == SilenceState::Active
            && self.matchers.iter().all(|m| m.matches(labels))
    }

    /// Ends it now (a pending one never starts).
    pub fn expire(&mut self, now_ms: i64) {
        if self.starts_at_ms > now_ms {
            self.starts_at_ms = now_ms;
        }
        self.ends_at_ms = self.ends_at_ms.min(now_ms);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn m(name: &str, value: &str, is_regex: bool, is_equal: bool) -> Matcher {
        Matcher {
            name: name.into(),
            value: value.into(),
            is_regex,
            is_equal,
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_four_matcher_kinds() {
        let l = labels(&[("service", "payment"), ("severity", "critical")]);
        assert!(m("service", "payment", false, true).matches(&l));
        assert!(!m("service", "pay", false, true).matches(&l));
        assert!(m("service", "cart", false, false).matches(&l));
        assert!(m("service", "pay.*", true, true).matches(&l));
        // Anchored: "pay" alone does not match "payment".
        assert!(!m("service", "pay", true, true).matches(&l));
        assert!(m("severity", "warn.*", true, false).matches(&l));
        assert!(!m("severity", "crit.*", true, false).matches(&l));
        // A missing label reads as "".
        assert!(m("team", "", false, true).matches(&l));
    }

    #[test]
    fn silences_act_between_start_and_end_and_can_be_expired() {
        let spec = SilenceSpec {
            matchers: vec![m("service", "payment", false, true)],
            starts_at_ms: Some(1_000),
            ends_at_ms: 5_000,
            created_by: "ops".into(),
            comment: "maintenance".into(),
        };
        let mut s = Silence::new(spec, "s1".into(), 500).unwrap();
        let l = labels(&[("service", "payment")]);
        assert_eq!(s.state(500), SilenceState::Pending);
        assert!(!s.silences(&l, 500));
        assert!(s.silences(&l, 1_000));
        assert!(!s.silences(&labels(&[("service", "cart")]), 1_000));
        assert_eq!(s.state(5_000), SilenceState::Expired);
        s.expire(2_000);
        assert!(!s.silences(&l, 2_000));
        assert_eq!(s.state(2_000), SilenceState::Expired);
    }

    #[test]
    fn bad_silences_are_refused() {
        let spec = |matchers: Vec<Matcher>, ends| SilenceSpec {
            matchers,
            starts_at_ms: None,
            ends_at_ms: ends,
            created_by: String::new(),
            comment: String::new(),
        };
        let now = 1_000;
        assert!(Silence::new(spec(vec![], 2_000), "x".into(), now).is_err());
        let e = Silence::new(spec(vec![m("a", "(", true, true)], 2_000), "x".into(), now);
        assert!(e.unwrap_err().contains("regular expression"));
        assert!(
            Silence::new(spec(vec![m("a", ".*", true, true)], 2_000), "x".into(), now).is_err()
        );
        assert!(Silence::new(spec(vec![m("a", "b", false, true)], 500), "x".into(), now).is_err());
    }
}
