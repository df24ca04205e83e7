//! Learning a resource's header shape and noticing when it changes.
//!
//! Every text line's header scan has a signature: the sequence of its field kinds. The learner
//! counts signatures and keeps as *learned* the longest one that is a prefix of at least half
//! of the lines. A line whose scan ran past it (its message starts with `SQM:` or a number) is
//! cut back to the learned header; a line with a different header passes through with what its
//! own scan found and counts as not fitting. When a different signature becomes the learned
//! one, that is format drift (a new release, a logger configured late), and it is counted.

use serde::{Deserialize, Serialize};

use crate::header::{FieldKind, Header};

/// A header signature packed four bits per field (kind index + 1), at most 16 fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature(pub u64);

impl Signature {
    pub fn of(header: &Header) -> Signature {
        let mut packed = 0u64;
        for (index, field) in header.fields.iter().take(16).enumerate() {
            packed |= (kind_code(field.kind) as u64) << (index * 4);
        }
        Signature(packed)
    }

    pub fn len(self) -> usize {
        (64 - self.0.leading_zeros() as usize).div_ceil(4)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when `self` is a prefix of (or equal to) `other`.
    pub fn is_prefix_of(self, other: Signature) -> bool {
        let length = self.len();
        if length == 0 {
            return true;
        }
        let mask = if length >= 16 {
            u64::MAX
        } else {
            (1u64 << (length * 4)) - 1
        };
        other.0 & mask == self.0
    }
}

fn kind_code(kind: FieldKind) -> u8 {
    match kind {
        FieldKind::Priority => 1,
        FieldKind::Time => 2,
        FieldKind::Level => 3,
        FieldKind::Number => 4,
        FieldKind::Dash => 5,
        FieldKind::Pipe => 6,
        FieldKind::Word => 7,
        FieldKind::Bracket => 8,
        FieldKind::Logger => 9,
    }
}

const MAX_SIGNATURES: usize = 32;

/// What the learner decided for one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Not enough lines yet to have learned anything.
    Learning,
    /// The line has the learned header (possibly after cutting it back).
    Fits,
    /// The line's header differs from the learned one.
    Differs,
}

/// The per-resource header learner; persisted with the resource state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FormatLearner {
    counts: Vec<(Signature, u64)>,
    learned: Option<Signature>,
    lines: u64,
    /// Times the learned header changed to an unrelated one.
    pub drift_events: u64,
    /// Lines whose header did not fit the learned one.
    pub unfit_lines: u64,
}

const MIN_LINES: u64 = 8;

impl FormatLearner {
    pub fn learned(&self) -> Option<Signature> {
        self.learned
    }

    /// Counts the line's header and cuts it back to the learned header when it ran longer.
    pub fn observe(&mut self, header: &mut Header) -> Fit {
        let signature = Signature::of(header);
        self.count(signature);
        self.lines += 1;
        if self.lines <= 64 || self.lines.is_power_of_two() || self.lines.is_multiple_of(4096) {
            self.relearn();
        }
        self.apply(header, signature)
    }

    /// Applies the learned header without counting (used when re-reading learned lines).
    pub fn apply(&mut self, header: &mut Header, signature: Signature) -> Fit {
        let Some(learned) = self.learned else {
            return Fit::Learning;
        };
        if learned.is_prefix_of(signature) {
            // A level is never cut off: a line whose level sits past the learned header (a
            // bracketed level where other lines have a bracketed tag) keeps it.
            let keep = header
                .fields
                .iter()
                .enumerate()
                .skip(learned.len())
                .find(|(_, field)| field.level.is_some())
                .map_or(learned.len(), |(index, _)| index + 1);
            header.truncate(keep);
            Fit::Fits
        } else {
            self.unfit_lines += 1;
            Fit::Differs
        }
    }

    fn count(&mut self, signature: Signature) {
        if let Some(entry) = self.counts.iter_mut().find(|(s, _)| *s == signature) {
            entry.1 += 1;
            return;
        }
        if self.counts.len() >= MAX_SIGNATURES {
            // Decay: halve every count and forget the ones that reach zero.
            for entry in &mut self.counts {
                entry.1 /= 2;
            }
            self.counts.retain(|(_, count)| *count > 0);
            if self.counts.len() >= MAX_SIGNATURES {
                self.counts
                    .sort_by_key(|(_, count)| std::cmp::Reverse(*count));
                self.counts.truncate(MAX_SIGNATURES - 1);
            }
        }
        self.counts.push((signature, 1));
    }

    fn relearn(&mut self) {
        let total: u64 = self.counts.iter().map(|(_, count)| count).sum();
        if total < MIN_LINES {
            return;
        }
        let mut best: Option<(Signature, u64)> = None;
        for &(candidate, _) in &self.counts {
            let coverage: u64 = self
                .counts
                .iter()
                .filter(|(other, _)| candidate.is_prefix_of(*other))
                .map(|(_, count)| count)
                .sum();
            if coverage * 2 < total {
                continue;
            }
            let better = match best {
                None => true,
                Some((current, current_coverage)) => {
                    candidate.len() > current.len()
                        || (candidate.len() == current.len() && coverage > current_coverage)
                }
            };
            if better {
                best = Some((candidate, coverage));
            }
        }
        let Some((signature, _)) = best else { return };
        if let Some(previous) = self.learned
            && previous != signature
            && !previous.is_prefix_of(signature)
            && !signature.is_prefix_of(previous)
        {
            self.drift_events += 1;
        }
        self.learned = Some(signature);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::scan;

    #[test]
    fn learned_header_cuts_longer_scans() {
        let mut learner = FormatLearner::default();
        for index in 0..20 {
            let line =
                format!("2016-09-28 04:30:30, Info                  CBS    Loaded thing {index}");
            let mut header = scan(&line);
            learner.observe(&mut header);
        }
        let line = "2016-09-28 04:30:30, Info                  CBS    SQM: Failed to start";
        let mut header = scan(line);
        assert_eq!(learner.observe(&mut header), Fit::Fits);
        assert_eq!(&line[header.message_start()..], "SQM: Failed to start");
    }

    #[test]
    fn drift_is_counted() {
        let mut learner = FormatLearner::default();
        for _ in 0..20 {
            let mut header = scan("2026-11-23 10:00:00,000 INFO [main] a.B: started");
            learner.observe(&mut header);
        }
        for _ in 0..100 {
            let mut header = scan("<13>Nov 23 10:00:00 host app[12]: started");
            learner.observe(&mut header);
        }
        assert_eq!(learner.drift_events, 1);
    }
}
