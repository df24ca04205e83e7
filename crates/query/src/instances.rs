//! Below the service: when one instance of several behaves differently from the others
//! (errors or latency), triage names it.

use analysis::triage::{Candidate, Evidence};
use model::TimeRange;

use crate::sql::quote;
use crate::{QueryError, QueryService};

/// Requests an instance must have served in the window to be judged.
const MIN_REQUESTS: i64 = 10;

/// One instance's requests in the window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InstanceRed {
    pub name: String,
    pub requests: i64,
    pub errors: i64,
    pub mean_ms: f64,
}

impl InstanceRed {
    fn error_rate(&self) -> f64 {
        self.errors as f64 / self.requests.max(1) as f64
    }
}

/// The instance that stands out from the others, and what shows it: errors well above the
/// others' pooled rate, or a mean duration at least twice theirs. `None` when fewer than two
/// instances were judged or when none (or more than one) stands out.
pub(crate) fn outlier(instances: &[InstanceRed]) -> Option<(String, Evidence)> {
    let judged: Vec<&InstanceRed> = instances
        .iter()
        .filter(|i| i.requests >= MIN_REQUESTS)
        .collect();
    if judged.len() < 2 {
        return None;
    }
    let mut found = Vec::new();
    for (index, inst) in judged.iter().enumerate() {
        let others: Vec<&&InstanceRed> = judged
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .map(|(_, i)| i)
            .collect();
        let requests: i64 = others.iter().map(|o| o.requests).sum();
        let errors: i64 = others.iter().map(|o| o.errors).sum();
        let others_rate = errors as f64 / requests.max(1) as f64;
        let others_mean = others
            .iter()
            .map(|o| o.mean_ms * o.requests as f64)
            .sum::<f64>()
            / requests.max(1) as f64;
        let n = others.len();
        if inst.error_rate() >= others_rate * 2.0 + 0.05 && inst.error_rate() - others_rate >= 0.1 {
            found.push((
                inst.name.clone(),
                Evidence {
                    kind: "instance".into(),
                    detail: format!(
                        "instance {}: errors {:.1}% against {:.1}% on the other {n}",
                        inst.name,
                        inst.error_rate() * 100.0,
                        others_rate * 100.0
                    ),
                    before: Some(others_rate),
                    after: Some(inst.error_rate()),
                },
            ));
        } else if inst.mean_ms >= others_mean * 2.0 && inst.mean_ms - others_mean >= 20.0 {
            found.push((
                inst.name.clone(),
                Evidence {
                    kind: "instance".into(),
                    detail: format!(
                        "instance {}: mean {:.1} ms against {:.1} ms on the other {n}",
                        inst.name, inst.mean_ms, others_mean
                    ),
                    before: Some(others_mean),
                    after: Some(inst.mean_ms),
                },
            ));
        }
    }
    (found.len() == 1).then(|| found.remove(0))
}

