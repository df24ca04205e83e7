//! The dashboards of a directory (JSON and YAML files, so that they live in git), read again
//! when a file is added, changed or removed. An invalid file never stops anything: it is listed
//! with its error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use crate::document::{Dashboard, Format};
use crate::error::DashboardError;

/// Files larger than this are not read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// How deep subdirectories are searched.
const MAX_DEPTH: usize = 4;

/// One file of the directory: its dashboard or why it has none.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub path: PathBuf,
    pub result: Result<Dashboard, DashboardError>,
}

/// What was read, and the file list (path, modified time, length) it was read from.
#[derive(Debug, Default)]
struct Loaded {
    files: Vec<FileEntry>,
    fingerprint: Vec<(PathBuf, Option<SystemTime>, u64)>,
    read: bool,
}

/// Counters of the directory's reading.
#[derive(Debug, Default)]
pub struct LibraryStats {
    /// Times the directory was read because it changed.
    pub reloads: AtomicU64,
    /// Invalid files found over all reloads.
    pub invalid_files: AtomicU64,
    /// Documents the validate endpoint refused.
    pub rejected_validations: AtomicU64,
}

/// The dashboards directory; without one, only the built-in dashboards exist.
#[derive(Debug, Default)]
pub struct Library {
    dir: Option<PathBuf>,
    loaded: RwLock<Loaded>,
    /// The services that have a built-in dashboard, and when they were looked up.
    services: std::sync::Mutex<Option<(std::time::Instant, Vec<String>)>>,
    pub stats: LibraryStats,
}

impl Library {
    /// A library of `dir` (nothing read yet: call [`Library::refresh`]); `None` for none.
    pub fn new(dir: Option<PathBuf>) -> Library {
        Library {
            dir,
            ..Library::default()
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Reads the directory again if its files changed; returns whether it did. Blocking.
    pub fn refresh(&self) -> bool {
        let Some(dir) = &self.dir else {
            return false;
        };
        let fingerprint = fingerprint(dir);
        if let Ok(l) = self.loaded.read()
            && l.read
            && l.fingerprint == fingerprint
        {
            return false;
        }
        let mut files: Vec<FileEntry> = fingerprint
            .iter()
            .map(|(path, _, len)| FileEntry {
                path: path.clone(),
                result: read_file(path, *len),
            })
            .collect();
        mark_duplicates(&mut files);
        let invalid = files.iter().filter(|f| f.result.is_err()).count() as u64;
        self.stats.reloads.fetch_add(1, Ordering::Relaxed);
        self.stats
            .invalid_files
            .fetch_add(invalid, Ordering::Relaxed);
        tracing::info!(dir = %dir.display(), files = files.len(), invalid, "dashboards read");
        for f in files.iter().filter_map(|f| f.result.as_ref().err()) {
            tracing::warn!(error = %f, "invalid dashboard file");
        }
        if let Ok(mut l) = self.loaded.write() {
            *l = Loaded {
                files,
                fingerprint,
                read: true,
            };
        }
        true
    }

    /// The files as last read, sorted by path.
    pub fn files(&self) -> Vec<FileEntry> {
        self.loaded
            .read()
            .map(|l| l.files.clone())
            .unwrap_or_default()
    }

    /// The valid dashboard `project`/`name` of the directory.
    pub fn get(&self, project: &str, name: &str) -> Option<(PathBuf, Dashboard)> {
        let l = self.loaded.read().ok()?;
        l.files.iter().find_map(|f| match &f.result {
            Ok(d) if d.project == project && d.name == name => Some((f.path.clone(), d.clone())),
            _ => None,
        })
    }

    /// The services with a built-in dashboard, if looked up less than `max_age` ago (finding
    /// them reads a day of every signal, too much for each page).
    pub fn known_services(&self, max_age: Duration) -> Option<Vec<String>> {
        let known = self.services.lock().ok()?;
        let (at, services) = known.as_ref()?;
        (at.elapsed() < max_age).then(|| services.clone())
    }

    pub fn remember_services(&self, services: Vec<String>) {
        if let Ok(mut known) = self.services.lock() {
            *known = Some((std::time::Instant::now(), services));
        }
    }

    /// Writes `dashboard` into the directory: over the file that holds its project and name,
    /// else as `<dir>/<project>/<name>.yaml`; then reads the directory again. Blocking.
    pub fn save(&self, dashboard: &Dashboard) -> Result<PathBuf, DashboardError> {
        let source_name = format!("{}/{}", dashboard.project, dashboard.name);
        let io = |message: String| DashboardError::Io {
            source_name: source_name.clone(),
            message,
        };
        let Some(dir) = &self.dir else {
            return Err(io(
                "no dashboards directory is configured ([dashboards] dir)".to_string(),
            ));
        };
        let path = match self.get(&dashboard.project, &dashboard.name) {
            Some((path, _)) => path,
            None => dir
                .join(&dashboard.project)
                .join(format!("{}.yaml", dashboard.name)),
        };
        let text = match Format::of_path(&path) {
            Some(Format::Json) => serde_json::to_string_pretty(&dashboard.document)
                .map_err(|e| io(format!("cannot write JSON: {e}")))?,
            _ => dashboard.to_yaml()?,
        };
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent)
            .map_err(|e| io(format!("cannot create {}: {e}", parent.display())))?;
        // Written beside it under a hidden name (never read as a dashboard), then renamed, so
        // that a reload never sees half a file.
        let temp = parent.join(format!(".{}.saving", dashboard.name));
        std::fs::write(&temp, text)
            .map_err(|e| io(format!("cannot write {}: {e}", temp.display())))?;
        std::fs::rename(&temp, &path)
            .map_err(|e| io(format!("cannot write {}: {e}", path.display())))?;
        self.refresh();
        Ok(path)
    }

    /// Refreshes every `interval` until `stop` turns true (reads run on the blocking pool).
    pub async fn watch(
        self: Arc<Self>,
        interval: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        if self.dir.is_none() {
            return;
        }
        loop {
            let library = Arc::clone(&self);
            if let Err(e) = tokio::task::spawn_blocking(move || library.refresh()).await {
                tracing::warn!(error = %e, "reading the dashboards directory failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.wait_for(|v| *v) => return,
            }
        }
    }
}

/// The dashboard files under `dir` (sorted), with what tells a change.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut out = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if meta.is_dir() && !hidden && depth < MAX_DEPTH {
                pending.push((path, depth + 1));
            } else if meta.is_file() && !hidden && Format::of_path(&path).is_some() {
                out.push((path, meta.modified().ok(), meta.len()));
            }
        }
    }
    out.sort();
    out
}

fn read_file(path: &Path, len: u64) -> Result<Dashboard, DashboardError> {
    let source_name = path.display().to_string();
    let io = |message: String| DashboardError::Io {
        source_name: source_name.clone(),
        message,
    };
    if len > MAX_FILE_BYTES {
        return Err(io(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| io(format!("cannot read: {e}")))?;
    let format = Format::of_path(path).unwrap_or(Format::Yaml);
    Dashboard::parse(&text, format, &source_name)
}

/// The second file that defines a project/name already defined gets an error.
fn mark_duplicates(files: &mut [FileEntry]) {
    let mut first: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    for f in files.iter_mut() {
        let Ok(d) = &f.result else { continue };
        let key = (d.project.clone(), d.name.clone());
        match first.get(&key) {
            Some(other) => {
                f.result = Err(DashboardError::Duplicate {
                    source_name: f.path.display().to_string(),
                    project: key.0,
                    name: key.1,
                    other: other.display().to_string(),
                });
            }
            None => {
                first.insert(key, f.path.clone());
            }
        }
    }
}
