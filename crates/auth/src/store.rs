//! `<data>/auth/tokens.json`: the token records, read by a running server whenever the file
//! changes (checked at most once a second) and written by `redscope token ...`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::origin::normalize_origin;
use crate::token::{NewToken, TokenRecord, TokenSpec, constant_time_eq, digest, stored_digest};
use crate::{AuthError, Scope};

/// The version of `tokens.json` this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// How often a running server looks at the file's modification time.
const RECHECK: Duration = Duration::from_secs(1);

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    format_version: u32,
    tokens: Vec<TokenRecord>,
}

/// A record with its hash decoded once.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub record: TokenRecord,
    digest: Option<[u8; 32]>,
}

/// What identifies one version of the file: a rename gives a new inode, a rewrite a new
/// mtime or length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    mtime: Option<SystemTime>,
    len: u64,
    inode: u64,
}

#[derive(Debug)]
struct Loaded {
    tokens: Arc<[StoredToken]>,
    stamp: Option<Stamp>,
}

/// The token records of one data directory.
#[derive(Debug)]
pub struct TokenStore {
    path: PathBuf,
    loaded: RwLock<Loaded>,
    born: Instant,
    /// Milliseconds after `born` of the last look at the file.
    checked_ms: AtomicU64,
}

impl TokenStore {
    /// The store of `data_dir`; a missing file is an empty store, an unreadable one an error.
    pub fn open(data_dir: &Path) -> Result<TokenStore, AuthError> {
        let path = data_dir.join("auth").join("tokens.json");
        let stamp = stamp_of(&path);
        let tokens = load(&path)?;
        Ok(TokenStore {
            path,
            loaded: RwLock::new(Loaded { tokens, stamp }),
            born: Instant::now(),
            checked_ms: AtomicU64::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current tokens, re-read first when the file changed (looked at once a second).
    pub fn tokens(&self) -> Arc<[StoredToken]> {
        self.maybe_reload();
        match self.loaded.read() {
            Ok(l) => Arc::clone(&l.tokens),
            Err(poisoned) => Arc::clone(&poisoned.into_inner().tokens),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens().is_empty()
    }

    /// The token whose secret this is. Every stored hash is compared, in constant time, so the
    /// answer's timing says nothing about which token came close.
    pub fn verify(&self, secret: &str) -> Option<TokenRecord> {
        let presented = digest(secret);
        let mut found = None;
        for token in self.tokens().iter() {
            let Some(stored) = &token.digest else {
                continue;
            };
            if constant_time_eq(stored, &presented) && found.is_none() {
                found = Some(token.record.clone());
            }
        }
        found
    }

    fn maybe_reload(&self) {
        let now_ms = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.checked_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < RECHECK.as_millis() as u64 && last != 0 {
            return;
        }
        // One caller looks; the others go on with what is loaded.
        if self
            .checked_ms
            .compare_exchange(last, now_ms.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        self.reload_if_changed();
    }

    /// Re-reads the file when its stamp changed. A file that cannot be read keeps the tokens
    /// last read (and is logged), so a bad hand edit locks no one out and lets no one in.
    pub fn reload_if_changed(&self) {
        let stamp = stamp_of(&self.path);
        let unchanged = self
            .loaded
            .read()
            .map(|l| l.stamp == stamp)
            .unwrap_or(false);
        if unchanged {
            return;
        }
        match load(&self.path) {
            Ok(tokens) => {
                tracing::info!(tokens = tokens.len(), path = %self.path.display(), "token file reloaded");
                if let Ok(mut l) = self.loaded.write() {
                    *l = Loaded { tokens, stamp };
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "token file unreadable, keeping the tokens read before");
                if let Ok(mut l) = self.loaded.write() {
                    l.stamp = stamp;
                }
            }
        }
    }

    /// Creates a token, writes the file and returns the secret (shown once).
    pub fn create(&self, scope: Scope, spec: TokenSpec) -> Result<NewToken, AuthError> {
        let spec = validate_spec(scope, spec)?;
        let mut file = read_file(&self.path)?;
        let token = NewToken::generate(scope, spec);
        file.tokens.push(token.record.clone());
        write_file(&self.path, &file)?;
        self.reload_if_changed();
        Ok(token)
    }

    /// The records in the file, oldest first.
    pub fn list(&self) -> Result<Vec<TokenRecord>, AuthError> {
        Ok(read_file(&self.path)?.tokens)
    }

    /// Removes the token with this id (or the unique one with this name).
    pub fn revoke(&self, id_or_name: &str) -> Result<TokenRecord, AuthError> {
        let mut file = read_file(&self.path)?;
        let by_id = file.tokens.iter().position(|t| t.id == id_or_name);
        let index = match by_id {
            Some(i) => i,
            None => {
                let named: Vec<usize> = (0..file.tokens.len())
                    .filter(|&i| file.tokens[i].name == id_or_name)
                    .collect();
                match named.as_slice() {
                    [i] => *i,
                    [] => return Err(AuthError::NoSuchToken(id_or_name.to_string())),
                    _ => return Err(AuthError::AmbiguousName(id_or_name.to_string())),
                }
            }
        };
        let removed = file.tokens.remove(index);
        write_file(&self.path, &file)?;
        self.reload_if_changed();
        Ok(removed)
    }
}

fn validate_spec(scope: Scope, spec: TokenSpec) -> Result<TokenSpec, AuthError> {
    if let Some(name) = &spec.name
        && (name.trim().is_empty() || name.len() > 100 || name.chars().any(char::is_control))
    {
        return Err(AuthError::InvalidName(name.clone()));
    }
    match (scope, spec.origins.is_empty()) {
        (Scope::Browser, true) => return Err(AuthError::BrowserNeedsOrigin),
        (Scope::Browser, false) => {}
        (_, false) => return Err(AuthError::OriginsOnlyForBrowser),
        (_, true) => {}
    }
    let mut origins = Vec::new();
    for origin in &spec.origins {
        origins.push(normalize_origin(origin)?);
    }
    Ok(TokenSpec {
        name: spec.name,
        origins,
    })
}

fn stamp_of(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        mtime: meta.modified().ok(),
        len: meta.len(),
        inode,
    })
}

fn load(path: &Path) -> Result<Arc<[StoredToken]>, AuthError> {
    let file = read_file(path)?;
    let mut tokens = Vec::with_capacity(file.tokens.len());
    for record in file.tokens {
        let digest = stored_digest(&record.hash);
        if digest.is_none() {
            tracing::warn!(id = %record.id, "token with a malformed hash ignored");
        }
        tokens.push(StoredToken { record, digest });
    }
    Ok(tokens.into())
}

fn read_file(path: &Path) -> Result<TokenFile, AuthError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(TokenFile {
                format_version: FORMAT_VERSION,
                tokens: Vec::new(),
            });
        }
        Err(e) => return Err(AuthError::io(path, e)),
    };
    let file: TokenFile = serde_json::from_str(&text).map_err(|e| AuthError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if file.format_version != FORMAT_VERSION {
        return Err(AuthError::UnknownVersion {
            path: path.to_path_buf(),
            version: file.format_version,
        });
    }
    Ok(file)
}

/// Writes a new version beside the file and renames it over: a reader sees the old file or
/// the new one, never half of one. Only the owner may read it.
fn write_file(path: &Path, file: &TokenFile) -> Result<(), AuthError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| AuthError::io(dir, e))?;
    let tmp = dir.join(format!(".tokens.json.{}.tmp", std::process::id()));
    let body = serde_json::to_vec_pretty(&TokenFile {
        format_version: FORMAT_VERSION,
        tokens: file.tokens.clone(),
    })
    .map_err(|e| AuthError::io(path, std::io::Error::other(e)))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(&tmp).map_err(|e| AuthError::io(&tmp, e))?;
    out.write_all(&body)
        .and_then(|()| out.sync_all())
        .map_err(|e| AuthError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| AuthError::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spec(name: &str) -> TokenSpec {
        TokenSpec {
            name: Some(name.to_string()),
            origins: vec![],
        }
    }

    #[test]
    fn created_tokens_verify_and_revoked_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        assert!(store.is_empty());
        let t = store.create(Scope::Read, spec("grafana")).unwrap();
        let found = store.verify(&t.secret).unwrap();
        assert_eq!(found.id, t.record.id);
        assert_eq!(found.scope, Scope::Read);
        assert!(store.verify("rs_read_nottherightsecret").is_none());
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(!text.contains(&t.secret));
        assert!(text.contains("\"format_version\": 1"), "{text}");
        store.revoke("grafana").unwrap();
        assert!(store.verify(&t.secret).is_none());
        assert!(matches!(
            store.revoke(&t.record.id),
            Err(AuthError::NoSuchToken(_))
        ));
    }

    #[test]
    fn another_process_writing_the_file_is_seen_within_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let server = TokenStore::open(dir.path()).unwrap();
        let cli = TokenStore::open(dir.path()).unwrap();
        assert!(server.is_empty());
        let t = cli.create(Scope::Ingest, TokenSpec::default()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(3);
        while server.verify(&t.secret).is_none() {
            assert!(Instant::now() < deadline, "new token not picked up");
            std::thread::sleep(Duration::from_millis(50));
        }
        cli.revoke(&t.record.id).unwrap();
        while server.verify(&t.secret).is_some() {
            assert!(Instant::now() < deadline, "revoked token still valid");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn browser_tokens_need_origins_and_others_take_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        assert!(matches!(
            store.create(Scope::Browser, TokenSpec::default()),
            Err(AuthError::BrowserNeedsOrigin)
        ));
        let with_origin = TokenSpec {
            name: None,
            origins: vec!["HTTPS://Shop.Example.com/".to_string()],
        };
        assert!(matches!(
            store.create(Scope::Ingest, with_origin.clone()),
            Err(AuthError::OriginsOnlyForBrowser)
        ));
        let t = store.create(Scope::Browser, with_origin).unwrap();
        assert_eq!(t.record.origins, vec!["https://shop.example.com"]);
    }

    #[test]
    fn a_bad_edit_keeps_the_tokens_read_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        let t = store.create(Scope::Admin, spec("root")).unwrap();
        std::fs::write(store.path(), "{ not json").unwrap();
        store.reload_if_changed();
        assert!(store.verify(&t.secret).is_some());
        assert!(matches!(
            TokenStore::open(dir.path()),
            Err(AuthError::Corrupt { .. })
        ));
        std::fs::write(store.path(), r#"{"format_version": 9, "tokens": []}"#).unwrap();
        assert!(matches!(
            TokenStore::open(dir.path()),
            Err(AuthError::UnknownVersion { version: 9, .. })
        ));
    }
}
