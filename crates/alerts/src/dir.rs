//! The rules directory (`alerts.rules_dir`): every `*.yml`, `*.yaml` and `*.json` file in
//! it, read again when a file is added, changed or removed. A file with problems is not
//! loaded; the version of it that was loaded before stays, as Prometheus keeps its rules
//! when a reload fails.

use std::path::Path;

use crate::rules::{self, Group, Origin, Problem};

/// What was read from the directory.
#[derive(Debug, Clone, Default)]
pub struct DirRules {
    /// (file name, size, modification time in ns) of each file, to notice changes.
    pub stamp: Vec<(String, u64, u128)>,
    pub groups: Vec<Group>,
    pub problems: Vec<Problem>,
    /// Whether the directory was read at all.
    pub loaded: bool,
}

fn stamp_of(dir: &Path) -> Vec<(String, u64, u128)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, u64, u128)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let rule_file = [".yml", ".yaml", ".json"]
                .iter()
                .any(|ext| name.ends_with(ext))
                && !name.starts_with('.');
            let meta = e.metadata().ok().filter(|m| m.is_file() && rule_file)?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            Some((name, meta.len(), mtime))
        })
        .collect();
    out.sort();
    out
}

/// Reads the directory again when it changed since `before`; `None` when it did not.
pub fn scan(dir: &Path, before: &DirRules) -> Option<DirRules> {
    let stamp = stamp_of(dir);
    if before.loaded && stamp == before.stamp {
        return None;
    }
    let mut groups = Vec::new();
    let mut problems = Vec::new();
    for (name, _, _) in &stamp {
        let text = match std::fs::read_to_string(dir.join(name)) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem {
                    file: Some(name.clone()),
                    group: None,
                    rule: None,
                    field: None,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        match rules::parse(&text, Some(name), Origin::Dir) {
            Ok(g) => groups.extend(g),
            Err(p) => {
                problems.extend(p);
                // Keep what this file gave before.
                groups.extend(
                    before
                        .groups
                        .iter()
                        .filter(|g| g.file.as_deref() == Some(name.as_str()))
                        .cloned(),
                );
            }
        }
    }
    Some(DirRules {
        stamp,
        groups,
        problems,
        loaded: true,
    })
}
