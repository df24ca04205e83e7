//! Uploaded source maps and the symbolication of browser stack traces with them.
//!
//! Files live under `<data>/sourcemaps/<service>/<version>/<path>`, the path being where the
//! file sits in the build output (`assets/app.3f9a.js.map`), its minified `.js` beside it when
//! it was uploaded too (then original function names are recovered, not only positions). A
//! frame of `https://shop.example/assets/app.3f9a.js` looks for `assets/app.3f9a.js.map`, then
//! `app.3f9a.js.map`: the longest suffix of its path that was uploaded.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sourcemap::{DecodedMap, SourceView};

use crate::stack::Frame;

/// Largest file accepted (maps of big bundles run to tens of megabytes).
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// Parsed maps kept in memory at once.
const CACHED: usize = 32;

/// The format of the directory (written to `<data>/sourcemaps/FORMAT`).
const FORMAT: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum SourceMapError {
    #[error("invalid {what}: {why}")]
    BadName {
        what: &'static str,
        why: &'static str,
    },
    #[error("not a source map: {0}")]
    Invalid(String),
    #[error("file larger than {MAX_FILE_BYTES} bytes")]
    TooLarge,
    #[error("could not store the file: {0}")]
    Io(#[from] std::io::Error),
}

impl SourceMapError {
    /// Whether the client sent something wrong (rather than the server failing).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, SourceMapError::Io(_))
    }
}

/// A map and, when uploaded, the minified source it maps.
struct Loaded {
    map: DecodedMap,
    minified: Option<SourceView>,
}

/// The source maps of every service and version.
pub struct SourceMaps {
    root: PathBuf,
    cache: Mutex<HashMap<PathBuf, Arc<Loaded>>>,
    /// Files of each version directory, for finding a map by its file name alone.
    listings: Mutex<HashMap<PathBuf, Arc<Vec<String>>>>,
}

impl std::fmt::Debug for SourceMaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceMaps")
            .field("root", &self.root)
            .finish()
    }
}

/// A service or version as a directory name: refused when it could leave its directory.
fn checked_name<'a>(what: &'static str, name: &'a str) -> Result<&'a str, SourceMapError> {
    let bad = |why| Err(SourceMapError::BadName { what, why });
    if name.is_empty() || name.len() > 200 {
        return bad("must be 1 to 200 bytes");
    }
    if name == "." || name == ".." || name.starts_with('.') {
        return bad("may not start with a dot");
    }
    if name
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return bad("may not hold slashes or control characters");
    }
    Ok(name)
}

/// A relative file path inside a version's directory.
fn checked_path(file: &str) -> Result<PathBuf, SourceMapError> {
    let bad = |why| Err(SourceMapError::BadName { what: "file", why });
    if !(file.ends_with(".map") || file.ends_with(".js") || file.ends_with(".mjs")) {
        return bad("must end in .map, .js or .mjs");
    }
    let mut path = PathBuf::new();
    for part in file.split(['/', '\\']).filter(|p| !p.is_empty()) {
        path.push(checked_name("file", part)?);
    }
    if path.as_os_str().is_empty() {
        return bad("is empty");
    }
    Ok(path)
}

/// Writes `bytes` to `path` under `root` (a file beside it, then a rename: readers never see
/// half a file), creating its directories and `root/FORMAT` with the directory's format.
pub(crate) fn write_file(
    (root, format): (&Path, &str),
    path: &Path,
    bytes: &[u8],
    fsync: bool,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let format_file = root.join("FORMAT");
    if !format_file.exists() {
        std::fs::write(&format_file, format)?;
    }
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if fsync {
            f.sync_all()?;
        }
    }
    std::fs::rename(&tmp, path)
}

