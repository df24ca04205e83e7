//! Changes through the API: rule groups added and deleted, silences created and expired.
//! Each change is saved at once.

use std::sync::atomic::Ordering::Relaxed;

use crate::engine::{Alerts, parse_api_specs};
use crate::rules::{self, Problem};
use crate::silence::{Silence, SilenceSpec};

/// Most rule groups the API keeps, and most silences.
const MAX_API_GROUPS: usize = 1_000;
const MAX_SILENCES: usize = 10_000;

impl Alerts {
    /// Validates a rule file (YAML or JSON, plain or a `PrometheusRule`) and, unless
    /// `dry_run`, adds its groups (a group of the same name added before is replaced).
    /// Returns the names of the groups.
    pub async fn add_rules(
        &self,
        text: &str,
        dry_run: bool,
        now_ms: i64,
    ) -> Result<Vec<String>, Vec<Problem>> {
        let added = self.try_add_rules(text, dry_run, now_ms).await;
        if added.is_err() {
            self.stats.rejected_rule_posts.fetch_add(1, Relaxed);
        }
        added
    }

    async fn try_add_rules(
        &self,
        text: &str,
        dry_run: bool,
        now_ms: i64,
    ) -> Result<Vec<String>, Vec<Problem>> {
        let spec = rules::read_file(text, None)?;
        rules::validate(&spec, None, rules::Origin::Api)?;
        let names: Vec<String> = spec.groups.iter().map(|g| g.name.clone()).collect();
        if names.is_empty() {
            return Err(vec![Problem {
                file: None,
                group: None,
                rule: None,
                field: Some("groups".into()),
                message: "no group given".into(),
            }]);
        }
        if dry_run {
            return Ok(names);
        }
        {
            let mut inner = self.lock();
            let mut specs = inner.api_specs.clone();
            specs.groups.retain(|g| !names.contains(&g.name));
            specs.groups.extend(spec.groups);
            if specs.groups.len() > MAX_API_GROUPS {
                return Err(vec![Problem {
                    file: None,
                    group: None,
                    rule: None,
                    field: None,
                    message: format!(
                        "at most {MAX_API_GROUPS} groups may be added through the API"
                    ),
                }]);
            }
            let groups = parse_api_specs(&specs)?;
            inner.api = groups;
            inner.api_specs = specs;
            for name in &names {
                inner.last_eval.remove(&format!("Api:{name}"));
            }
        }
        self.save(now_ms).await;
        Ok(names)
    }

    /// Removes a group added through the API; `false` when there is none of that name.
    pub async fn delete_group(&self, name: &str, now_ms: i64) -> bool {
        let removed = {
            let mut inner = self.lock();
            let before = inner.api_specs.groups.len();
            inner.api_specs.groups.retain(|g| g.name != name);
            inner.api.retain(|g| g.name != name);
            before != inner.api_specs.groups.len()
        };
        if removed {
            self.save(now_ms).await;
        }
        removed
    }

    /// Creates a silence; returns its id.
    pub async fn add_silence(&self, spec: SilenceSpec, now_ms: i64) -> Result<String, String> {
        let id = format!("{:016x}", rand::random::<u64>());
        let silence = Silence::new(spec, id.clone(), now_ms).inspect_err(|_| {
            self.stats.rejected_silences.fetch_add(1, Relaxed);
        })?;
        {
            let mut inner = self.lock();
            // Expired silences older than the history's age go first.
            let max_age = self.options.history_max_age_ms;
            inner.silences.retain(|s| now_ms - s.ends_at_ms < max_age);
            if inner.silences.len() >= MAX_SILENCES {
                return Err(format!("at most {MAX_SILENCES} silences may exist"));
            }
            inner.silences.push(silence);
        }
        self.save(now_ms).await;
        Ok(id)
    }

    /// Expires a silence; `false` when there is none with that id.
    pub async fn expire_silence(&self, id: &str, now_ms: i64) -> bool {
        let found = {
            let mut inner = self.lock();
            match inner.silences.iter_mut().find(|s| s.id == id) {
                Some(s) => {
                    s.expire(now_ms);
                    true
                }
                None => false,
            }
        };
        if found {
            self.save(now_ms).await;
        }
        found
    }
}
