//! Pipeline rules applied at ingest: drop, sample, remove attributes, redact sensitive values,
//! limit the cardinality of metric labels and turn logs and spans into metrics, before records
//! are stored.
//!
//! - [`rules`]: the rule file (TOML), parsed and validated with errors naming rule and field.
//! - [`derive`]: `metric` rules, counting or measuring records into cumulative metric series.
//! - [`RuleSet`]: the rules of one file applied to rows, with what each matched and saved.
//! - [`Pipeline`]: the rules in force, reloaded from their file when it changes and replaced
//!   through the API, each version numbered and the previous ones kept.
//!
//! Log rules run after Log AI and the log pattern counts, so patterns, log counts and the
//! PromQL log metrics see every record; records are dropped only from what is stored. Spans
//! are not dropped at ingest: RED, the service map and triage are derived from every span as
//! it is stored, and a `tail_sample` rule ([`tail`]) decides which traces stay when the store
//! writes its memory to files (attributes can be removed and values redacted at ingest).
//!
//! ```
//! let p = pipeline::Pipeline::from_text("[[rule]]\nname = \"no debug\"\nsignal = \"logs\"\naction = \"drop\"\nmatch = { severity_below = \"INFO\" }\n").unwrap();
//! assert_eq!(p.current().rules.rules.len(), 1);
//! ```

mod apply;
pub mod budget;
pub mod derive;
pub mod redact;
pub mod rules;
pub mod size;
pub mod tail;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use serde::Serialize;

pub use apply::{
    Fields, OVERFLOW_VALUE, RuleSet, RuleStats, RuleStatsView, SAMPLE_RATE_ATTRIBUTE,
    note_sample_rate,
};
pub use budget::{Budget, BudgetView, Ledger};
pub use rules::{Action, Match, Rule, RuleProblem};
pub use tail::{TailPolicy, TraceFacts, Verdict};

/// Versions of the rules kept in memory besides the one in force.
const KEPT_VERSIONS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("invalid pipeline rules: {}", summary(.0))]
    Invalid(Vec<RuleProblem>),
    #[error("pipeline rules file: {0}")]
    Io(#[from] std::io::Error),
}

fn summary(problems: &[RuleProblem]) -> String {
    let parts: Vec<String> = problems
        .iter()
        .map(|p| match &p.rule {
            Some(rule) => format!("rule {rule}: {}: {}", p.field, p.message),
            None if p.field.is_empty() => p.message.clone(),
            None => format!("{}: {}", p.field, p.message),
        })
        .collect();
    parts.join("; ")
}

impl PipelineError {
    pub fn problems(&self) -> &[RuleProblem] {
        match self {
            PipelineError::Invalid(p) => p,
            PipelineError::Io(_) => &[],
        }
    }
}

/// One version of the rules.
#[derive(Debug)]
pub struct Loaded {
    /// 1 for the first rules loaded, then one more per change.
    pub version: u64,
    /// The rule file's text.
    pub text: String,
    pub loaded_at: SystemTime,
    pub rules: RuleSet,
    /// The budgets of the file (their counts are in the pipeline's [`Ledger`]).
    pub budgets: Vec<Budget>,
}

/// A version as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    pub version: u64,
    pub loaded_at_ms: i64,
    pub rules: usize,
}

/// The rules in force, replaced atomically (a batch sees one version from start to end).
#[derive(Debug)]
pub struct Pipeline {
    file: Option<PathBuf>,
    current: RwLock<Arc<Loaded>>,
    history: Mutex<Vec<Arc<Loaded>>>,
    /// The file's modification time and length when last read.
    seen: Mutex<Option<(SystemTime, u64)>>,
    /// Why the file's newest text was not taken, if it was not.
    last_error: Mutex<Option<String>>,
    /// What the budgets counted, kept across versions.
    ledger: Arc<Ledger>,
}

fn loaded(version: u64, text: String, parsed: rules::Parsed) -> Arc<Loaded> {
    Arc::new(Loaded {
        version,
        text,
        loaded_at: SystemTime::now(),
        rules: RuleSet::new(parsed.rules),
        budgets: parsed.budgets,
    })
}

