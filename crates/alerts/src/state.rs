//! What survives a restart: active alerts (with their `active_at`), silences, the history
//! and the rule groups added through the API, in one versioned JSON file under the data
//! directory, written atomically (temporary file, fsync, rename, fsync of the directory) so
//! that a crash at any moment leaves the old file or the new one.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::lifecycle::{Active, Event};
use crate::rules::RuleFile;
use crate::silence::Silence;

/// The format version this code writes and reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Persisted {
    pub version: u32,
    pub saved_at_ms: i64,
    pub alerts: Vec<Active>,
    pub silences: Vec<Silence>,
    /// Oldest first.
    pub history: VecDeque<Event>,
    /// Groups added through the API, as they were posted.
    pub api_groups: RuleFile,
}

/// The state file of a data directory.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join("alerts").join("state.json")
}

/// Reads the state; no file is an empty state, a file of another version is an error.
pub fn load(path: &Path) -> Result<Persisted, crate::AlertsError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Persisted {
                version: VERSION,
                ..Persisted::default()
            });
        }
        Err(e) => return Err(crate::AlertsError::Io(path.display().to_string(), e)),
    };
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let v: Version = serde_json::from_slice(&bytes)
        .map_err(|e| crate::AlertsError::State(format!("{}: {e}", path.display())))?;
    if v.version != VERSION {
        return Err(crate::AlertsError::State(format!(
            "{}: format version {} is not the version {VERSION} this redscope reads",
            path.display(),
            v.version
        )));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| crate::AlertsError::State(format!("{}: {e}", path.display())))
}

/// Writes the state atomically.
pub fn save(path: &Path, state: &Persisted) -> Result<(), crate::AlertsError> {
    let io = |e: std::io::Error| crate::AlertsError::Io(path.display().to_string(), e);
    let dir = path
        .parent()
        .ok_or_else(|| crate::AlertsError::State("the state file has no directory".into()))?;
    std::fs::create_dir_all(dir).map_err(io)?;
    let body = serde_json::to_vec(state).map_err(|e| crate::AlertsError::State(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&body).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    // The rename is durable once the directory is.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::lifecycle::AlertState;

    #[test]
    fn state_round_trips_and_other_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        assert_eq!(load(&path).unwrap().version, VERSION);
        let alert = Active {
            fingerprint: "f".into(),
            rule_id: "g/0/A".into(),
            rule: "A".into(),
            group: "g".into(),
            state: AlertState::Firing,
            labels: [("alertname".to_string(), "A".to_string())].into(),
            annotations: Default::default(),
            value: 0.5,
            active_at_ms: 1_000,
            fired_at_ms: Some(2_000),
            last_seen_ms: 3_000,
            last_sent_ms: None,
            sent_labels: None,
        };
        let state = Persisted {
            version: VERSION,
            saved_at_ms: 3_000,
            alerts: vec![alert],
            ..Persisted::default()
        };
        save(&path, &state).unwrap();
        assert!(!path.with_extension("json.tmp").exists());
        assert_eq!(load(&path).unwrap(), state);
        std::fs::write(&path, r#"{"version": 99}"#).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("version 99"), "{e}");
        std::fs::write(&path, "{").unwrap();
        assert!(load(&path).is_err());
    }
}
