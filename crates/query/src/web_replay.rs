//! Session replay (`/api/v1/web/sessions/{id}/replay`): a session's `browser.replay_segment`
//! records in order, their bodies read from the replay store when ingest moved them there.

use std::sync::Arc;

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Int64Type};
use model::TimeRange;
use serde::Serialize;
use serde_json::Value;

use crate::rollup::column;
use crate::web::{contains_pattern, parse_attrs, session_of, strings};
use crate::{QueryError, QueryService};

impl QueryService {
    /// Reads replay segment bodies that ingest moved to `store`.
    pub fn with_replay(mut self, store: Arc<rum::ReplayStore>) -> Self {
        self.replay = Some(store);
        self
    }

    /// The replay segments of a session, in order.
    pub async fn web_replay(
        &self,
        range: TimeRange,
        session_id: &str,
    ) -> Result<Replay, QueryError> {
        let sql = format!(
            "SELECT time_unix_nano, body, attributes FROM logs WHERE time_unix_nano >= {} AND time_unix_nano < {} \
             AND event_name = '{}' AND attributes LIKE {} ORDER BY time_unix_nano LIMIT 10000",
            range.start_ns,
            range.end_ns,
            rum::attrs::EVENT_REPLAY,
            contains_pattern(session_id)
        );
        let mut segments = Vec::new();
        for batch in &self.collect(&sql).await? {
            let times = column(batch, "time_unix_nano", &DataType::Int64)?;
            let times = times.as_primitive::<Int64Type>();
            let (bodies, attrs) = (strings(batch, "body")?, strings(batch, "attributes")?);
            let (bodies, attrs) = (bodies.as_string::<i32>(), attrs.as_string::<i32>());
            for row in 0..batch.num_rows() {
                let attributes = parse_attrs(attrs.value(row), None);
                if session_of(&attributes) != session_id {
                    continue;
                }
                let text = |k: &str| {
                    attributes
                        .get(k)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                segments.push(ReplaySegment {
                    time_unix_nano: times.value(row),
                    sequence: ["replay.segment.sequence", "replay.sequence"]
                        .iter()
                        .find_map(|k| attributes.get(*k).and_then(Value::as_i64)),
                    recording_id: text("replay.recording.id"),
                    has_full_snapshot: attributes
                        .get("replay.segment.has_full_snapshot")
                        .and_then(Value::as_bool),
                    encoding: text("replay.segment.encoding")
                        .unwrap_or_else(|| "gzip+base64".to_string()),
                    data: bodies.value(row).to_string(),
                    blob: text(rum::attrs::REPLAY_BLOB),
                });
            }
        }
        let expired = self.read_blobs(&mut segments).await?;
        if segments.is_empty() && expired == 0 {
            return Err(QueryError::NotFound(format!(
                "replay of session '{session_id}'"
            )));
        }
        segments.sort_by_key(|s| (s.sequence.unwrap_or(i64::MAX), s.time_unix_nano));
        Ok(Replay {
            session_id: session_id.to_string(),
            segments,
            expired_segments: expired,
        })
    }

    /// Fills in the bodies kept in the replay store; segments whose blob has expired are
    /// taken out and counted.
    async fn read_blobs(&self, segments: &mut Vec<ReplaySegment>) -> Result<usize, QueryError> {
        let Some(store) = self.replay.clone() else {
            return Ok(0);
        };
        let keys: Vec<Option<String>> = segments.iter().map(|s| s.blob.clone()).collect();
        if keys.iter().all(Option::is_none) {
            return Ok(0);
        }
        let bodies = tokio::task::spawn_blocking(move || {
            keys.iter()
                .map(|k| k.as_ref().map(|k| store.get(k)))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| QueryError::Internal(format!("reading replay blobs: {e}")))?;
        let mut expired = 0;
        let mut kept = Vec::with_capacity(segments.len());
        for (mut segment, body) in segments.drain(..).zip(bodies) {
            match body {
                None => kept.push(segment),
                Some(Some(bytes)) => {
                    segment.data = String::from_utf8_lossy(&bytes).into_owned();
                    kept.push(segment);
                }
                Some(None) => expired += 1,
            }
        }
        *segments = kept;
        Ok(expired)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplaySegment {
    pub time_unix_nano: i64,
    pub sequence: Option<i64>,
    pub recording_id: Option<String>,
    pub has_full_snapshot: Option<bool>,
    /// How `data` holds the JSON array of rrweb events: `gzip+base64` (the default) or `json`.
    pub encoding: String,
    pub data: String,
    /// Where ingest put the body (`<hour>/<session>/<file>` in the replay store).
    #[serde(skip)]
    pub blob: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Replay {
    pub session_id: String,
    pub segments: Vec<ReplaySegment>,
    /// Segments past the replay retention (their records outlive them in the logs).
    pub expired_segments: usize,
}
