//! Reading the per-minute RED and edge rollups, with a cache of parsed hours.
//!
//! Rollups are metric points written every few seconds, so one minute of one key arrives in
//! several partial rows. Reading them merges the partial rows and trims each histogram to its
//! non-zero buckets. Each hour's files are read and parsed once and kept, so a day of RED reads
//! 24 cached hours; when the hour's set of files changes, only what is new is read (a flushed
//! file; a compacted one only if the cache did not hold all the files it replaced). Rows still in
//! the memtable (at most a flush interval of them) are parsed on every call and merged into
//! the minutes they touch. Readers of one metric take turns, so the requests of one page (RED,
//! service map and blast radius all read the current hour) share one read of new files.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, UInt64Type};
use model::{Signal, TimeRange};
use serde_json::{Map, Value};

use crate::{QueryError, QueryService};

pub(crate) const MINUTE_NS: i64 = 60_000_000_000;
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
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
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

/// The rollups of a window: hours read from files (cached), and the minutes that rows still in
/// memory touch (read on every call, merged with those minutes from files), filtered on
/// iteration.
pub(crate) struct Rollups {
    parts: Vec<Arc<Vec<Rollup>>>,
    /// Minutes (sorted) whose rows in `parts` are superseded by `fresh`.
    replaced: Vec<i64>,
    fresh: Vec<Rollup>,
    start: i64,
    end: i64,
    service: Option<String>,
}

impl Rollups {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Rollup> {
        self.parts
            .iter()
            .flat_map(|p| p.iter())
            .filter(|r| self.replaced.binary_search(&r.t).is_err())
            .chain(self.fresh.iter())
            .filter(|r| {
                r.t >= self.start
                    && r.t < self.end
                    && self.service.as_deref().is_none_or(|s| r.service == s)
            })
    }
}

struct Entry {
    /// Names of the files the rows were read from: every flush and compaction writes a file
    /// with a new name, so the same names mean the same rows.
    files: Arc<HashSet<String>>,
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

/// What the cache holds for an hour, against the hour's files now.
enum Cached {
    /// Rows read from exactly the hour's files now.
    Current(Arc<Vec<Rollup>>),
    /// Rows read from another set of the hour's files (their names).
    Earlier(Arc<HashSet<String>>, Arc<Vec<Rollup>>),
    Nothing,
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

    fn get(&self, metric: &str, hour: i64, files: &HashSet<String>) -> Cached {
        let Ok(mut inner) = self.inner.lock() else {
            return Cached::Nothing;
        };
        inner.tick += 1;
        let tick = inner.tick;
        let Some(e) = inner.hours.get_mut(&(metric.to_string(), hour)) else {
            return Cached::Nothing;
        };
        e.used = tick;
        if *e.files == *files {
            Cached::Current(Arc::clone(&e.rows))
        } else {
            Cached::Earlier(Arc::clone(&e.files), Arc::clone(&e.rows))
        }
    }

