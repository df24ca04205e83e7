//! Reading the per-minute RED and edge rollups, with a cache of parsed hours.
//!
//! Rollups are metric points written every few seconds, so one minute of one key arrives in
//! several partial rows. Reading them merges the partial rows and trims each histogram to its
//! non-zero buckets. Each hour is parsed once per state of its rows (its fingerprint, see
//! [`storage::Store::hour_fingerprints`]: files on disk and memtable contents) and kept, so a
//! day of RED reads 24 cached hours, and the requests of one page (RED, service map, blast
//! radius all read the current hour) share one read: readers of one metric take turns, and
//! the ones after the first find the hour parsed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, UInt64Type};
use model::{Signal, TimeRange};
use serde_json::{Map, Value};

use crate::sql::quote;
use crate::{QueryError, QueryService};

const MINUTE_NS: i64 = 60_000_000_000;
const HOUR_NS: i64 = 3_600_000_000_000;
/// What the cache of parsed hours may hold.
const CACHE_BYTES: usize = 64 << 20;
/// What one cached hour costs besides its rows (key, entry, map slot).
const ENTRY_BYTES: usize = 160;

/// One rollup: a key's requests and durations in one minute.
#[derive(Debug, Clone)]
pub(crate) struct Rollup {
    pub(crate) t: i64,
    pub(crate) service: String,
    pub(crate) attrs: Arc<Map<String, Value>>,
    /// The attributes as stored: the key rows merge on.
    raw_attrs: Arc<str>,
    pub(crate) requests: u64,
    pub(crate) error: bool,
    /// Bucket counts from bucket `first` on; the others are zero.
    first: usize,
    counts: Vec<u64>,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
}

impl Rollup {
    pub(crate) fn merge_into(&self, sketch: &mut analysis::Sketch) {
        sketch.merge_counts_at(self.first, &self.counts, self.sum);
        sketch.widen(self.min, self.max);
    }

    /// A string attribute, or "".
    pub(crate) fn attr(&self, key: &str) -> &str {
        self.attrs.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// The sampled hashes of a distinct-count rollup.
    pub(crate) fn hashes(&self) -> &[u64] {
        &self.counts
    }

    /// Merges a distinct-count rollup: the union of the samples.
    fn absorb_sample(&mut self, other: &Rollup) {
        let mut s = analysis::DistinctSample {
            hashes: std::mem::take(&mut self.counts),
        };
        s.merge(&other.counts);
        self.requests = s.hashes.len() as u64;
        self.counts = s.hashes;
    }

    fn absorb(&mut self, other: &Rollup) {
        let lo = self.first.min(other.first);
        let hi = (self.first + self.counts.len()).max(other.first + other.counts.len());
        let mut counts = vec![0u64; hi - lo];
        for (i, c) in self.counts.iter().enumerate() {
            counts[self.first - lo + i] += c;
        }
        for (i, c) in other.counts.iter().enumerate() {
            counts[other.first - lo + i] += c;
        }
        self.first = lo;
        self.counts = counts;
        self.requests += other.requests;
        self.sum += other.sum;
        self.min = min_of(self.min, other.min, f64::min);
        self.max = min_of(self.max, other.max, f64::max);
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.service.len() + self.counts.len() * 8
    }
}

fn min_of(a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, b) => a.or(b),
    }
}

/// The rollups of a window: cached hours and fresh ones, filtered on iteration.
pub(crate) struct Rollups {
    parts: Vec<Arc<Vec<Rollup>>>,
    start: i64,
    end: i64,
    service: Option<String>,
}

impl Rollups {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Rollup> {
        self.parts.iter().flat_map(|p| p.iter()).filter(|r| {
            r.t >= self.start
                && r.t < self.end
                && self.service.as_deref().is_none_or(|s| r.service == s)
        })
    }
}

struct Entry {
    fingerprint: u64,
    rows: Arc<Vec<Rollup>>,
    bytes: usize,
    used: u64,
}

/// Parsed hours per rollup metric, least recently used evicted past [`CACHE_BYTES`].
#[derive(Default)]
pub(crate) struct RollupCache {
    inner: Mutex<CacheInner>,
    /// One turn per metric: concurrent readers of a metric wait for the first one's hours.
    turns: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Default)]
struct CacheInner {
    hours: HashMap<(String, i64), Entry>,
    bytes: usize,
    tick: u64,
}

impl RollupCache {
    fn turn(&self, metric: &str) -> Option<Arc<tokio::sync::Mutex<()>>> {
        let mut turns = self.turns.lock().ok()?;
        Some(Arc::clone(turns.entry(metric.to_string()).or_default()))
    }

    fn get(&self, metric: &str, hour: i64, fingerprint: u64) -> Option<Arc<Vec<Rollup>>> {
        let mut inner = self.inner.lock().ok()?;
        inner.tick += 1;
        let tick = inner.tick;
        let e = inner.hours.get_mut(&(metric.to_string(), hour))?;
        if e.fingerprint != fingerprint {
            return None;
        }
        e.used = tick;
        Some(Arc::clone(&e.rows))
    }