impl Pipeline {
    /// No rules: everything passes.
    pub fn empty() -> Pipeline {
        Pipeline {
            file: None,
            current: RwLock::new(loaded(0, String::new(), rules::Parsed::default())),
            history: Mutex::new(Vec::new()),
            seen: Mutex::new(None),
            last_error: Mutex::new(None),
            ledger: Arc::new(Ledger::default()),
        }
    }

    /// Counts budgets with `ledger` (one read back from the data directory); call before
    /// the pipeline is shared.
    pub fn with_ledger(mut self, ledger: Ledger) -> Pipeline {
        self.ledger = Arc::new(ledger);
        self
    }

    /// What the budgets counted.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// Rules from text (tests, and servers without a file).
    pub fn from_text(text: &str) -> Result<Pipeline, PipelineError> {
        let p = Pipeline::empty();
        p.replace(text)?;
        Ok(p)
    }

    /// Rules from `path` (a missing file is no rules, created when rules are saved); a file
    /// that does not parse stops the start, so a typo never silently turns rules off.
    pub fn open(path: &Path) -> Result<Pipeline, PipelineError> {
        let mut p = Pipeline::empty();
        p.file = Some(path.to_path_buf());
        if path.exists() {
            p.reload()?;
        }
        Ok(p)
    }

    pub fn current(&self) -> Arc<Loaded> {
        match self.current.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// Earlier versions, newest first.
    pub fn history(&self) -> Vec<VersionView> {
        let history = self.history.lock().map(|h| h.clone()).unwrap_or_default();
        history.iter().rev().map(|l| view_of(l)).collect()
    }

    /// Puts `text` in force (checked first; the rules in force stay on any error).
    pub fn replace(&self, text: &str) -> Result<u64, PipelineError> {
        let parsed = rules::parse_all(text)?;
        let mut current = match self.current.write() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let next = loaded(current.version + 1, text.to_string(), parsed);
        let version = next.version;
        let previous = std::mem::replace(&mut *current, next);
        if previous.version > 0
            && let Ok(mut h) = self.history.lock()
        {
            h.push(previous);
            if h.len() > KEPT_VERSIONS {
                h.remove(0);
            }
        }
        if let Ok(mut e) = self.last_error.lock() {
            *e = None;
        }
        Ok(version)
    }

    /// Checks `text`, writes it to the rule file (atomically) and puts it in force.
    pub fn save(&self, text: &str) -> Result<u64, PipelineError> {
        rules::parse_all(text)?;
        if let Some(path) = &self.file {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("tmp");
            {
                use std::io::Write;
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(text.as_bytes())?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, path)?;
            self.remember_file();
        }
        self.replace(text)
    }

    /// Reads the rule file again when it changed; whether new rules came into force. A file
    /// that no longer parses keeps the rules in force (and says why in [`Self::last_error`]).
    pub fn reload_if_changed(&self) -> bool {
        let Some(path) = &self.file else {
            return false;
        };
        let stamp = std::fs::metadata(path)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let changed = self.seen.lock().map(|s| *s != stamp).unwrap_or(false);
        if !changed || stamp.is_none() {
            return false;
        }
        match self.reload() {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "pipeline rules not reloaded; the rules in force stay");
                if let Ok(mut last) = self.last_error.lock() {
                    *last = Some(e.to_string());
                }
                false
            }
        }
    }

    fn reload(&self) -> Result<u64, PipelineError> {
        let Some(path) = &self.file else {
            return Ok(self.current().version);
        };
        self.remember_file();
        let text = std::fs::read_to_string(path)?;
        if text == self.current().text {
            return Ok(self.current().version);
        }
        self.replace(&text)
    }

    fn remember_file(&self) {
        if let Some(path) = &self.file
            && let Ok(m) = std::fs::metadata(path)
            && let Ok(mut seen) = self.seen.lock()
        {
            *seen = Some((m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        }
    }
}

fn view_of(l: &Loaded) -> VersionView {
    VersionView {
        version: l.version,
        loaded_at_ms: l
            .loaded_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
        rules: l.rules.rules.len(),
    }
}

impl Loaded {
    pub fn view(&self) -> VersionView {
        view_of(self)
    }
}

#[cfg(test)]
mod tests;