    fn put(&self, metric: &str, hour: i64, files: Arc<HashSet<String>>, rows: Arc<Vec<Rollup>>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let bytes = ENTRY_BYTES + rows.iter().map(Rollup::bytes).sum::<usize>();
        if bytes > CACHE_BYTES / 4 {
            return;
        }
        inner.tick += 1;
        let used = inner.tick;
        if let Some(old) = inner.hours.insert(
            (metric.to_string(), hour),
            Entry {
                files,
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
    /// Reads every rollup metric of `range` into the cache, so that the first question about
    /// it (RED, service map, blast radius, log patterns) is as fast as the next.
    pub async fn warm_rollups(&self, range: TimeRange) -> Result<(), QueryError> {
        for metric in [
            analysis::RED_METRIC,
            analysis::EDGE_METRIC,
            analysis::REACH_METRIC,
            analysis::REACH_DISTINCT_METRIC,
            analysis::PATTERN_METRIC,
        ] {
            self.rollups(metric, range, None).await?;
        }
        Ok(())
    }

    /// The rollups of `metric` in the whole minutes overlapping `range`, of one service or all.
    pub(crate) async fn rollups(
        &self,
        metric: &str,
        range: TimeRange,
        service: Option<&str>,
    ) -> Result<Rollups, QueryError> {
        // Rollups are stamped with the start of their minute: widen the window to whole minutes.
        let start = floor_minute(range.start_ns);
        let end = range.end_ns;
        let mut out = Rollups {
            parts: Vec::new(),
            replaced: Vec::new(),
            fresh: Vec::new(),
            start,
            end,
            service: service.map(str::to_string),
        };
        if end <= start {
            return Ok(out);
        }
        let (first_hour, last_hour) = (start.div_euclid(HOUR_NS), (end - 1).div_euclid(HOUR_NS));
        // Saturating: a window may reach the ends of time.
        let lo = first_hour.saturating_mul(HOUR_NS);
        let hi = (last_hour + 1).saturating_mul(HOUR_NS);
        let turn = self.rollup_cache.turn(metric);
        let _turn = match &turn {
            Some(t) => Some(t.lock().await),
            None => None,
        };
        // Files and memtable taken together, so that a flush in between neither loses rows
        // nor counts them twice.
        let snapshot = self
            .store()
            .snapshot(Signal::Metrics, Some(lo), Some(hi - 1));
        let samples = metric == analysis::REACH_DISTINCT_METRIC;
        let mut files_by_hour: std::collections::BTreeMap<i64, Vec<&storage::files::FileEntry>> =
            Default::default();
        for f in &snapshot.files {
            files_by_hour.entry(f.hour).or_default().push(f);
        }
        for (&hour, files) in &files_by_hour {
            if !(first_hour..=last_hour).contains(&hour) {
                continue;
            }
            let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
            let names: Arc<HashSet<String>> =
                Arc::new(paths.iter().map(|p| file_name(p)).collect());
            let earlier = match self.rollup_cache.get(metric, hour, &names) {
                Cached::Current(rows) => {
                    out.parts.push(rows);
                    continue;
                }
                Cached::Earlier(names, rows) => Some((names, rows)),
                Cached::Nothing => None,
            };
            let name = metric.to_string();
            let (rows, _) =
                tokio::task::spawn_blocking(move || read_hour(&paths, earlier, &name, samples))
                    .await
                    .map_err(|e| QueryError::Internal(format!("rollup read failed: {e}")))??;
            let rows = Arc::new(rows);
            self.rollup_cache
                .put(metric, hour, names, Arc::clone(&rows));
            out.parts.push(rows);
        }
        // Rows not yet flushed are read on every call: at most a flush interval of them. The
        // minutes they touch are merged with the same minutes from files.
        let mut mem = Vec::new();
        for b in &snapshot.mem {
            if let Some(b) = select(b, metric, lo, hi)? {
                mem.extend(parse(&[b], samples)?.into_values().flatten());
            }
        }
        if !mem.is_empty() {
            let mut minutes: Vec<i64> = mem.iter().map(|r| r.t).collect();
            minutes.sort_unstable();
            minutes.dedup();
            let stored = out.parts.iter().flat_map(|p| p.iter());
            let mut rows: Vec<Rollup> = stored
                .filter(|r| minutes.binary_search(&r.t).is_ok())
                .cloned()
                .collect();
            rows.extend(mem);
            out.fresh = merge_minutes(rows, samples);
            out.replaced = minutes;
        }
        Ok(out)
    }
}

/// The start of `t`'s minute (saturating: a window may reach the ends of time).
pub(crate) fn floor_minute(t: i64) -> i64 {
    t.saturating_sub(t.rem_euclid(MINUTE_NS))
}

/// The columns a rollup is read from.
const ROLLUP_COLUMNS: [&str; 8] = [
    "metric_name",
    "time_unix_nano",
    "service_name",
    "attributes",
    "bucket_counts",
    "sum",
    "min",
    "max",
];

/// Rows read from an earlier set of an hour's files: the files' names and the rows.
type Earlier = (Arc<HashSet<String>>, Arc<Vec<Rollup>>);

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The rollups of `metric` in an hour's files (`paths`), merged per minute and key, and how
/// many files were read for them. With the rows read earlier from another set of the hour's
/// files (`earlier`: their names and rows), only what is new is read: a flush adds a file, and a
/// compacted file holds exactly the rows of the files it replaced (named in its footer), so when
/// those were all in the earlier set it need not be read at all. If an earlier file is gone
/// otherwise (retention), the hour is read whole.
fn read_hour(
    paths: &[PathBuf],
    earlier: Option<Earlier>,
    metric: &str,
    samples: bool,
) -> Result<(Vec<Rollup>, usize), QueryError> {
    let read = |path: &Path| -> Result<Vec<Rollup>, QueryError> {
        let batches =
            storage::files::read_matching(path, &ROLLUP_COLUMNS, "metric_name", metric)
                .map_err(|e| QueryError::Internal(format!("reading {}: {e}", path.display())))?;
        Ok(parse(&batches, samples)?.into_values().flatten().collect())
    };
    if let Some((had, rows)) = earlier {
        let mut covered: HashSet<String> = HashSet::new();
        let mut new_files = Vec::new();
        for path in paths {
            let name = file_name(path);
            if had.contains(&name) {
                covered.insert(name);
                continue;
            }
            let replaced = storage::files::replaced_by(path).unwrap_or_default();
            if !replaced.is_empty()
                && replaced
                    .iter()
                    .all(|r| had.contains(r) && !covered.contains(r))
            {
                covered.extend(replaced);
            } else {
                new_files.push(path);
            }
        }
        if covered.len() == had.len() {
            let mut all = Vec::clone(&rows);
            for path in &new_files {
                all.extend(read(path)?);
            }
            return Ok((merge_minutes(all, samples), new_files.len()));
        }
    }
    let mut all = Vec::new();
    for path in paths {
        all.extend(read(path)?);
    }
    Ok((merge_minutes(all, samples), paths.len()))
}

/// The rows of `batch` that belong to `metric` with a time in `[lo, hi)`, or `None`.
fn select(
    batch: &RecordBatch,
    metric: &str,
    lo: i64,
    hi: i64,
) -> Result<Option<RecordBatch>, QueryError> {
    let names = column(batch, "metric_name", &DataType::Utf8)?;
    let names = names.as_string::<i32>();
    let times = column(batch, "time_unix_nano", &DataType::Int64)?;
    let times = times.as_primitive::<Int64Type>();
    let keep: arrow::array::BooleanArray = (0..batch.num_rows())
        .map(|i| Some(names.value(i) == metric && (lo..hi).contains(&times.value(i))))
        .collect();
    if keep.true_count() == 0 {
        return Ok(None);
    }
    arrow::compute::filter_record_batch(batch, &keep)
        .map(Some)
        .map_err(|e| QueryError::Internal(e.to_string()))
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

    fn point(t: i64, counts: Vec<u64>) -> model::MetricPointRow {
        let mut p = model::MetricPointRow {
            time_unix_nano: t,
            metric_name: analysis::RED_METRIC.into(),
            attributes: r#"{"operation":"GET /a"}"#.into(),
            sum: Some(1.0),
            bucket_counts: counts,
            ..Default::default()
        };
        p.resource.service_name = "api".into();
        p
    }

    /// The start of the previous hour: recent enough for retention to keep it.
    fn last_hour() -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i64;
        (now.div_euclid(HOUR_NS) - 1) * HOUR_NS
    }

    /// Requests per minute of the window, as the rollups of `api` give them.
    async fn per_minute(q: &QueryService, range: TimeRange) -> Vec<(i64, u64)> {
        let rollups = q.rollups(analysis::RED_METRIC, range, None).await.unwrap();
        let mut out: Vec<(i64, u64)> = rollups.iter().map(|r| (r.t, r.requests)).collect();
        out.sort_unstable();
        out
    }

    /// A minute's rows arrive over several writes, some flushed to files (cached) and some
    /// still in memory (read every time): each row counts once, before and after flushes.
    #[tokio::test]
    async fn rows_in_files_and_in_memory_count_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(storage::Store::open(storage::StoreConfig::new(dir.path())).unwrap());
        let q = QueryService::new(Arc::clone(&store), crate::QueryLimits::default()).unwrap();
        let m = last_hour() + 10 * MINUTE_NS;
        let range = TimeRange {
            start_ns: m - 30 * MINUTE_NS,
            end_ns: m + 30 * MINUTE_NS,
        };
        let write = |rows| {
            let store = Arc::clone(&store);
            async move { store.append(model::Batch::Metrics(rows)).await.unwrap() }
        };
        // Another metric in the same file and in memory is not read as this one.
        let mut other = point(m, vec![9]);
        other.metric_name = analysis::EDGE_METRIC.into();
        write(vec![point(m, vec![1, 2]), other.clone()]).await;
        store.flush().await.unwrap();
        write(vec![other]).await;
        assert_eq!(per_minute(&q, range).await, vec![(m, 3)]);
        write(vec![point(m, vec![0, 0, 2])]).await;
        assert_eq!(
            per_minute(&q, range).await,
            vec![(m, 5)],
            "a flushed and an unflushed part"
        );
        assert_eq!(
            per_minute(&q, range).await,
            vec![(m, 5)],
            "again, from the cache"
        );
        write(vec![point(m + MINUTE_NS, vec![4])]).await;
        let both = vec![(m, 5), (m + MINUTE_NS, 4)];
        assert_eq!(per_minute(&q, range).await, both);
        store.flush().await.unwrap();
        assert_eq!(per_minute(&q, range).await, both, "all flushed");
        write(vec![point(m, vec![1])]).await;
        store.flush().await.unwrap();
        assert_eq!(
            per_minute(&q, range).await,
            vec![(m, 6), (m + MINUTE_NS, 4)]
        );
        let merged = q.rollups(analysis::RED_METRIC, range, None).await.unwrap();
        let first = merged.iter().find(|r| r.t == m).unwrap();
        assert_eq!((first.first, first.counts.clone()), (0, vec![2, 2, 2]));
        let files = store.snapshot(Signal::Metrics, None, None).files.len();
        store.run_maintenance();
        assert!(store.snapshot(Signal::Metrics, None, None).files.len() < files);
        assert_eq!(
            per_minute(&q, range).await,
            vec![(m, 6), (m + MINUTE_NS, 4)],
            "compacted"
        );
    }

    /// The start-up warm-up leaves every rollup metric's hours in the cache.
    #[tokio::test]
    async fn warming_up_caches_every_rollup_metric() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(storage::Store::open(storage::StoreConfig::new(dir.path())).unwrap());
        let q = QueryService::new(Arc::clone(&store), crate::QueryLimits::default()).unwrap();
        let m = last_hour();
        let metrics = [
            analysis::RED_METRIC,
            analysis::EDGE_METRIC,
            analysis::REACH_METRIC,
            analysis::REACH_DISTINCT_METRIC,
            analysis::PATTERN_METRIC,
        ];
        let rows = metrics.map(|name| {
            let mut p = point(m, vec![1]);
            p.metric_name = name.into();
            p
        });
        store
            .append(model::Batch::Metrics(rows.to_vec()))
            .await
            .unwrap();
        store.flush().await.unwrap();
        let range = TimeRange {
            start_ns: m - HOUR_NS,
            end_ns: m + HOUR_NS,
        };
        q.warm_rollups(range).await.unwrap();
        let inner = q.rollup_cache.inner.lock().unwrap();
        let mut cached: Vec<&str> = inner.hours.keys().map(|(name, _)| name.as_str()).collect();
        cached.sort_unstable();
        let mut want = metrics.to_vec();
        want.sort_unstable();
        assert_eq!(cached, want);
    }

