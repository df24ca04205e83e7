//! Deploys: the moments a service's `service.version` (a resource attribute of its spans)
//! changed, read from the spans themselves, so that no deploy tool has to report them.

use std::collections::{BTreeMap, BTreeSet};

use model::TimeRange;
use serde::Serialize;

use crate::service::{i64_of, str_of, to_json_rows};
use crate::sql::quote;
use crate::{QueryError, QueryService};

/// A version of a service seen for the first time in the range, replacing another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deploy {
    pub service: String,
    pub version: String,
    /// The version that ran before it (`None`: the service was not seen before it).
    pub previous_version: Option<String>,
    /// When a span of this version was first seen (unix ms).
    pub at_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeploysResponse {
    /// Oldest first.
    pub deploys: Vec<Deploy>,
}

/// One version's spans in a period: first and last seen (unix ns).
struct Seen {
    service: String,
    version: String,
    first: i64,
    last: i64,
}

impl QueryService {
    /// The versions of each service (or of `service`) first seen in `range`, each with the
    /// version it replaced. A version seen before the range is not a deploy in it: the period
    /// of the range's length before it is looked at for what ran then.
    pub async fn deploys(
        &self,
        range: TimeRange,
        service: Option<&str>,
    ) -> Result<DeploysResponse, QueryError> {
        let before = TimeRange {
            start_ns: range.start_ns.saturating_sub(range.len_ns()),
            end_ns: range.start_ns,
        };
        let (inside, earlier) = futures::future::try_join(
            self.versions_seen(range, service),
            self.versions_seen(before, service),
        )
        .await?;
        Ok(DeploysResponse {
            deploys: changes(inside, &Before::of(earlier)),
        })
    }

    async fn versions_seen(
        &self,
        range: TimeRange,
        service: Option<&str>,
    ) -> Result<Vec<Seen>, QueryError> {
        let only = service.map_or(String::new(), |s| {
            format!(" AND service_name = {}", quote(s))
        });
        let sql = format!(
            "SELECT service_name, service_version AS v, min(start_time_unix_nano) AS first, \
             max(start_time_unix_nano) AS last FROM spans \
             WHERE start_time_unix_nano >= {} AND start_time_unix_nano < {} \
             AND service_version IS NOT NULL AND service_version <> ''{only} GROUP BY 1, 2",
            range.start_ns, range.end_ns
        );
        let rows = to_json_rows(&self.collect(&sql).await?)?;
        Ok(rows
            .iter()
            .map(|r| Seen {
                service: str_of(r, "service_name"),
                version: str_of(r, "v"),
                first: i64_of(r, "first"),
                last: i64_of(r, "last"),
            })
            .collect())
    }
}

/// What ran before the range, per service.
#[derive(Default)]
struct Before {
    /// Every version seen.
    seen: BTreeSet<(String, String)>,
    /// The version seen last, with when.
    last: BTreeMap<String, (i64, String)>,
}

impl Before {
    fn of(earlier: Vec<Seen>) -> Self {
        let mut b = Before::default();
        for s in earlier {
            let e = b
                .last
                .entry(s.service.clone())
                .or_insert((i64::MIN, String::new()));
            if s.last > e.0 {
                *e = (s.last, s.version.clone());
            }
            b.seen.insert((s.service, s.version));
        }
        b
    }
}

