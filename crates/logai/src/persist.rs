//! Saving and restoring learned state, with a format version.

use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Config;
use crate::engine::{LogAi, Resource};
use crate::format::FormatLearner;
use crate::miner::{Cluster, Miner};

/// Bumped whenever the persisted shape or the meaning of learned state changes. Still 1 with
/// template aliases: a version-1 file without them loads (no aliases yet) and keeps its ids,
/// which bumping would throw away.
pub const STATE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Persisted {
    version: u32,
    resources: Vec<PersistedResource>,
}

#[derive(Serialize, Deserialize)]
struct PersistedResource {
    key: String,
    records: u64,
    format: FormatLearner,
    clusters: Vec<Cluster>,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

impl LogAi {
    /// Writes the learned state to `path` (atomically: a temporary file renamed over it).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut resources: Vec<PersistedResource> = self
            .resources
            .iter()
            .map(|(key, resource)| PersistedResource {
                key: key.clone(),
                records: resource.records,
                format: resource.format.clone(),
                clusters: resource.miner.clusters().cloned().collect(),
            })
            .collect();
        resources.sort_by(|a, b| a.key.cmp(&b.key));
        let persisted = Persisted {
            version: STATE_VERSION,
            resources,
        };
        let temporary = path.with_extension("tmp");
        {
            let file = std::fs::File::create(&temporary)?;
            let mut writer = BufWriter::new(file);
            serde_json::to_writer(&mut writer, &persisted).map_err(std::io::Error::other)?;
            writer.flush()?;
            writer.get_ref().sync_all()?;
        }
        std::fs::rename(&temporary, path)
    }

    /// Restores state saved by [`LogAi::save`]. A file of another format version gives a
    /// fresh state (what was learned is relearned in a few records); a corrupt file is an error.
    pub fn load(path: &Path, config: Config) -> std::io::Result<LogAi> {
        let text = std::fs::read(path)?;
        let version: VersionOnly = serde_json::from_slice(&text)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let mut logai = LogAi::new(config);
        if version.version != STATE_VERSION {
            return Ok(logai);
        }
        let persisted: Persisted = serde_json::from_reader(BufReader::new(text.as_slice()))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        for stored in persisted
            .resources
            .into_iter()
            .take(logai.config.max_resources)
        {
            let mut clusters = stored.clusters;
            clusters.truncate(logai.config.max_templates_per_resource);
            let resource = Resource {
                format: stored.format,
                miner: Miner::from_clusters(clusters),
                records: stored.records,
                last_used: 0,
                time_memo: Default::default(),
                header_memo: Default::default(),
                level_marks: 0,
                level_places: [0; crate::engine::LEVEL_PLACES],
            };
            logai.resources.insert(stored.key, resource);
        }
        logai.keep_template_shares();
        Ok(logai)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogInput;

    #[test]
    fn round_trip_and_unknown_version() {
        let directory = std::env::temp_dir().join(format!("logai-persist-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("temp dir");
        let path = directory.join("state.json");
        let mut logai = LogAi::new(Config::default());
        let first = logai.process(
            "r",
            &LogInput::text("2026-11-23 10:00:00 INFO a.B: user 1 logged in"),
        );
        logai.process(
            "r",
            &LogInput::text("2026-11-23 10:00:01 INFO a.B: user 2 logged in"),
        );
        logai.save(&path).expect("save");
        let mut restored = LogAi::load(&path, Config::default()).expect("load");
        assert_eq!(restored.patterns("r"), logai.patterns("r"));
        let again = restored.process(
            "r",
            &LogInput::text("2026-11-23 10:00:02 INFO a.B: user 3 logged in"),
        );
        assert_eq!(again.template_id, first.template_id);

        // Restored under a smaller cap for all resources: each keeps its share.
        for (resource, words) in [("r", ["disk", "net", "cpu"]), ("s", ["fan", "psu", "bus"])] {
            for word in words {
                logai.process(
                    resource,
                    &LogInput::text(&format!("2026-11-23 10:00:03 INFO a.B: {word} checked")),
                );
            }
        }
        logai.save(&path).expect("save");
        assert!(logai.patterns("r").len() >= 3 && logai.patterns("s").len() >= 3);
        let small = LogAi::load(
            &path,
            Config {
                max_templates: 4,
                ..Config::default()
            },
        )
        .expect("load");
        assert_eq!(small.patterns("r").len(), 2);
        assert_eq!(small.patterns("s").len(), 2);

        std::fs::write(&path, r#"{"version": 999, "whatever": true}"#).expect("write");
        let fresh = LogAi::load(&path, Config::default()).expect("unknown version is not an error");
        assert!(fresh.patterns("r").is_empty());
        let _ = std::fs::remove_dir_all(&directory);
    }
}
