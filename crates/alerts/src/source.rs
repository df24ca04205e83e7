//! The [`Querier`] over redscope's own data: PromQL through [`promql::Engine`], triage
//! through [`query::QueryService::triage`].

use std::collections::BTreeMap;
use std::sync::Arc;

use promql::QueryValue;

use crate::engine::Querier;
use crate::lifecycle::Found;

pub struct StoreQuerier {
    pub promql: Arc<promql::Engine>,
    pub query: Arc<query::QueryService>,
}

fn found(labels: BTreeMap<String, String>, value: f64) -> Found {
    Found {
        labels,
        value,
        annotations: BTreeMap::new(),
    }
}

#[async_trait::async_trait]
impl Querier for StoreQuerier {
    async fn instant(&self, expr: &str, at_ms: i64) -> Result<Vec<Found>, String> {
        let value = self
            .promql
            .evaluate_instant(expr, at_ms)
            .await
            .map_err(|e| e.to_string())?;
        match value {
            QueryValue::Vector(samples) => Ok(samples
                .into_iter()
                .map(|s| {
                    let labels = s
                        .labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    found(labels, s.v)
                })
                .collect()),
            QueryValue::Scalar { v, .. } => Ok(vec![found(BTreeMap::new(), v)]),
            other => Err(format!(
                "rule result is a {}, not a vector or scalar",
                other.result_type()
            )),
        }
    }

    async fn triage(&self, window_ms: i64, at_ms: i64) -> Result<Vec<Found>, String> {
        let end_ns = at_ms.saturating_mul(1_000_000);
        let range = model::TimeRange {
            start_ns: end_ns.saturating_sub(window_ms.saturating_mul(1_000_000)),
            end_ns,
        };
        let report = self
            .query
            .triage(range, None, None)
            .await
            .map_err(|e| e.to_string())?;
        let Some(top) = report.candidates.first() else {
            return Ok(Vec::new());
        };
        let mut labels: BTreeMap<String, String> = [
            ("service".to_string(), top.service.clone()),
            ("cause_kind".to_string(), top.kind.clone()),
        ]
        .into();
        if let Some(op) = &top.operation {
            labels.insert("operation".to_string(), op.clone());
        }
        let mut f = found(labels, top.score);
        f.annotations
            .insert("description".to_string(), top.summary.clone());
        Ok(vec![f])
    }
}