/// The files under `dir`, as relative paths with `/`, sorted.
fn list_dir(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                pending.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

impl SourceMaps {
    /// The maps under `data_dir/sourcemaps` (created on the first upload).
    pub fn open(data_dir: &Path) -> SourceMaps {
        SourceMaps {
            root: data_dir.join("sourcemaps"),
            cache: Mutex::new(HashMap::new()),
            listings: Mutex::new(HashMap::new()),
        }
    }

    fn version_dir(&self, service: &str, version: &str) -> Result<PathBuf, SourceMapError> {
        Ok(self
            .root
            .join(checked_name("service", service)?)
            .join(checked_name("version", version)?))
    }

    /// Stores one file of a build (a `.map`, checked to be one, or the minified `.js` it maps).
    pub fn put(
        &self,
        service: &str,
        version: &str,
        file: &str,
        bytes: &[u8],
    ) -> Result<(), SourceMapError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(SourceMapError::TooLarge);
        }
        let relative = checked_path(file)?;
        if file.ends_with(".map") {
            sourcemap::decode_slice(bytes).map_err(|e| SourceMapError::Invalid(e.to_string()))?;
        }
        let path = self.version_dir(service, version)?.join(relative);
        write_file((&self.root, FORMAT), &path, bytes, true)?;
        // A new map, or the minified file of a cached one: uploads are rare, start afresh.
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
        if let Ok(mut listings) = self.listings.lock() {
            listings.clear();
        }
        Ok(())
    }

    /// The files uploaded for a service and version (relative paths, sorted).
    pub fn list(&self, service: &str, version: &str) -> Result<Vec<String>, SourceMapError> {
        Ok(list_dir(&self.version_dir(service, version)?))
    }

    /// The uploaded map whose file name is `name` (`app.3f9a.js.map`) anywhere in `dir`.
    fn by_file_name(&self, dir: &Path, name: &str) -> Option<PathBuf> {
        let listing = {
            let mut listings = self.listings.lock().ok()?;
            let entry = listings
                .entry(dir.to_path_buf())
                .or_insert_with(|| Arc::new(list_dir(dir)));
            Arc::clone(entry)
        };
        listing
            .iter()
            .find(|f| f.rsplit('/').next() == Some(name))
            .map(|f| dir.join(f))
    }

    /// The map for a minified file's URL path, found by the longest uploaded suffix.
    fn find(&self, dir: &Path, url_path: &str) -> Option<Arc<Loaded>> {
        let parts: Vec<&str> = url_path.split('/').filter(|p| !p.is_empty()).collect();
        for start in 0..parts.len() {
            let mut rel = PathBuf::new();
            for part in &parts[start..] {
                rel.push(checked_name("file", part).ok()?);
            }
            let mut map_name = rel.clone().into_os_string();
            map_name.push(".map");
            let map_path = dir.join(map_name);
            if let Some(hit) = self.cache.lock().ok()?.get(&map_path) {
                return Some(Arc::clone(hit));
            }
            if !map_path.is_file() {
                continue;
            }
            return self.load(&map_path, &dir.join(rel));
        }
        let name = format!("{}.map", parts.last()?);
        let map_path = self.by_file_name(dir, &name)?;
        if let Some(hit) = self.cache.lock().ok()?.get(&map_path) {
            return Some(Arc::clone(hit));
        }
        let minified = map_path.with_extension("");
        self.load(&map_path, &minified)
    }

    fn load(&self, map_path: &Path, minified_path: &Path) -> Option<Arc<Loaded>> {
        let bytes = std::fs::read(map_path).ok()?;
        let map = match sourcemap::decode_slice(&bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(path = %map_path.display(), error = %e, "unreadable source map");
                return None;
            }
        };
        let minified = std::fs::read_to_string(minified_path)
            .ok()
            .map(SourceView::from_string);
        let loaded = Arc::new(Loaded { map, minified });
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHED {
                cache.clear();
            }
            cache.insert(map_path.to_path_buf(), Arc::clone(&loaded));
        }
        Some(loaded)
    }

    /// The frames mapped back to the original sources; `None` when no frame could be (no map
    /// uploaded for this service and version, or none covering these files).
    pub fn symbolicate(
        &self,
        service: &str,
        version: &str,
        frames: &[Frame],
    ) -> Option<Vec<Frame>> {
        let dir = self.version_dir(service, version).ok()?;
        if !dir.is_dir() {
            return None;
        }
        let mut mapped_any = false;
        let mut out = Vec::with_capacity(frames.len());
        for frame in frames {
            match self.map_frame(&dir, frame) {
                Some(f) => {
                    mapped_any = true;
                    out.push(f);
                }
                None => out.push(frame.clone()),
            }
        }
        mapped_any.then_some(out)
    }

    fn map_frame(&self, dir: &Path, frame: &Frame) -> Option<Frame> {
        let loaded = self.find(dir, frame.path())?;
        let (line, col) = (frame.line.checked_sub(1)?, frame.column.checked_sub(1)?);
        let token = loaded.map.lookup_token(line, col)?;
        let source = token.get_source()?;
        let minified_name = frame
            .function
            .as_deref()
            .map(|n| n.rsplit('.').next().unwrap_or(n));
        let original_name = loaded
            .map
            .get_original_function_name(line, col, minified_name, loaded.minified.as_ref())
            .map(str::to_string);
        Some(Frame {
            function: original_name
                .or_else(|| frame.function.clone())
                .or_else(|| token.get_name().map(str::to_string)),
            url: source.to_string(),
            line: token.get_src_line() + 1,
            column: token.get_src_col() + 1,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A map of `app.min.js` (one line: `function a(b){throw new Error(b)}a("x");`) to
    /// `src/app.js`, made with the sourcemap crate's builder.
    pub(crate) fn sample_map() -> Vec<u8> {
        let mut b = sourcemap::SourceMapBuilder::new(Some("app.min.js"));
        let src = b.add_source("src/app.js");
        // `a` at column 9 of the minified line is `explode` at line 3, column 10.
        b.add_raw(0, 9, 2, 9, Some(src), None, false);
        // `throw` at column 14 is line 4, column 4.
        b.add_raw(0, 14, 3, 4, Some(src), None, false);
        let name = b.add_name("explode");
        b.add_raw(0, 0, 2, 0, Some(src), Some(name), false);
        let mut out = Vec::new();
        b.into_sourcemap().to_writer(&mut out).unwrap();
        out
    }

    fn frame(url: &str, line: u32, column: u32) -> Frame {
        Frame {
            function: Some("a".to_string()),
            url: url.to_string(),
            line,
            column,
        }
    }

    #[test]
    fn frames_map_to_original_sources() {
        let dir = tempfile::tempdir().unwrap();
        let maps = SourceMaps::open(dir.path());
        maps.put("shop", "1.2.0", "assets/app.min.js.map", &sample_map())
            .unwrap();
        let frames = [frame("https://shop.example/assets/app.min.js?v=1", 1, 15)];
        let mapped = maps.symbolicate("shop", "1.2.0", &frames).unwrap();
        assert_eq!(mapped[0].url, "src/app.js");
        assert_eq!((mapped[0].line, mapped[0].column), (4, 5));
        // Another version has no maps; another path finds the map by its file name.
        assert!(maps.symbolicate("shop", "1.3.0", &frames).is_none());
        let moved = [frame("https://cdn.example/x/app.min.js", 1, 15)];
        assert!(maps.symbolicate("shop", "1.2.0", &moved).is_some());
        assert_eq!(
            maps.list("shop", "1.2.0").unwrap(),
            ["assets/app.min.js.map"]
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_name_stays_inside_the_directory(service in "\\PC{0,12}", version in "[./a-z0-9]{0,8}", file in "[./a-z0-9\\\\]{0,16}") {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("data");
            let maps = SourceMaps::open(&root);
            let name = format!("{file}.js");
            if maps.put(&service, &version, &name, b"x").is_ok() {
                let listed = maps.list(&service, &version).unwrap();
                proptest::prop_assert_eq!(listed.len(), 1);
            }
            // Nothing was written beside the data directory.
            let outside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
            proptest::prop_assert!(outside.iter().all(|n| n == "data"), "{:?}", outside);
        }
    }

    #[test]
    fn bad_names_and_bad_maps_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let maps = SourceMaps::open(dir.path());
        let map = sample_map();
        for (service, version, file) in [
            ("..", "1", "a.js.map"),
            ("shop", "../1", "a.js.map"),
            ("shop", "1", "../../a.js.map"),
            ("shop", "1", "a.txt"),
            ("", "1", "a.js.map"),
        ] {
            let err = maps.put(service, version, file, &map).unwrap_err();
            assert!(err.is_client_error(), "{service} {version} {file}");
        }
        assert!(matches!(
            maps.put("shop", "1", "a.js.map", b"not json"),
            Err(SourceMapError::Invalid(_))
        ));
    }
}
