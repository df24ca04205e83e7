//! Per-file trace-id filters: a Bloom filter of the trace ids in a span or log file, kept in
//! memory so that a lookup by trace id opens only the files that may hold it.
//!
//! Each Parquet file `X.parquet` has a sidecar `X.parquet.tids`, written after the file. A file
//! without a readable sidecar (older data, a crash in between) is simply always opened.
//!
//! Sidecar layout (little endian): `RSTF` magic, version `1`, `k` (u32), number of words (u32),
//! the words (u64 each), then a checksum (u64) of everything before it.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashSet;

const MAGIC: &[u8; 4] = b"RSTF";
const VERSION: u8 = 1;
/// Bits per distinct id: about 1% false positives with `K` hashes.
const BITS_PER_ID: usize = 10;
const K: u32 = 7;

/// A Bloom filter over trace ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFilter {
    k: u32,
    words: Vec<u64>,
}

/// Two independent 64-bit hashes of an id: hex ids (the OTLP form) are already random, so their
/// two halves are used as they are; anything else is hashed.
fn hashes(id: &str) -> (u64, u64) {
    let b = id.as_bytes();
    if b.len() == 32
        && let (Ok(hi), Ok(lo)) = (
            u64::from_str_radix(&id[..16], 16),
            u64::from_str_radix(&id[16..], 16),
        )
    {
        return (hi, lo | 1);
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    let a = h.finish();
    a.hash(&mut h);
    (a, h.finish() | 1)
}

impl TraceFilter {
    /// A filter holding every id given (repeats are fine).
    pub fn build<'a>(ids: impl Iterator<Item = &'a str>) -> TraceFilter {
        // Each id is hashed once, and the distinct hashes (the filter is sized by them) are
        // kept in a set with a cheap hasher: memory follows the distinct ids, not the rows.
        let hashed: FxHashSet<(u64, u64)> = ids.filter(|id| !id.is_empty()).map(hashes).collect();
        let bits = (hashed.len() * BITS_PER_ID).max(64);
        let mut f = TraceFilter {
            k: K,
            words: vec![0; bits.div_ceil(64)],
        };
        for (h1, h2) in hashed {
            f.insert_hashes(h1, h2);
        }
        f
    }

    fn bit_count(&self) -> u64 {
        self.words.len() as u64 * 64
    }

    fn insert_hashes(&mut self, h1: u64, h2: u64) {
        let m = self.bit_count();
        for i in 0..u64::from(self.k) {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) % m;
            self.words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    /// False only when the id is certainly not in the file.
    pub fn may_contain(&self, id: &str) -> bool {
        let (h1, h2) = hashes(id);
        let m = self.bit_count();
        (0..u64::from(self.k)).all(|i| {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) % m;
            self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0
        })
    }

    /// Bytes held in memory.
    pub fn bytes(&self) -> usize {
        self.words.len() * 8
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(17 + self.words.len() * 8);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.k.to_le_bytes());
        out.extend_from_slice(&(self.words.len() as u32).to_le_bytes());
        for w in &self.words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    fn decode(b: &[u8]) -> Option<TraceFilter> {
        if b.len() < 21 || &b[..4] != MAGIC || b[4] != VERSION {
            return None;
        }
        let (body, sum) = b.split_at(b.len() - 8);
        if checksum(body) != u64::from_le_bytes(sum.try_into().ok()?) {
            return None;
        }
        let k = u32::from_le_bytes(body[5..9].try_into().ok()?);
        let n = u32::from_le_bytes(body[9..13].try_into().ok()?) as usize;
        let words = &body[13..];
        if words.len() != n * 8 || n == 0 || k == 0 || k > 32 {
            return None;
        }
        Some(TraceFilter {
            k,
            words: words
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
        })
    }
}

fn checksum(b: &[u8]) -> u64 {
    // FNV-1a: enough to tell a torn or damaged sidecar.
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Where the filter of a Parquet file lives.
pub fn sidecar_path(parquet: &Path) -> PathBuf {
    let mut name = parquet.as_os_str().to_owned();
    name.push(".tids");
    PathBuf::from(name)
}

/// Writes the sidecar of a Parquet file (best effort: without it the file is always opened).
pub fn write(parquet: &Path, filter: &TraceFilter) {
    let path = sidecar_path(parquet);
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let ok = std::fs::write(&tmp, filter.encode()).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = ok {
        tracing::warn!(error = %e, path = %path.display(), "could not write trace-id filter");
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Reads the sidecar of a Parquet file, if it is there and intact.
pub fn read(parquet: &Path) -> Option<TraceFilter> {
    TraceFilter::decode(&std::fs::read(sidecar_path(parquet)).ok()?)
}

/// Removes a Parquet file and its sidecar.
pub fn remove_with_sidecar(parquet: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_file(sidecar_path(parquet));
    std::fs::remove_file(parquet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u64) -> String {
        format!("{:016x}{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i)
    }

    #[test]
    fn holds_every_id_and_rejects_most_others() {
        let ids: Vec<String> = (0..5000).map(id).collect();
        let f = TraceFilter::build(ids.iter().map(String::as_str));
        assert!(ids.iter().all(|i| f.may_contain(i)));
        let false_hits = (5000..105_000).filter(|i| f.may_contain(&id(*i))).count();
        assert!(false_hits < 2500, "{false_hits} false positives in 100000");
        assert!(f.may_contain("not-hex") == f.may_contain("not-hex"));
        let g = TraceFilter::build(["custom-id", "other"].into_iter());
        assert!(g.may_contain("custom-id") && g.may_contain("other"));
    }

    #[test]
    fn sidecars_round_trip_and_damage_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let parquet = dir.path().join("1_2_3_4.parquet");
        let f = TraceFilter::build(
            (0..100)
                .map(id)
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        write(&parquet, &f);
        assert_eq!(read(&parquet), Some(f.clone()));
        let path = sidecar_path(&parquet);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[20] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&parquet), None, "a damaged sidecar is ignored");
        std::fs::write(&path, &bytes[..10]).unwrap();
        assert_eq!(read(&parquet), None, "a torn sidecar is ignored");
        std::fs::write(&parquet, b"x").unwrap();
        remove_with_sidecar(&parquet).unwrap();
        assert!(!path.exists() && !parquet.exists());
    }
}
