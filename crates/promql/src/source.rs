//! Where series come from: the stored metrics (named the Prometheus way), `target_info`, and the
//! synthetic span and log metrics. A selector's name matchers pick the families to read; its
//! other matchers filter the series built from them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::TimeRange;
use promql_parser::label::{MatchOp, Matcher, Matchers};
use query::{MetricFamily, QueryService};
use serde_json::{Map, Value};

use crate::PromError;
use crate::convert::{self, Series, SeriesSet};
use crate::labels::{Labels, NAME};
use crate::names::{self, Kind, Part};
use crate::synthetic::{self, Rollup};

pub const TARGET_INFO: &str = "target_info";

/// Spacing of `target_info` samples between a resource's first and last point.
const TARGET_INFO_STEP_MS: i64 = 15_000;

/// One selectable family: its Prometheus base name, kind, and where its points are.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: String,
    pub kind: Kind,
    pub help: String,
    pub unit: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub enum Origin {
    Stored(MetricFamily),
    Synthetic(Rollup),
    TargetInfo,
}

/// The families of a window.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub families: Vec<Family>,
}

/// A unit as Prometheus metadata gives it (the words the name got).
fn unit_metadata(base: &str, otel_name: &str, kind: Kind) -> String {
    let plain = names::metric_name(otel_name, "", kind);
    let extra = base.strip_prefix(&plain).unwrap_or("");
    extra.trim_start_matches('_').to_string()
}

impl Catalog {
    pub fn new(stored: Vec<MetricFamily>) -> Catalog {
        let mut families = Vec::new();
        for f in stored {
            let kind = Kind::of(&f.metric_type, f.is_monotonic);
            let name = names::metric_name(&f.name, &f.unit, kind);
            let unit = unit_metadata(&name, &f.name, kind);
            families.push(Family {
                name,
                kind,
                help: f.description.clone(),
                unit,
                origin: Origin::Stored(f),
            });
        }
        for f in synthetic::FAMILIES {
            families.push(Family {
                name: f.name.to_string(),
                kind: f.kind,
                help: f.help.to_string(),
                unit: f.unit.to_string(),
                origin: Origin::Synthetic(f.source),
            });
        }
        families.push(Family {
            name: TARGET_INFO.to_string(),
            kind: Kind::Gauge,
            help: "Target metadata: the resource attributes of each job and instance".to_string(),
            unit: String::new(),
            origin: Origin::TargetInfo,
        });
        Catalog { families }
    }
}

/// Whether `labels` pass every matcher (a missing label matches as "").
pub fn matches_all(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers.iter().all(|m| m.is_match(labels.get(&m.name)))
}

/// The matcher sets of a selector: its name and matchers, one set per `or` alternative.
pub fn matcher_sets(name: Option<&str>, matchers: &Matchers) -> Vec<Vec<Matcher>> {
    let mut sets = if matchers.or_matchers.is_empty() {
        vec![matchers.matchers.clone()]
    } else {
        matchers.or_matchers.clone()
    };
    if let Some(n) = name {
        for set in &mut sets {
            set.push(Matcher::new(MatchOp::Equal, NAME, n));
        }
    }
    sets
}

/// Reads series for selectors from the query service.
#[derive(Clone)]
pub struct Source {
    pub query: Arc<QueryService>,
    pub max_points: usize,
    /// The metric families of closed hours, by hour start (unix ms), with when they were read.
    pub families: Arc<Mutex<FamilyCache>>,
}

/// Families per closed hour (start, unix ms): when they were read, and what.
pub type FamilyCache = HashMap<i64, (Instant, Arc<Vec<MetricFamily>>)>;

const HOUR_MS: i64 = 3_600_000;
/// An hour is closed (its families cached) a minute after it ends ...
const CLOSED_AFTER_MS: i64 = 60_000;
/// ... and its families are read again after this long, for late points.
const CLOSED_TTL: Duration = Duration::from_secs(600);
/// Most hours kept (a month).
const MAX_CACHED_HOURS: usize = 24 * 31;

