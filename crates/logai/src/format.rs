//! Learning a resource's header shape and noticing when it changes.
//!
//! Every text line's header scan has a signature: the sequence of its field kinds. The learner
//! counts signatures and keeps as *learned* the longest one that is a prefix of at least half
//! of the lines. A line whose scan ran past it (its message starts with `SQM:` or a number) is
//! cut back to the learned header; a line with a different header passes through with what its
//! own scan found and counts as not fitting. When a different signature becomes the learned
//! one, that is format drift (a new release, a logger configured late), and it is counted.

use serde::{Deserialize, Serialize};

use crate::header::{FieldKind, Header, word_at};

/// A header signature packed four bits per field (kind index + 1), at most 16 fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature(pub u64);

impl Signature {
    /// The kinds of the header's fields in order, a run of words before a `-` or `|`
    /// separator counted as one field: the name before the separator may hold blanks
    /// (`chrome.exe *64 - ...` and `chrome.exe - ...` have one header).
    pub fn of(header: &Header) -> Signature {
        let fields = &header.fields;
        let mut packed = 0u64;
        let (mut index, mut code) = (0, 0);
        while index < fields.len() && code < 16 {
            packed |= (kind_code(fields[index].kind) as u64) << (code * 4);
            index += run_length(fields, index);
            code += 1;
        }
        Signature(packed)
    }

