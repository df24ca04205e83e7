//! The web questions that list or aggregate (sessions, error groups, Web Vitals) answered from
//! the per-minute browser rollups (`rum::rollup`) instead of the events.
//!
//! The rollups are metric rows written every few seconds, so one minute of one key is stored
//! as several parts. An hour's parts are read from its files once, merged per minute and key,
//! and cached; when the hour's files change, only the new ones are read (a flush adds a file;
//! a compacted file holds exactly the rows of the files it replaced, named in its footer).
//! Parts still in memory are read on every call. The window is widened to whole minutes.
//!
//! A window of a day holds about 1,500 minutes of every session, error group and vitals
//! group: an hour the window covers whole is answered from its parts merged over the hour
//! (made once per set of files, on its first use), so a question merges about one part per
//! key and hour instead of one per key and minute. The minutes are kept for the hours a
//! window only partly covers.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use model::{Signal, TimeRange};
use rum::rollup::{ErrorPart, Part, Row, SessionPart, VitalPart};

use crate::rollup::{column, floor_minute};
use crate::web::{ErrorGroups, SessionSearch, SessionsPage, Vitals, WebFilter};
use crate::{QueryError, QueryService};

const HOUR_NS: i64 = 3_600_000_000_000;
/// Hours cached per kind of part; beyond it the least recently used go.
const CACHED_HOURS: usize = 24 * 8;
const COLUMNS: [&str; 4] = [
    "metric_name",
    "time_unix_nano",
    "service_name",
    "attributes",
];

/// Parts read earlier from a set of an hour's files: the files' names and the parts.
type Earlier<P> = (Arc<HashSet<String>>, Arc<HourParts<P>>);

/// One hour's parts, merged per minute and key; merged over the whole hour when first asked.
struct HourParts<P> {
    start: i64,
    minutes: Vec<Row<P>>,
    whole: std::sync::OnceLock<Vec<Row<P>>>,
}

impl<P: Part> HourParts<P> {
    fn new(start: i64, minutes: Vec<Row<P>>) -> HourParts<P> {
        HourParts {
            start,
            minutes,
            whole: std::sync::OnceLock::new(),
        }
    }

    /// The parts merged per key over the hour, stamped with its start.
    fn whole(&self) -> &[Row<P>] {
        self.whole.get_or_init(|| {
            let stamped = self.minutes.iter().map(|r| Row {
                minute: self.start,
                service: r.service.clone(),
                part: r.part.clone(),
            });
            rum::rollup::merge_rows(stamped.collect())
        })
    }
}

/// One hour's parts and the names of the files they were read from.
struct Hour<P> {
    files: Arc<HashSet<String>>,
    rows: Arc<HourParts<P>>,
    used: u64,
}

/// Parsed hours of one kind of part.
struct HourCache<P> {
    hours: Mutex<(HashMap<i64, Hour<P>>, u64)>,
    /// Readers take turns, so that concurrent questions share one read of new files.
    turn: tokio::sync::Mutex<()>,
}

impl<P> Default for HourCache<P> {
    fn default() -> Self {
        HourCache {
            hours: Mutex::new((HashMap::new(), 0)),
            turn: tokio::sync::Mutex::new(()),
        }
    }
}

impl<P> HourCache<P> {
    fn get(&self, hour: i64) -> Option<Earlier<P>> {
        let mut guard = self.hours.lock().ok()?;
        let (hours, tick) = &mut *guard;
        *tick += 1;
        let h = hours.get_mut(&hour)?;
        h.used = *tick;
        Some((Arc::clone(&h.files), Arc::clone(&h.rows)))
    }

    fn put(&self, hour: i64, files: Arc<HashSet<String>>, rows: Arc<HourParts<P>>) {
        let Ok(mut guard) = self.hours.lock() else {
            return;
        };
        let (hours, tick) = &mut *guard;
        *tick += 1;
        let used = *tick;
        hours.insert(hour, Hour { files, rows, used });
        while hours.len() > CACHED_HOURS {
            let Some(oldest) = hours.iter().min_by_key(|(_, h)| h.used).map(|(k, _)| *k) else {
                break;
            };
            hours.remove(&oldest);
        }
    }
}