/// Families of several reads as one list: one entry per name, type and unit.
fn merge_families(parts: &[Arc<Vec<MetricFamily>>]) -> Vec<MetricFamily> {
    let mut by_key: BTreeMap<(String, String, String), MetricFamily> = BTreeMap::new();
    for part in parts {
        for f in part.iter() {
            let key = (f.name.clone(), f.metric_type.clone(), f.unit.clone());
            match by_key.get_mut(&key) {
                Some(e) => {
                    e.is_monotonic |= f.is_monotonic;
                    e.temporality = e.temporality.max(f.temporality);
                    if e.description.is_empty() {
                        e.description = f.description.clone();
                    }
                }
                None => {
                    by_key.insert(key, f.clone());
                }
            }
        }
    }
    by_key.into_values().collect()
}

fn range_of(lo_ms: i64, hi_ms: i64) -> Result<TimeRange, PromError> {
    let start = lo_ms.saturating_mul(1_000_000);
    let end = hi_ms.saturating_add(1).saturating_mul(1_000_000);
    TimeRange::new(start, end.max(start + 1)).map_err(|e| PromError::BadData(e.to_string()))
}

impl Source {
    /// The families with points in `[lo_ms, hi_ms]`: closed hours from the cache (read once
    /// per hour), the rest in one read.
    pub async fn catalog(&self, lo_ms: i64, hi_ms: i64) -> Result<Catalog, PromError> {
        let now_ms = model::now_unix_nano() / 1_000_000;
        let first_hour = lo_ms.div_euclid(HOUR_MS);
        let last_hour = hi_ms.div_euclid(HOUR_MS);
        let mut parts = Vec::new();
        let mut open_from = None;
        for hour in first_hour..=last_hour {
            let start = hour * HOUR_MS;
            if start + HOUR_MS + CLOSED_AFTER_MS > now_ms {
                open_from = Some(start.max(lo_ms));
                break;
            }
            let cached = self.families.lock().ok().and_then(|c| {
                c.get(&start)
                    .filter(|(at, _)| at.elapsed() < CLOSED_TTL)
                    .map(|(_, f)| Arc::clone(f))
            });
            let families = match cached {
                Some(f) => f,
                None => {
                    let range = range_of(start, start + HOUR_MS - 1)?;
                    let f = Arc::new(self.query.metric_families(range).await?);
                    if let Ok(mut c) = self.families.lock() {
                        if c.len() >= MAX_CACHED_HOURS {
                            c.clear();
                        }
                        c.insert(start, (Instant::now(), Arc::clone(&f)));
                    }
                    f
                }
            };
            parts.push(families);
        }
        if let Some(from) = open_from {
            let range = range_of(from, hi_ms)?;
            parts.push(Arc::new(self.query.metric_families(range).await?));
        }
        Ok(Catalog::new(merge_families(&parts)))
    }

    /// The series of `[lo_ms, hi_ms]` that one of the matcher sets selects.
    pub async fn select(
        &self,
        catalog: &Catalog,
        sets: &[Vec<Matcher>],
        lo_ms: i64,
        hi_ms: i64,
    ) -> Result<Vec<Series>, PromError> {
        let range = range_of(lo_ms, hi_ms)?;
        let name_ok = |name: &str| {
            sets.iter().any(|set| {
                set.iter()
                    .filter(|m| m.name == NAME)
                    .all(|m| m.is_match(name))
            })
        };
        let mut out = Vec::new();
        let mut red: Option<Vec<query::RedMinute>> = None;
        for family in &catalog.families {
            let parts: Vec<Part> = names::series_names(&family.name, family.kind)
                .into_iter()
                .filter(|(n, _)| name_ok(n))
                .map(|(_, p)| p)
                .collect();
            if parts.is_empty() {
                continue;
            }
            let series = match &family.origin {
                Origin::Stored(f) => {
                    let columns = query::PointColumns {
                        buckets: parts.contains(&Part::Bucket),
                        quantiles: family.kind == Kind::Summary && parts.contains(&Part::Value),
                    };
                    let rows = self
                        .query
                        .metric_points(&f.name, range, self.max_points, columns)
                        .await?;
                    let rows: Vec<model::MetricPointRow> = rows
                        .into_iter()
                        .filter(|r| r.metric_type == f.metric_type && r.unit == f.unit)
                        .collect();
                    convert::rows_to_series(&rows, &family.name, family.kind, &parts)
                }
                Origin::Synthetic(Rollup::Red) => {
                    if red.is_none() {
                        red = Some(self.query.red_minutes(range).await?);
                    }
                    let minutes = red.as_deref().unwrap_or_default();
                    synthetic::red_series(minutes, &|n: &str| {
                        n.starts_with(&family.name) && name_ok(n)
                    })
                }
                Origin::Synthetic(Rollup::Logs) => {
                    synthetic::log_series(&self.query.log_minutes(range).await?)
                }
                Origin::TargetInfo => self.target_info(range).await?,
            };
            for s in series {
                if sets.iter().any(|set| matches_all(&s.labels, set)) {
                    out.push(s);
                }
            }
        }
        Ok(out)
    }

