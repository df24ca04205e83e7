//! Tail sampling: whole traces kept or dropped once their spans are in, keeping every trace
//! with an error or a slow span and a share of the others.
//!
//! Spans are stored as they arrive (acknowledged, durable, counted by RED, the service map
//! and triage) and the decision is made when the store writes its memory to files, by which
//! time a trace's spans have arrived: the store hands each trace's facts ([`TraceFacts`]) to
//! [`TailSampler::decide`]. A decision is remembered for a while, so spans of a trace that
//! arrive after its first part was written follow it (a trace first seen ordinary and then
//! failing keeps its later part). The share kept of ordinary traces is chosen from the trace
//! id's random bits, the same on every node and at every decision.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::rules::Match;

/// Decisions remembered for spans that arrive late.
const REMEMBERED: usize = 200_000;

/// What a `tail_sample` rule keeps.
#[derive(Debug, Clone)]
pub struct TailPolicy {
    /// Share of the ordinary traces kept (0 keeps only errors and slow traces).
    pub rate: f64,
    /// A trace with a span at least this long is kept (nanoseconds).
    pub slow_ns: Option<i64>,
}

/// What a trace's spans in one write say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceFacts {
    pub spans: u64,
    /// Bytes of the spans, for what dropping them saves.
    pub bytes: u64,
    pub error: bool,
    pub longest_ns: i64,
    /// Whether a span matched the rule's conditions (traces that do not are kept).
    pub matched: bool,
}

/// Why a trace is kept or dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The rule does not apply to it.
    Unmatched,
    Error,
    Slow,
    /// Among the share of ordinary traces kept.
    Sampled,
    Dropped,
}

impl Verdict {
    pub fn keeps(self) -> bool {
        self != Verdict::Dropped
    }
}

/// Decides traces under one policy, remembering recent decisions.
#[derive(Debug, Default)]
pub struct TailSampler {
    memory: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    kept: HashMap<String, bool>,
    order: VecDeque<String>,
}

impl Memory {
    fn remember(&mut self, trace_id: &str, keep: bool) {
        match self.kept.get_mut(trace_id) {
            Some(k) => *k = *k || keep,
            None => {
                if self.order.len() >= REMEMBERED
                    && let Some(oldest) = self.order.pop_front()
                {
                    self.kept.remove(&oldest);
                }
                self.kept.insert(trace_id.to_string(), keep);
                self.order.push_back(trace_id.to_string());
            }
        }
    }
}

impl TailSampler {
    /// The verdict on a trace: errors and slow traces always kept, the others by the share;
    /// a trace kept before keeps its late spans.
    pub fn decide(&self, policy: &TailPolicy, trace_id: &str, facts: &TraceFacts) -> Verdict {
        if !facts.matched {
            return Verdict::Unmatched;
        }
        let mut memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let verdict = if facts.error {
            Verdict::Error
        } else if policy.slow_ns.is_some_and(|s| facts.longest_ns >= s) {
            Verdict::Slow
        } else if memory.kept.get(trace_id) == Some(&true) || sampled(trace_id, policy.rate) {
            Verdict::Sampled
        } else {
            Verdict::Dropped
        };
        memory.remember(trace_id, verdict.keeps());
        verdict
    }
}

/// Whether an ordinary trace is among the share kept: from the trace id's last 56 bits,
/// random in W3C trace ids, so the same on every node; other ids are hashed.
pub fn sampled(trace_id: &str, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    let tail = trace_id
        .get(trace_id.len().saturating_sub(14)..)
        .unwrap_or("");
    let r = match u64::from_str_radix(tail, 16) {
        Ok(bits) if tail.len() == 14 => bits as f64 / (1u64 << 56) as f64,
        _ => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            trace_id.hash(&mut h);
            h.finish() as f64 / u64::MAX as f64
        }
    };
    r < rate
}

/// Whether a span meets a tail rule's conditions (service, name, attributes).
pub fn span_matches(when: &Match, service: &str, name: &str, attributes: &str) -> bool {
    crate::apply::span_holds(when, service, name, attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(error: bool, longest_ms: i64) -> TraceFacts {
        TraceFacts {
            spans: 3,
            bytes: 300,
            error,
            longest_ns: longest_ms * 1_000_000,
            matched: true,
        }
    }

    fn id(n: u64) -> String {
        // Random-looking low bits, as SDKs make them.
        format!("{:016x}{:016x}", n, n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    #[test]
    fn errors_and_slow_traces_are_kept_and_a_share_of_the_others() {
        let policy = TailPolicy {
            rate: 0.1,
            slow_ns: Some(500_000_000),
        };
        let s = TailSampler::default();
        assert_eq!(s.decide(&policy, &id(1), &facts(true, 10)), Verdict::Error);
        assert_eq!(s.decide(&policy, &id(2), &facts(false, 900)), Verdict::Slow);
        let kept = (100..10_100)
            .filter(|n| s.decide(&policy, &id(*n), &facts(false, 10)).keeps())
            .count();
        assert!((800..1200).contains(&kept), "kept {kept} of 10,000 at 0.1");
        let unmatched = TraceFacts {
            matched: false,
            ..facts(false, 10)
        };
        assert_eq!(s.decide(&policy, &id(3), &unmatched), Verdict::Unmatched);
    }

    #[test]
    fn the_share_is_the_same_for_a_trace_at_every_decision() {
        let policy = TailPolicy {
            rate: 0.5,
            slow_ns: None,
        };
        let (a, b) = (TailSampler::default(), TailSampler::default());
        for n in 0..1000 {
            let f = facts(false, 1);
            assert_eq!(a.decide(&policy, &id(n), &f), b.decide(&policy, &id(n), &f));
        }
    }

    #[test]
    fn late_spans_of_a_kept_trace_are_kept() {
        let policy = TailPolicy {
            rate: 0.0,
            slow_ns: None,
        };
        let s = TailSampler::default();
        let trace = id(7);
        assert_eq!(s.decide(&policy, &trace, &facts(true, 1)), Verdict::Error);
        // Its last spans, written later, without the error.
        assert_eq!(
            s.decide(&policy, &trace, &facts(false, 1)),
            Verdict::Sampled
        );
        assert_eq!(
            s.decide(&policy, &id(8), &facts(false, 1)),
            Verdict::Dropped
        );
    }
}