    /// After a flush only the new file is read; after a compaction nothing is (the compacted
    /// file holds the rows already read); when an earlier file is gone otherwise, all is.
    #[tokio::test]
    async fn an_hour_read_before_is_brought_up_to_date_from_its_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = storage::Store::open(storage::StoreConfig::new(dir.path())).unwrap();
        let m = last_hour();
        let paths = |s: &storage::Store| -> Vec<PathBuf> {
            let files = s.snapshot(Signal::Metrics, None, None).files;
            files.into_iter().map(|f| f.path).collect()
        };
        let read = |paths: &[PathBuf], earlier: Option<(&[PathBuf], &Vec<Rollup>)>| {
            let earlier = earlier.map(|(p, rows)| {
                (
                    Arc::new(p.iter().map(|p| file_name(p)).collect()),
                    Arc::new(rows.clone()),
                )
            });
            let (rows, files_read) =
                read_hour(paths, earlier, analysis::RED_METRIC, false).unwrap();
            let requests: u64 = rows.iter().map(|r| r.requests).sum();
            (rows, requests, files_read)
        };
        store
            .append(model::Batch::Metrics(vec![point(m, vec![1])]))
            .await
            .unwrap();
        store.flush().await.unwrap();
        let one = paths(&store);
        let (rows_one, requests, files_read) = read(&one, None);
        assert_eq!((requests, files_read), (1, 1));

        store
            .append(model::Batch::Metrics(vec![point(m, vec![0, 2])]))
            .await
            .unwrap();
        store.flush().await.unwrap();
        let two = paths(&store);
        assert_eq!(two.len(), 2);
        let (rows_two, requests, files_read) = read(&two, Some((&one, &rows_one)));
        assert_eq!((requests, files_read), (3, 1), "only the flushed file");
        assert_eq!(rows_two.len(), 1, "one minute, one key");

        store.run_maintenance();
        let compacted = paths(&store);
        assert_eq!(compacted.len(), 1);
        let (rows_c, requests, files_read) = read(&compacted, Some((&two, &rows_two)));
        assert_eq!(
            (requests, files_read),
            (3, 0),
            "the compacted file is not read"
        );
        assert_eq!(rows_c[0].counts, vec![1, 2]);
        assert_eq!(read(&compacted, None).1, 3, "read whole, the same");

        // An earlier file that no file replaces: the hour is read whole.
        let mut gone = two.clone();
        gone.push(PathBuf::from("/nowhere/1_2_3_4.parquet"));
        let (_, requests, files_read) = read(&compacted, Some((&gone, &rows_two)));
        assert_eq!((requests, files_read), (3, 1));
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