/// Per calling service, its instances' calls; the one instance that stands out among its
/// service's (when exactly one does over all callers), with the caller's name.
fn calling_outlier(callers: &[(String, InstanceRed)]) -> Option<(String, String, Evidence)> {
    let mut services: Vec<&str> = callers.iter().map(|(s, _)| s.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    let mut found: Vec<(String, String, Evidence)> = services
        .into_iter()
        .filter_map(|service| {
            let instances: Vec<InstanceRed> = callers
                .iter()
                .filter(|(s, _)| s == service)
                .map(|(_, i)| i.clone())
                .collect();
            let (name, mut evidence) = outlier(&instances)?;
            evidence.detail = format!("calls from {service} {}", evidence.detail);
            Some((service.to_string(), name, evidence))
        })
        .collect();
    (found.len() == 1).then(|| found.remove(0))
}

fn instance_red(r: &serde_json::Map<String, serde_json::Value>) -> InstanceRed {
    InstanceRed {
        name: r
            .get("inst")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string(),
        requests: r.get("n").and_then(|v| v.as_i64()).unwrap_or(0),
        errors: r.get("errors").and_then(|v| v.as_i64()).unwrap_or(0),
        mean_ms: r.get("mean_ms").and_then(|v| v.as_f64()).unwrap_or(0.0),
    }
}

impl QueryService {
    /// Names the instance of a candidate that stands out from its siblings: for a service, among
    /// its instances; for a dependency without telemetry, among the instances of each service
    /// that calls it (a dependency that fails only for one caller instance points there).
    pub(crate) async fn instance_of(
        &self,
        c: &mut Candidate,
        window: TimeRange,
    ) -> Result<(), QueryError> {
        let (group, spans) = if c.instrumented {
            (
                "''",
                format!(
                    "service_name = {} AND (kind IN ('SERVER', 'CONSUMER') OR parent_span_id = '')",
                    quote(&c.service)
                ),
            )
        } else {
            (
                "service_name",
                format!(
                    "kind IN ('CLIENT', 'PRODUCER') AND {}",
                    crate::triage::dependency_spans_sql(&c.service)
                ),
            )
        };
        let sql = format!(
            "SELECT {group} AS svc, coalesce(service_instance_id, host_name) AS inst, count(*) AS n, \
             sum(CASE WHEN status_code = 'ERROR' THEN 1 ELSE 0 END) AS errors, \
             avg(duration_ns) / 1e6 AS mean_ms FROM spans \
             WHERE {spans} AND start_time_unix_nano >= {} AND start_time_unix_nano < {} \
             AND coalesce(service_instance_id, host_name) IS NOT NULL GROUP BY 1, 2 LIMIT 1000",
            window.start_ns, window.end_ns
        );
        let rows = crate::service::to_json_rows(&self.collect(&sql).await?)?;
        if c.instrumented {
            let instances: Vec<InstanceRed> = rows.iter().map(instance_red).collect();
            if let Some((name, evidence)) = outlier(&instances) {
                c.summary = format!("{} (instance {name})", c.summary);
                c.evidence.push(evidence);
                c.instance = Some(name);
            }
        } else {
            let callers: Vec<(String, InstanceRed)> = rows
                .iter()
                .map(|r| {
                    let service = r.get("svc").and_then(|v| v.as_str()).unwrap_or_default();
                    (service.to_string(), instance_red(r))
                })
                .collect();
            if let Some((service, name, evidence)) = calling_outlier(&callers) {
                c.summary = format!("{} (calls from instance {name} of {service})", c.summary);
                c.evidence.push(evidence);
                c.instance = Some(name);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(name: &str, requests: i64, errors: i64, mean_ms: f64) -> InstanceRed {
        InstanceRed {
            name: name.into(),
            requests,
            errors,
            mean_ms,
        }
    }

    #[test]
    fn one_bad_instance_of_three_is_named() {
        let errors = [
            inst("a", 100, 2, 30.0),
            inst("b", 100, 45, 31.0),
            inst("c", 100, 1, 29.0),
        ];
        assert_eq!(outlier(&errors).map(|(n, _)| n).as_deref(), Some("b"));
        let slow = [
            inst("a", 100, 2, 30.0),
            inst("b", 100, 2, 31.0),
            inst("c", 100, 1, 290.0),
        ];
        assert_eq!(outlier(&slow).map(|(n, _)| n).as_deref(), Some("c"));
    }

    #[test]
    fn evenly_bad_instances_name_none() {
        let all = [
            inst("a", 100, 40, 30.0),
            inst("b", 100, 45, 31.0),
            inst("c", 100, 42, 29.0),
        ];
        assert!(outlier(&all).is_none());
        assert!(
            outlier(&[inst("a", 100, 90, 30.0)]).is_none(),
            "one instance has no siblings"
        );
        let few = [inst("a", 100, 2, 30.0), inst("b", 5, 5, 31.0)];
        assert!(outlier(&few).is_none(), "too few requests to judge");
    }

    /// A dependency's callers: instances are compared within each calling service.
    #[test]
    fn the_one_caller_instance_whose_calls_fail_is_named() {
        let call = |service: &str, i: InstanceRed| (service.to_string(), i);
        let callers = [
            call("api", inst("api-1", 100, 1, 3.0)),
            call("api", inst("api-2", 100, 40, 3.0)),
            call("api", inst("api-3", 100, 0, 3.0)),
            // Another caller with more errors on every instance is no outlier.
            call("jobs", inst("jobs-1", 50, 20, 3.0)),
            call("jobs", inst("jobs-2", 50, 21, 3.0)),
        ];
        let (service, name, evidence) = calling_outlier(&callers).unwrap();
        assert_eq!((service.as_str(), name.as_str()), ("api", "api-2"));
        assert!(
            evidence.detail.starts_with("calls from api instance api-2"),
            "{}",
            evidence.detail
        );
        // Evenly failing calls name no instance.
        let even = [
            call("api", inst("api-1", 100, 40, 3.0)),
            call("api", inst("api-2", 100, 41, 3.0)),
        ];
        assert!(calling_outlier(&even).is_none());
        // One outlier in each of two callers: neither is the one.
        let two = [
            call("api", inst("api-1", 100, 1, 3.0)),
            call("api", inst("api-2", 100, 40, 3.0)),
            call("jobs", inst("jobs-1", 100, 1, 3.0)),
            call("jobs", inst("jobs-2", 100, 40, 3.0)),
        ];
        assert!(calling_outlier(&two).is_none());
    }
}