/// The versions first seen in the range (not seen before it), in order per service, each with
/// the version seen before it: the one listed before, else the one that ran last before the
/// range.
fn changes(mut inside: Vec<Seen>, before: &Before) -> Vec<Deploy> {
    inside
        .sort_by(|a, b| (&a.service, a.first, &a.version).cmp(&(&b.service, b.first, &b.version)));
    let mut out = Vec::new();
    let mut previous: Option<(&str, &str)> = None;
    for s in &inside {
        let prior = match previous {
            Some((svc, v)) if svc == s.service => Some(v.to_string()),
            _ => before.last.get(&s.service).map(|(_, v)| v.clone()),
        };
        previous = Some((&s.service, &s.version));
        if before
            .seen
            .contains(&(s.service.clone(), s.version.clone()))
        {
            continue;
        }
        out.push(Deploy {
            service: s.service.clone(),
            version: s.version.clone(),
            previous_version: prior,
            at_ms: s.first.div_euclid(1_000_000),
        });
    }
    out.sort_by(|a, b| (a.at_ms, &a.service).cmp(&(b.at_ms, &b.service)));
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use model::{SpanRow, TimeRange};

    use super::Deploy;
    use crate::{QueryLimits, QueryService};

    const MIN: i64 = 60_000_000_000;

    fn span(service: &str, version: Option<&str>, t: i64, i: usize) -> SpanRow {
        let mut s = SpanRow {
            trace_id: format!("{i:032x}"),
            span_id: format!("{i:016x}"),
            name: "GET /".into(),
            kind: "SERVER".into(),
            status_code: "UNSET".into(),
            start_time_unix_nano: t,
            end_time_unix_nano: t + 1_000,
            duration_ns: 1_000,
            attributes: "{}".into(),
            events: "[]".into(),
            links: "[]".into(),
            ..SpanRow::default()
        };
        s.resource.service_name = service.into();
        s.resource.service_version = version.map(str::to_string);
        s
    }

    async fn service_with(rows: Vec<SpanRow>) -> (tempfile::TempDir, QueryService) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(storage::Store::open(storage::StoreConfig::new(dir.path())).unwrap());
        store.append(model::Batch::Spans(rows)).await.unwrap();
        let q = QueryService::new(store, QueryLimits::default()).unwrap();
        (dir, q)
    }

    fn deploy(service: &str, version: &str, previous: Option<&str>, at_ns: i64) -> Deploy {
        Deploy {
            service: service.into(),
            version: version.into(),
            previous_version: previous.map(str::to_string),
            at_ms: at_ns / 1_000_000,
        }
    }

    /// A version change inside the range is a deploy with the version it replaced; a version
    /// running since before the range is none, and neither are spans without a version.
    #[tokio::test]
    async fn a_version_change_is_a_deploy_and_a_running_version_is_not() {
        let start = model::now_unix_nano() - 40 * MIN;
        let mut rows = Vec::new();
        for m in 0..40 {
            let t = start + m * MIN;
            // shipping: 1.4.2, then 1.5.0 from minute 30 on (some 1.4.2 still during the roll).
            rows.push(span(
                "shipping",
                Some(if m < 30 { "1.4.2" } else { "1.5.0" }),
                t,
                rows.len(),
            ));
            if m == 31 {
                rows.push(span("shipping", Some("1.4.2"), t + 1, rows.len()));
            }
            // cart: one version all along; email: no version at all.
            rows.push(span("cart", Some("2.0.0"), t, rows.len()));
            rows.push(span("email", None, t, rows.len()));
        }
        // payment appears at minute 35 (a new service: nothing ran before it).
        rows.push(span("payment", Some("0.9.0"), start + 35 * MIN, rows.len()));
        let (_dir, q) = service_with(rows).await;
        let range = TimeRange::new(start + 20 * MIN, start + 40 * MIN).unwrap();
        let got = q.deploys(range, None).await.unwrap().deploys;
        assert_eq!(
            got,
            vec![
                deploy("shipping", "1.5.0", Some("1.4.2"), start + 30 * MIN),
                deploy("payment", "0.9.0", None, start + 35 * MIN),
            ]
        );
        // One service only.
        let got = q.deploys(range, Some("payment")).await.unwrap().deploys;
        assert_eq!(
            got,
            vec![deploy("payment", "0.9.0", None, start + 35 * MIN)]
        );
        // A range that starts after the change: 1.5.0 was already running.
        let later = TimeRange::new(start + 32 * MIN, start + 40 * MIN).unwrap();
        assert_eq!(
            q.deploys(later, Some("shipping")).await.unwrap().deploys,
            vec![]
        );
    }

    /// Each version is listed once, at its first sighting: going back to the version that ran
    /// before the range adds no entry.
    #[tokio::test]
    async fn a_version_is_listed_at_its_first_sighting_only() {
        let start = model::now_unix_nano() - 30 * MIN;
        let mut rows = Vec::new();
        for m in 0..30 {
            let v = if (10..20).contains(&m) {
                "1.5.0"
            } else {
                "1.4.2"
            };
            rows.push(span("shipping", Some(v), start + m * MIN, rows.len()));
        }
        let (_dir, q) = service_with(rows).await;
        let range = TimeRange::new(start + 5 * MIN, start + 30 * MIN).unwrap();
        let got = q.deploys(range, None).await.unwrap().deploys;
        // 1.4.2 ran before the range; its return at minute 20 is not a first sighting.
        assert_eq!(
            got,
            vec![deploy("shipping", "1.5.0", Some("1.4.2"), start + 10 * MIN)]
        );
    }
}
