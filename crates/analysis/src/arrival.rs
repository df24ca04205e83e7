//! How far the spans have arrived: the completeness watermark of the rollups derived from them.
//!
//! Exporters batch (the OpenTelemetry SDKs every few seconds), collectors queue, and a
//! collector back from an outage flushes minutes of old spans at once. Whatever is derived from
//! the spans of the last moments is therefore incomplete until they arrived: reading it as it
//! is would show a drop to zero. [`ArrivalLag`] keeps, per service that sent in the last 30 s,
//! the newest span end it has received; the spans are complete up to the oldest of those
//! ([`ArrivalLag::complete_to`]): a service still flushing a backlog holds the watermark back
//! until it caught up, one that sends live does not.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Services followed at most; beyond it the longest silent is forgotten.
const MAX_SERVICES: usize = 1024;
/// How long a service that stopped sending is still remembered.
const MEMORY_NS: i64 = 30_000_000_000;
/// A service whose newest span arrived within this long after it ended sends live; one whose
/// newest span was older is catching up on a backlog.
const LIVE_LAG_NS: i64 = 60_000_000_000;

/// Per service: when it last sent, the newest span end received from it, and how long after
/// that end it arrived.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ArrivalLag {
    services: HashMap<String, Arrival>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Arrival {
    /// When it last sent (unix ns).
    at: i64,
    newest_end: i64,
    lag_ns: i64,
}

/// Up to when the spans are complete, and the services still catching up on older spans.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Completeness {
    /// Spans of services that send live are complete up to here (unix ns).
    pub complete_to_unix_nano: i64,
    /// Services flushing a backlog, with the newest span end received from each: their spans
    /// after it are still to come, so a drop in their traffic means nothing yet.
    pub catching_up: Vec<(String, i64)>,
}

impl ArrivalLag {
    /// Records that `service` sent a span that ended at `end`, arriving at `now_ns` (unix ns).
    pub fn record(&mut self, service: &str, end: i64, now_ns: i64) {
        let now = now_ns;
        if let Some(arrival) = self.services.get_mut(service) {
            arrival.at = now;
            if end >= arrival.newest_end {
                arrival.newest_end = end;
                arrival.lag_ns = now_ns.saturating_sub(end).max(0);
            }
            return;
        }
        if self.services.len() >= MAX_SERVICES {
            self.forget_silent(now);
        }
        if self.services.len() < MAX_SERVICES {
            let lag_ns = now_ns.saturating_sub(end).max(0);
            self.services.insert(
                service.to_string(),
                Arrival {
                    at: now,
                    newest_end: end,
                    lag_ns,
                },
            );
        }
    }

    fn forget_silent(&mut self, now: i64) {
        self.services.retain(|_, a| now - a.at <= MEMORY_NS);
        if self.services.len() >= MAX_SERVICES
            && let Some(oldest) = self
                .services
                .iter()
                .min_by_key(|(_, a)| a.at)
                .map(|(name, _)| name.clone())
        {
            self.services.remove(&oldest);
        }
    }

    /// What is complete at `now_ns`: live services' spans up to `now_ns` less their arrival
    /// lag, and the services of the last 30 s that were still catching up.
    pub fn completeness(&mut self, now_ns: i64) -> Completeness {
        self.services.retain(|_, a| now_ns - a.at <= MEMORY_NS);
        let mut complete_to = now_ns;
        let mut catching_up = Vec::new();
        for (name, a) in &self.services {
            if a.lag_ns <= LIVE_LAG_NS {
                complete_to = complete_to.min(now_ns.saturating_sub(a.lag_ns));
            } else {
                catching_up.push((name.clone(), a.newest_end));
            }
        }
        catching_up.sort();
        Completeness {
            complete_to_unix_nano: complete_to,
            catching_up,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn live_services_set_the_watermark_and_backlogs_are_named() {
        let mut lag = ArrivalLag::default();
        let now_ns = 1_800_000_000 * S;
        let empty = lag.completeness(now_ns);
        assert_eq!(empty.complete_to_unix_nano, now_ns, "nothing arrived yet");
        // A live service: its newest span ended two seconds before it arrived.
        lag.record("web", now_ns - 2 * S, now_ns);
        assert_eq!(
            lag.completeness(now_ns).complete_to_unix_nano,
            now_ns - 2 * S
        );
        // Three seconds later nothing new came: what it had not sent is probably nothing.
        let c = lag.completeness(now_ns + 3 * S);
        assert_eq!(c.complete_to_unix_nano, now_ns + S);
        // A collector flushing a backlog ten minutes old is named, not waited for.
        lag.record("billing", now_ns - 600 * S, now_ns);
        let c = lag.completeness(now_ns);
        assert_eq!(c.complete_to_unix_nano, now_ns - 2 * S);
        assert_eq!(
            c.catching_up,
            vec![("billing".to_string(), now_ns - 600 * S)]
        );
        // Once it has caught up it is live again.
        lag.record("billing", now_ns - S, now_ns);
        assert!(lag.completeness(now_ns).catching_up.is_empty());
        // A service silent for forty seconds is forgotten.
        let c = lag.completeness(now_ns + 40 * S);
        assert_eq!(c.complete_to_unix_nano, now_ns + 40 * S);
    }
}