/// The cached hours of the browser rollups.
#[derive(Default)]
pub(crate) struct WebRollupCache {
    sessions: HourCache<SessionPart>,
    errors: HourCache<ErrorPart>,
    vitals: HourCache<VitalPart>,
}

/// The parts of a window: cached hours (merged over the hour when the window covers it
/// whole) and the parts still in memory.
struct Parts<P> {
    hours: Vec<(Arc<HourParts<P>>, bool)>,
    fresh: Vec<Row<P>>,
    start: i64,
    end: i64,
    service: Option<String>,
}

impl<P: Part> Parts<P> {
    fn iter(&self) -> impl Iterator<Item = &Row<P>> {
        self.hours
            .iter()
            .flat_map(|(h, whole)| if *whole { h.whole() } else { &h.minutes[..] })
            .chain(self.fresh.iter())
            .filter(|r| {
                r.minute >= self.start
                    && r.minute < self.end
                    && self.service.as_deref().is_none_or(|s| r.service == s)
            })
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The parts of `metric` among stored rows whose time is in `[lo, hi)`.
fn parts_in<P: Part>(
    batches: &[RecordBatch],
    metric: &str,
    lo: i64,
    hi: i64,
) -> Result<Vec<Row<P>>, QueryError> {
    let mut out = Vec::new();
    for b in batches {
        let names = column(b, "metric_name", &DataType::Utf8)?;
        let times = column(b, "time_unix_nano", &DataType::Int64)?;
        let services = column(b, "service_name", &DataType::Utf8)?;
        let attrs = column(b, "attributes", &DataType::Utf8)?;
        let (names, times) = (names.as_string::<i32>(), times.as_primitive::<Int64Type>());
        let (services, attrs) = (services.as_string::<i32>(), attrs.as_string::<i32>());
        for i in 0..b.num_rows() {
            let t = times.value(i);
            if names.value(i) != metric || t < lo || t >= hi {
                continue;
            }
            out.extend(rum::rollup::parse::<P>(
                t,
                services.value(i),
                attrs.value(i),
            ));
        }
    }
    Ok(out)
}

/// An hour's parts from its files, only the files new since `earlier` when it can.
fn read_hour<P: Part>(
    paths: &[PathBuf],
    earlier: Option<Earlier<P>>,
    metric: &str,
    start: i64,
) -> Result<HourParts<P>, QueryError> {
    let read = |path: &Path| -> Result<Vec<Row<P>>, QueryError> {
        let batches = storage::files::read_matching(path, &COLUMNS, "metric_name", metric)
            .map_err(|e| QueryError::Internal(format!("reading {}: {e}", path.display())))?;
        parts_in(&batches, metric, i64::MIN, i64::MAX)
    };
    let mut todo: Vec<&PathBuf> = paths.iter().collect();
    let mut all = Vec::new();
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
            if !replaced.is_empty() && replaced.iter().all(|r| had.contains(r)) {
                covered.extend(replaced);
            } else {
                new_files.push(path);
            }
        }
        if covered.len() == had.len() {
            all = rows.minutes.clone();
            todo = new_files;
        }
    }
    for path in todo {
        all.extend(read(path)?);
    }
    Ok(HourParts::new(start, rum::rollup::merge_rows(all)))
}