    /// `target_info{job, instance, <other resource attributes>} 1` for each resource that
    /// sent metrics, between its first and last point.
    async fn target_info(&self, range: TimeRange) -> Result<Vec<Series>, PromError> {
        let mut set = SeriesSet::default();
        for r in self.query.metric_resources(range).await? {
            let attrs: Map<String, Value> =
                serde_json::from_str(&r.resource_attributes).unwrap_or_default();
            let mut pairs: Vec<(String, String)> = attrs
                .iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "service.name" | "service.namespace" | "service.instance.id"
                    )
                })
                .map(|(k, v)| (names::label_name(k), names::label_value(v)))
                .collect();
            pairs.push((NAME.to_string(), TARGET_INFO.to_string()));
            pairs.extend(names::target_labels(
                &r.service_name,
                r.service_namespace.as_deref(),
                r.service_instance_id.as_deref(),
            ));
            let labels = Labels::new(pairs);
            let (first, last) = (r.first_ns / 1_000_000, r.last_ns / 1_000_000);
            let mut t = first;
            while t < last {
                set.push(&labels, t, 1.0);
                t += TARGET_INFO_STEP_MS;
            }
            set.push(&labels, last, 1.0);
        }
        Ok(set.finish())
    }

    /// Label sets of the streams in `[lo_ms, hi_ms]` without reading points: for label
    /// names and values when no selector narrows them. Histogram buckets and summary
    /// quantiles are not expanded (`le` and `quantile` are named, without values).
    pub async fn stream_labels(&self, lo_ms: i64, hi_ms: i64) -> Result<Vec<Labels>, PromError> {
        let range = range_of(lo_ms, hi_ms)?;
        let catalog = self.catalog(lo_ms, hi_ms).await?;
        let mut base_of: BTreeMap<String, Vec<(String, Kind)>> = BTreeMap::new();
        for f in &catalog.families {
            if let Origin::Stored(m) = &f.origin {
                base_of
                    .entry(m.name.clone())
                    .or_default()
                    .push((f.name.clone(), f.kind));
            }
        }
        let mut out = Vec::new();
        for s in self.query.metric_streams(range).await? {
            let attrs: Map<String, Value> = serde_json::from_str(&s.attributes).unwrap_or_default();
            let mut pairs: Vec<(String, String)> = attrs
                .iter()
                .map(|(k, v)| (names::label_name(k), names::label_value(v)))
                .collect();
            pairs.extend(names::target_labels(
                &s.service_name,
                s.service_namespace.as_deref(),
                s.service_instance_id.as_deref(),
            ));
            for (base, kind) in base_of.get(&s.name).into_iter().flatten() {
                for (name, part) in names::series_names(base, *kind) {
                    let mut p = pairs.clone();
                    p.push((NAME.to_string(), name));
                    if part == Part::Bucket {
                        p.push(("le".to_string(), "+Inf".to_string()));
                    }
                    if part == Part::Value && *kind == Kind::Summary {
                        p.push(("quantile".to_string(), "0.5".to_string()));
                    }
                    out.push(Labels::new(p));
                }
            }
        }
        Ok(out)
    }
}