    fn put(&self, metric: &str, hour: i64, fingerprint: u64, rows: Arc<Vec<Rollup>>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        // Empty hours are cheap to read again and would only fill the map.
        let bytes = ENTRY_BYTES + rows.iter().map(Rollup::bytes).sum::<usize>();
        if rows.is_empty() || bytes > CACHE_BYTES / 4 {
            return;
        }
        inner.tick += 1;
        let used = inner.tick;
        if let Some(old) = inner.hours.insert(
            (metric.to_string(), hour),
            Entry {
                fingerprint,
                rows,
                bytes,
                used,
            },
        ) {
            inner.bytes -= old.bytes;
        }
        inner.bytes += bytes;
        while inner.bytes > CACHE_BYTES {
            let Some(oldest) = inner
                .hours
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = inner.hours.remove(&oldest) {
                inner.bytes -= e.bytes;
            }
        }
    }
}

impl QueryService {
    /// The rollups of `metric` in the whole minutes overlapping `range`, of one service or all.
    pub(crate) async fn rollups(
        &self,
        metric: &str,
        range: TimeRange,
        service: Option<&str>,
    ) -> Result<Rollups, QueryError> {
        // Rollups are stamped with the start of their minute: widen the window to whole minutes.
        let start = range.start_ns.div_euclid(MINUTE_NS) * MINUTE_NS;
        let end = range.end_ns;
        let mut out = Rollups {
            parts: Vec::new(),
            start,
            end,
            service: service.map(str::to_string),
        };
        if end <= start {
            return Ok(out);
        }
        let (first_hour, last_hour) = (start.div_euclid(HOUR_NS), (end - 1).div_euclid(HOUR_NS));
        let turn = self.rollup_cache.turn(metric);
        let _turn = match &turn {
            Some(t) => Some(t.lock().await),
            None => None,
        };
        let fingerprints = self
            .store()
            .hour_fingerprints(Signal::Metrics, first_hour, last_hour);
        // Hours to read: (hour, fingerprint when it may be cached).
        let mut missing: Vec<(i64, Option<u64>)> = Vec::new();
        for (hour, fp) in (first_hour..=last_hour).zip(fingerprints) {
            match fp.and_then(|fp| self.rollup_cache.get(metric, hour, fp)) {
                Some(rows) => out.parts.push(rows),
                None => missing.push((hour, fp)),
            }
        }
        // One query per run of consecutive missing hours; cacheable hours are read whole.
        let mut i = 0;
        while i < missing.len() {
            let mut j = i;
            while j + 1 < missing.len() && missing[j + 1].0 == missing[j].0 + 1 {
                j += 1;
            }
            let (h0, h1) = (missing[i].0, missing[j].0);
            let lo = if missing[i].1.is_some() {
                h0 * HOUR_NS
            } else {
                start.max(h0 * HOUR_NS)
            };
            let hi = if missing[j].1.is_some() {
                (h1 + 1) * HOUR_NS
            } else {
                end.min((h1 + 1) * HOUR_NS)
            };
            let sql = format!(
                "SELECT time_unix_nano, service_name, attributes, bucket_counts, sum, min, max \
                 FROM metric_points WHERE metric_name = {} AND time_unix_nano >= {lo} AND time_unix_nano < {hi}",
                quote(metric)
            );
            let samples = metric == analysis::REACH_DISTINCT_METRIC;
            let mut by_hour = parse(&self.collect(&sql).await?, samples)?;
            for &(hour, fp) in &missing[i..=j] {
                let rows = by_hour.remove(&hour).unwrap_or_default();
                let rows = Arc::new(merge_minutes(rows, samples));
                if let Some(fp) = fp {
                    self.rollup_cache.put(metric, hour, fp, Arc::clone(&rows));
                }
                out.parts.push(rows);
            }
            i = j + 1;
        }
        Ok(out)
    }
}

pub(crate) fn column<'a>(
    batch: &'a RecordBatch,
    name: &str,
    want: &DataType,
) -> Result<std::borrow::Cow<'a, arrow::array::ArrayRef>, QueryError> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| QueryError::Internal(format!("rollup column {name} missing")))?;
    if col.data_type() == want {
        return Ok(std::borrow::Cow::Borrowed(col));
    }
    cast(col, want)
        .map(std::borrow::Cow::Owned)
        .map_err(|e| QueryError::Internal(e.to_string()))
}