    /// How many of `header`'s fields the first `codes` kinds of its signature stand for.
    fn fields_for(header: &Header, codes: usize) -> usize {
        let fields = &header.fields;
        let mut seen = 0;
        let mut index = 0;
        while index < fields.len() && seen < codes {
            index += run_length(fields, index);
            seen += 1;
        }
        index
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

/// The fields a signature code at `index` stands for: one, or a run of words that a `-` or
/// `|` separator follows.
fn run_length(fields: &[crate::header::Field], index: usize) -> usize {
    if fields[index].kind != FieldKind::Word
        || fields
            .get(index + 1)
            .is_none_or(|f| f.kind == FieldKind::Level)
    {
        return 1;
    }
    let words = fields[index..]
        .iter()
        .take_while(|f| f.kind == FieldKind::Word)
        .count();
    let separated = fields
        .get(index + words)
        .is_some_and(|f| matches!(f.kind, FieldKind::Dash | FieldKind::Pipe));
    if separated { words } else { 1 }
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
    /// Whether the words a header scan ends with are the message's first words.
    #[serde(default)]
    pub boundary: Boundary,
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
            let learned_fields = Signature::fields_for(header, learned.len());
            let level = header
                .fields
                .iter()
                .enumerate()
                .skip(learned_fields)
                .find(|(_, field)| field.level.is_some())
                .map(|(index, field)| (index, *field));
            match level {
                // A level right after the learned header (a bracketed level where other lines
                // have a bracketed tag) is a header field: the message starts after it.
                // So is a level behind numbers and brackets only (a thread id, a flag column).
                Some((index, _))
                    if learned_fields == 0
                        || header.fields[learned_fields..index]
                            .iter()
                            .all(|f| matches!(f.kind, FieldKind::Number | FieldKind::Bracket)) =>
                {
                    header.truncate(index + 1);
                }
                // A level behind words (`host:port error : ...` where the learned header ends
                // before the address) is the line's level, but the message still starts where
                // the learned header ends, as on the resource's other lines.
                Some((_, field)) => {
                    let start = header.fields[learned_fields - 1].next;
                    header.truncate(learned_fields);
                    header.fields.push(field);
                    header.message_at = Some(start);
                }
                None => header.truncate(learned_fields),
            }
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
        if self.learned.is_some_and(|previous| previous != signature) {
            // What the boundary counted was read behind another header: the words it saw
            // after the header are other words now, so it counts afresh.
            self.boundary = Boundary::default();
        }
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

/// Learns, per resource, whether the words a header scan ends with (`FTP response:`,
/// `CONNECT:` after the time and a bracket) are the start of the message rather than header
/// fields: header fields vary independently of the message, so when the scan's last words take
/// several values but the word after them is the same on nearly every line (`Client ...`), the
/// varying words are what tells the events apart, and the message starts with them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Boundary {
    /// Lines whose header ends with words after another field.
    lines: u64,
    /// The majority candidate for the first message word (Boyer-Moore vote) and its margin.
    first_word: u64,
    margin: u64,
    /// The first line's ending words, and whether another line's differed.
    tail: u64,
    tail_varies: bool,
    /// Lines with a header and a message, and how many of those messages open with an
    /// integer column (`1 running`, `-1 Link error`).
    #[serde(default)]
    headed: u64,
    #[serde(default)]
    numbered: u64,
    /// Whether that column is taken as the header's (decided with hysteresis, so a share near
    /// the threshold does not make lines alternate between two messages).
    #[serde(default)]
    number_column: bool,
}

/// Lines a resource must show before its ending words can be taken as message.
const BOUNDARY_LINES: u64 = 32;

impl Boundary {
    /// Counts one line's header (after the learned header was applied).
    pub fn observe(&mut self, line: &str, header: &Header) {
        // A line whose header ends the line (a level word that is all it says) has no message.
        if !header.fields.is_empty() && header.message_start() < line.len() {
            self.headed += 1;
            if number_column(line, header.message_start()).is_some() {
                self.numbered += 1;
            }
            if self.headed >= BOUNDARY_LINES {
                let share = self.numbered * 100 / self.headed;
                if share >= 85 {
                    self.number_column = true;
                } else if share < 70 {
                    self.number_column = false;
                }
            }
        }
        let Some(tail_start) = tail_start(header) else {
            return;
        };
        let bytes = line.as_bytes();
        let tail = word_at(bytes, header.fields[tail_start].start)
            ^ word_at(bytes, header.fields[header.fields.len() - 1].start).rotate_left(1);
        let first = first_token(bytes, header.message_start());
        if self.lines == 0 {
            self.tail = tail;
        } else if self.tail != tail {
            self.tail_varies = true;
        }
        self.lines += 1;
        if self.margin == 0 {
            self.first_word = first;
            self.margin = 1;
        } else if self.first_word == first {
            self.margin += 1;
        } else {
            self.margin -= 1;
        }
    }

    /// True when the ending words are the message's start: they vary while the word after
    /// them holds nine lines in ten or more (a vote margin of 80% guarantees that share).
    pub fn ending_words_are_message(&self) -> bool {
        self.lines >= BOUNDARY_LINES && self.tail_varies && self.margin * 5 >= self.lines * 4
    }

    /// Gives the header's ending words back to the message when they were learned to be its
    /// start, and takes an integer column that opens most messages (85% of 32 lines or more,
    /// until under 70%) into the header: a flag or count column, not a word of each message.
    pub fn apply(&self, line: &str, header: &mut Header) {
        if self.ending_words_are_message()
            && let Some(tail_start) = tail_start(header)
        {
            header.truncate(tail_start);
        }
        if self.number_column
            && !header.fields.is_empty()
            && let Some(next) = number_column(line, header.message_start())
        {
            header.message_at = Some(next);
        }
    }
}

/// Where the message continues when it opens with an integer (optionally signed) followed by
/// more text: the offset of that text.
fn number_column(line: &str, at: usize) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut end = at + usize::from(bytes.get(at) == Some(&b'-'));
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end == digits_start || end - digits_start > 4 || bytes.get(end) != Some(&b' ') {
        return None;
    }
    let next = end + line[end..].len() - line[end..].trim_start().len();
    (next < bytes.len()).then_some(next)
}

/// Where the run of word and logger fields a header ends with starts, when another field
/// (a time, a bracket) comes before it.
fn tail_start(header: &Header) -> Option<usize> {
    let fields = &header.fields;
    let mut start = fields.len();
    while start > 0
        && matches!(fields[start - 1].kind, FieldKind::Word | FieldKind::Logger)
        && fields[start - 1].level.is_none()
    {
        start -= 1;
    }
    (start > 0 && start < fields.len()).then_some(start)
}

/// The first token of the message (up to eight bytes), as a word.
fn first_token(bytes: &[u8], at: usize) -> u64 {
    let word = word_at(bytes, at).to_le_bytes();
    let length = word.iter().position(|b| *b == b' ' || *b == 0).unwrap_or(8);
    let mut token = [0u8; 8];
    token[..length].copy_from_slice(&word[..length]);
    u64::from_le_bytes(token)
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