impl QueryService {
    /// The parts of `metric` in the whole minutes overlapping `range`, of one service or all.
    async fn web_parts<P: Part + Send + Sync + 'static>(
        &self,
        cache: &HourCache<P>,
        metric: &'static str,
        range: TimeRange,
        service: Option<&str>,
    ) -> Result<Parts<P>, QueryError> {
        let (start, end) = (floor_minute(range.start_ns), range.end_ns);
        let mut out = Parts {
            hours: Vec::new(),
            fresh: Vec::new(),
            start,
            end,
            service: service.map(str::to_string),
        };
        if end <= start {
            return Ok(out);
        }
        let (first_hour, last_hour) = (start.div_euclid(HOUR_NS), (end - 1).div_euclid(HOUR_NS));
        let lo = first_hour.saturating_mul(HOUR_NS);
        let hi = (last_hour + 1).saturating_mul(HOUR_NS);
        let _turn = cache.turn.lock().await;
        // Files and memory taken together: a flush in between neither loses parts nor counts
        // them twice.
        let snapshot = self
            .store()
            .snapshot(Signal::Metrics, Some(lo), Some(hi - 1));
        let mut by_hour: std::collections::BTreeMap<i64, Vec<PathBuf>> = Default::default();
        for f in &snapshot.files {
            if (first_hour..=last_hour).contains(&f.hour) {
                by_hour.entry(f.hour).or_default().push(f.path.clone());
            }
        }
        for (hour, paths) in by_hour {
            let names: Arc<HashSet<String>> =
                Arc::new(paths.iter().map(|p| file_name(p)).collect());
            let hour_start = hour.saturating_mul(HOUR_NS);
            let whole = hour_start >= start && hour_start.saturating_add(HOUR_NS) <= end;
            let earlier = cache.get(hour);
            let rows = match earlier {
                Some((files, rows)) if *files == *names => rows,
                earlier => {
                    let rows = tokio::task::spawn_blocking(move || {
                        read_hour(&paths, earlier, metric, hour_start)
                    })
                    .await
                    .map_err(|e| QueryError::Internal(format!("rollup read failed: {e}")))??;
                    let rows = Arc::new(rows);
                    cache.put(hour, names, Arc::clone(&rows));
                    rows
                }
            };
            if whole && rows.whole.get().is_none() {
                // Merged off the async threads, once per set of the hour's files.
                let rows = Arc::clone(&rows);
                tokio::task::spawn_blocking(move || {
                    rows.whole();
                })
                .await
                .map_err(|e| QueryError::Internal(format!("rollup merge failed: {e}")))?;
            }
            out.hours.push((rows, whole));
        }
        out.fresh = parts_in(&snapshot.mem, metric, lo, hi)?;
        Ok(out)
    }

    /// Sessions that had events in `range`, newest first, from the rollups.
    pub async fn web_sessions(
        &self,
        range: TimeRange,
        q: &SessionSearch,
    ) -> Result<SessionsPage, QueryError> {
        // The parts held by the writer are written first.
        let _ = self.rollups_complete().await;
        let cache = &self.web_rollup_cache.sessions;
        let metric = rum::rollup::SESSION_METRIC;
        let parts = self
            .web_parts(cache, metric, range, q.filter.service.as_deref())
            .await?;
        let query = rum::rollup::answer::SessionQuery {
            user: q.user.clone(),
            errors_only: q.errors_only,
            min_duration_ms: q.min_duration_ms,
            exclude_synthetic: q.filter.exclude_synthetic,
            limit: q.limit,
        };
        let (total, sessions) = rum::rollup::answer::sessions(parts.iter(), &query);
        Ok(SessionsPage {
            total,
            truncated: false,
            sessions,
        })
    }

    /// Error groups of `range`, from the rollups.
    pub async fn web_errors(
        &self,
        range: TimeRange,
        filter: &WebFilter,
        limit: usize,
    ) -> Result<ErrorGroups, QueryError> {
        let _ = self.rollups_complete().await;
        let cache = &self.web_rollup_cache.errors;
        let metric = rum::rollup::ERROR_METRIC;
        let parts = self
            .web_parts(cache, metric, range, filter.service.as_deref())
            .await?;
        let mut groups = rum::rollup::answer::errors(parts.iter(), filter.exclude_synthetic);
        let total = groups.len();
        groups.truncate(limit);
        Ok(ErrorGroups {
            total,
            truncated: false,
            groups,
        })
    }

    /// Web Vitals p75 and rating shares per group, from the rollups.
    pub async fn web_vitals(
        &self,
        range: TimeRange,
        filter: &WebFilter,
        group_by: rum::vitals::GroupBy,
    ) -> Result<Vitals, QueryError> {
        let _ = self.rollups_complete().await;
        let cache = &self.web_rollup_cache.vitals;
        let metric = rum::rollup::VITAL_METRIC;
        let parts = self
            .web_parts(cache, metric, range, filter.service.as_deref())
            .await?;
        let groups = rum::rollup::answer::vitals(parts.iter(), group_by, filter.exclude_synthetic);
        Ok(Vitals {
            truncated: false,
            groups,
        })
    }
}

#[cfg(test)]
mod tests;