/// Rollup rows by hour, read straight from the Arrow arrays. `samples`: the buckets hold the
/// hashes of a distinct-count sample, not counts.
fn parse(batches: &[RecordBatch], samples: bool) -> Result<HashMap<i64, Vec<Rollup>>, QueryError> {
    let list = DataType::List(Arc::new(Field::new_list_field(DataType::UInt64, true)));
    // Each distinct attribute string is parsed once: (as stored, parsed, error flag).
    type Parsed = (Arc<str>, Arc<Map<String, Value>>, bool);
    let mut attrs_seen: HashMap<String, Parsed> = HashMap::new();
    let mut out: HashMap<i64, Vec<Rollup>> = HashMap::new();
    for b in batches {
        let times = column(b, "time_unix_nano", &DataType::Int64)?;
        let times = times.as_primitive::<Int64Type>();
        let services = column(b, "service_name", &DataType::Utf8)?;
        let services = services.as_string::<i32>();
        let attrs = column(b, "attributes", &DataType::Utf8)?;
        let attrs = attrs.as_string::<i32>();
        let buckets = column(b, "bucket_counts", &list)?;
        let buckets = buckets.as_list::<i32>();
        let [sums, mins, maxs] = ["sum", "min", "max"].map(|c| column(b, c, &DataType::Float64));
        let (sums, mins, maxs) = (sums?, mins?, maxs?);
        let (sums, mins, maxs) = (
            sums.as_primitive::<Float64Type>(),
            mins.as_primitive::<Float64Type>(),
            maxs.as_primitive::<Float64Type>(),
        );
        let opt = |a: &arrow::array::Float64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
        for i in 0..b.num_rows() {
            let raw = attrs.value(i);
            let (raw_attrs, parsed, error) = match attrs_seen.get(raw) {
                Some(seen) => seen.clone(),
                None => {
                    let parsed: Map<String, Value> = serde_json::from_str(raw).unwrap_or_default();
                    let error = parsed
                        .get("error")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let seen = (Arc::<str>::from(raw), Arc::new(parsed), error);
                    attrs_seen.insert(raw.to_string(), seen.clone());
                    seen
                }
            };
            let counts = buckets.value(i);
            let counts = counts.as_primitive::<UInt64Type>();
            let (first, last) = if samples {
                (0, counts.len())
            } else {
                let first = counts.values().iter().position(|c| *c > 0).unwrap_or(0);
                let last = counts
                    .values()
                    .iter()
                    .rposition(|c| *c > 0)
                    .map_or(first, |l| l + 1);
                (first, last)
            };
            let t = times.value(i);
            out.entry(t.div_euclid(HOUR_NS)).or_default().push(Rollup {
                t,
                service: services.value(i).to_string(),
                attrs: parsed,
                raw_attrs,
                requests: if samples {
                    counts.len() as u64
                } else {
                    counts.values()[first..last].iter().sum()
                },
                error,
                first,
                counts: counts.values()[first..last].to_vec(),
                sum: if sums.is_null(i) { 0.0 } else { sums.value(i) },
                min: opt(mins, i),
                max: opt(maxs, i),
            });
        }
    }
    Ok(out)
}

/// Merges the partial rows of each minute and key into one.
fn merge_minutes(rows: Vec<Rollup>, samples: bool) -> Vec<Rollup> {
    let mut index: HashMap<(i64, String, Arc<str>), usize> = HashMap::with_capacity(rows.len());
    let mut out: Vec<Rollup> = Vec::with_capacity(rows.len() / 4 + 1);
    for r in rows {
        let key = (r.t, r.service.clone(), Arc::clone(&r.raw_attrs));
        match index.get(&key) {
            Some(&i) if samples => out[i].absorb_sample(&r),
            Some(&i) => out[i].absorb(&r),
            None => {
                index.insert(key, out.len());
                out.push(r);
            }
        }
    }
    out.shrink_to_fit();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollup(t: i64, first: usize, counts: Vec<u64>, min: f64, max: f64) -> Rollup {
        Rollup {
            t,
            service: "api".into(),
            attrs: Arc::new(Map::new()),
            raw_attrs: Arc::from("{}"),
            requests: counts.iter().sum(),
            error: false,
            first,
            counts,
            sum: 1.0,
            min: Some(min),
            max: Some(max),
        }
    }

    #[test]
    fn partial_rows_of_a_minute_merge_bucket_by_bucket() {
        let rows = vec![
            rollup(0, 5, vec![1, 2], 1.0, 2.0),
            rollup(0, 3, vec![4], 0.5, 0.6),
            rollup(MINUTE_NS, 5, vec![7], 3.0, 3.0),
            rollup(0, 6, vec![1, 0, 9], 2.0, 9.0),
        ];
        let merged = merge_minutes(rows, false);
        assert_eq!(merged.len(), 2);
        let m = &merged[0];
        assert_eq!((m.first, m.counts.clone()), (3, vec![4, 0, 1, 3, 0, 9]));
        assert_eq!(m.requests, 17);
        assert_eq!((m.min, m.max, m.sum), (Some(0.5), Some(9.0), 3.0));
        assert_eq!(merged[1].requests, 7);
    }
}
