//! Text line headers: which leading tokens are timestamp, level, pid, thread, logger...
//!
//! One scanner serves every text format. It reads the leading tokens of a line, gives each a
//! generic kind ([`FieldKind`]) and keeps a prefix only when it is *committed* by strong
//! evidence (a timestamp, a level word, a `logger:` terminator, a ` - ` or `|` separator, a
//! padded column). What a resource's header looks like is then learned from the data by
//! [`crate::format::FormatLearner`], which keeps the dominant kind sequence and cuts lines whose
//! scan ran longer than it (a message that happens to start with `word:`).

use serde::{Deserialize, Serialize};

use crate::severity::{Severity, parse_level};
use crate::timestamp;

/// The generic kind of one header field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldKind {
    /// `<34>` syslog priority.
    Priority,
    /// A date, a time, a date-time or a part of one.
    Time,
    /// A level word or letter.
    Level,
    /// A number (pid, thread id).
    Number,
    /// `-` separator.
    Dash,
    /// `|` separator.
    Pipe,
    /// A bare word (host, component).
    Word,
    /// `[...]` (thread, context).
    Bracket,
    /// `name:` or `file.go:42]`: logger, tag or caller, ends the header.
    Logger,
}

/// One header field: its kind, the span of its value and where a message after it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub kind: FieldKind,
    pub start: usize,
    pub end: usize,
    /// Byte offset of the first non-blank character after the field.
    pub next: usize,
    /// The level carried by a `Level` field, or by a glued one (`I1123`, `INFO[0000]`).
    pub level: Option<Severity>,
}

/// The committed header fields of one line.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub fields: Vec<Field>,
    /// Where the message starts when that is not after the last field: a level read past the
    /// learned header is kept as the line's level while its message starts where the learned
    /// header ends (see [`crate::format::FormatLearner::apply`]).
    pub message_at: Option<usize>,
    /// What the scan read to find them (see [`HeaderMemo`]).
    probe: Probe,
}

/// What a scan read of its line. Every decision of the scan depends on the line's bytes up to
/// `read_end` (and on whether the byte there exists and is a blank), and only through their
/// shape: which bytes are digits, never which digits they are, except in the `checks`
/// (compact dates and time texts with letters, whose month and day values count).
#[derive(Debug, Clone, Default)]
struct Probe {
    read_end: usize,
    /// False when the scan looked further than `read_end` (an unclosed `[`).
    bounded: bool,
    checks: Vec<Check>,
}

/// A time test whose answer depends on the values of the digits it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Check {
    start: usize,
    end: usize,
    /// `is_time_text` (a bracket's content) rather than `is_time_token`.
    text: bool,
    result: bool,
}

impl Check {
    fn holds(&self, line: &str) -> bool {
        // A check may have read past the shape's bytes: a shorter line (or one with a
        // character across the range) cannot answer it the same, so it is scanned afresh.
        let Some(part) = line.get(self.start..self.end) else {
            return false;
        };
        let result = if self.text {
            is_time_text(part)
        } else {
            timestamp::is_time_token(part)
        };
        result == self.result
    }
}

/// True when `is_time_token`'s answer for `token` may change with the values of its digits:
/// it has digits and letters (a month name, `T`), or is an eight-digit compact date.
fn value_sensitive(token: &str) -> bool {
    let token = token.trim_end_matches(',').as_bytes();
    let digits = token.iter().filter(|b| b.is_ascii_digit()).count();
    (digits == 8 && token.len() == 8) || (digits > 0 && token.iter().any(u8::is_ascii_alphabetic))
}

/// Recent header scans of one resource, each with the shape of what it read: a line that reads
/// the same (the same bytes, any digit for a digit, and the same answers to the value-dependent
/// time tests) scans to the same fields, which are then copied instead of worked out again.
/// Lines of a resource share their header's shape and differ in its digits.
#[derive(Debug, Clone, Default)]
pub struct HeaderMemo {
    entries: Vec<MemoEntry>,
    pub lookups: u64,
    pub hits: u64,
}

#[derive(Debug, Clone)]
struct MemoEntry {
    /// The bytes read, and the byte at `read_end` when the line went on: eight per word.
    shape: Vec<ShapeWord>,
    /// How many bytes `shape` covers.
    len: usize,
    /// The line ended at `read_end`.
    at_end: bool,
    fields: Vec<Field>,
    checks: Vec<Check>,
}

/// Eight bytes of a shape: the bytes that must be equal (`exact` under `keep`) and the
/// positions that must hold a digit, any digit (`digit`).
#[derive(Debug, Clone, Copy)]
struct ShapeWord {
    exact: u64,
    keep: u64,
    digit: u64,
}

const LOW_NIBBLES: u64 = 0x0f0f_0f0f_0f0f_0f0f;

impl ShapeWord {
    /// The shape of the first `len` (at most eight) bytes of `bytes` (little endian).
    fn of(bytes: u64, len: usize) -> ShapeWord {
        let valid = if len >= 8 {
            u64::MAX
        } else {
            (1u64 << (len * 8)) - 1
        };
        // Per byte, without carries between bytes: its low seven bits plus 0x50 reach the high
        // bit from `0` (0x30) on, plus 0x46 from `:` (0x3a) on; bytes from 0x80 are no digits.
        let low = bytes & 0x7f7f_7f7f_7f7f_7f7f;
        let from_zero = low + 0x5050_5050_5050_5050;
        let past_nine = low + 0x4646_4646_4646_4646;
        let high = from_zero & !past_nine & !bytes & 0x8080_8080_8080_8080;
        let digit = ((high >> 7) * 0xff) & valid;
        let keep = !digit & valid;
        ShapeWord {
            exact: bytes & keep,
            keep,
            digit,
        }
    }

    /// True when the eight bytes `bytes` (little endian) have this shape.
    fn fits(&self, bytes: u64) -> bool {
        let digits = bytes & self.digit;
        // A digit is `0x3_` with a low nibble under ten (adding six keeps it under `0x10`).
        bytes & self.keep == self.exact
            && digits & !LOW_NIBBLES == 0x3030_3030_3030_3030 & self.digit
            && ((digits & LOW_NIBBLES) + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010 & self.digit
                == 0
    }
}

/// Shapes remembered per resource, and the longest one.
const MEMO_ENTRIES: usize = 32;
const MEMO_SHAPE_BYTES: usize = 192;

/// Eight bytes of `bytes` from `at` as a little-endian word, zeros past the end.
pub(crate) fn word_at(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8) {
        Some(chunk) => u64::from_le_bytes(chunk.try_into().expect("eight bytes")),
        None => {
            let mut chunk = [0u8; 8];
            let rest = &bytes[at.min(bytes.len())..];
            chunk[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(chunk)
        }
    }
}

impl MemoEntry {
    fn fits(&self, line: &str) -> bool {
        let bytes = line.as_bytes();
        let long_enough = if self.at_end {
            bytes.len() == self.len
        } else {
            bytes.len() >= self.len
        };
        // A resource's shapes share their start (the timestamp) and differ towards their end
        // (the logger, the first words of the message): the last word first.
        let last = self.shape.len().saturating_sub(1);
        long_enough
            && self
                .shape
                .last()
                .is_some_and(|word| word.fits(word_at(bytes, last * 8)))
            && self.shape[..last]
                .iter()
                .enumerate()
                .all(|(index, word)| word.fits(word_at(bytes, index * 8)))
            && self.checks.iter().all(|check| check.holds(line))
    }
}

impl HeaderMemo {
    /// Scans `line` into `header`, as [`scan_into`] does.
    pub fn scan_into(&mut self, line: &str, header: &mut Header) {
        self.lookups += 1;
        if let Some(index) = self.entries.iter().position(|e| e.fits(line)) {
            self.hits += 1;
            header.fields.clone_from(&self.entries[index].fields);
            header.message_at = None;
            // Most recently used first: a resource's common shape is tried first.
            self.entries[..=index].rotate_right(1);
            return;
        }
        scan_into(line, header);
        let probe = &header.probe;
        if !probe.bounded || probe.read_end > MEMO_SHAPE_BYTES {
            return;
        }
        let bytes = line.as_bytes();
        let at_end = probe.read_end >= bytes.len();
        let read = &bytes[..(probe.read_end + 1).min(bytes.len())];
        if self.entries.len() < MEMO_ENTRIES {
            self.entries.push(MemoEntry {
                shape: Vec::new(),
                len: 0,
                at_end,
                fields: Vec::new(),
                checks: Vec::new(),
            });
        }
        // The new entry, or the least recently used one, becomes the first.
        self.entries.rotate_right(1);
        let entry = &mut self.entries[0];
        entry.shape.clear();
        entry.shape.extend(
            (0..read.len())
                .step_by(8)
                .map(|at| ShapeWord::of(word_at(read, at), read.len() - at)),
        );
        entry.len = read.len();
        entry.at_end = at_end;
        entry.fields.clone_from(&header.fields);
        entry.checks.clone_from(&probe.checks);
    }
}

impl Header {
    /// Byte offset where the message starts.
    pub fn message_start(&self) -> usize {
        self.message_at
            .unwrap_or_else(|| self.fields.last().map_or(0, |f| f.next))
    }

    /// True when the scan found evidence of a header at all.
    pub fn is_header(&self) -> bool {
        self.fields.iter().any(|f| {
            matches!(
                f.kind,
                FieldKind::Time | FieldKind::Level | FieldKind::Priority
            )
        })
    }

    /// Keeps only the first `count` fields.
    pub fn truncate(&mut self, count: usize) {
        self.fields.truncate(count);
        self.message_at = None;
    }
}

struct Token {
    kind: FieldKind,
    start: usize,
    end: usize,
    next: usize,
    padded: bool,
    level: Option<Severity>,
}

/// Fields a header holds at most.
pub const MAX_FIELDS: usize = 16;
const MAX_TENTATIVE: usize = 5;

/// Scans the header of a text line.
pub fn scan(line: &str) -> Header {
    let mut header = Header::default();
    scan_into(line, &mut header);
    header
}

/// Fields read but not yet committed; at most [`MAX_TENTATIVE`].
struct Tentative {
    fields: [Field; MAX_TENTATIVE],
    len: usize,
}

impl Tentative {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn iter(&self) -> std::slice::Iter<'_, Field> {
        self.fields[..self.len].iter()
    }

    fn push(&mut self, field: Field) {
        self.fields[self.len] = field;
        self.len += 1;
    }
}

const NO_FIELD: Field = Field {
    kind: FieldKind::Dash,
    start: 0,
    end: 0,
    next: 0,
    level: None,
};

/// Scans the header of a text line into `header`, reusing its storage.
pub fn scan_into(line: &str, header: &mut Header) {
    let bytes = line.as_bytes();
    header.fields.clear();
    header.message_at = None;
    header.probe.checks.clear();
    header.probe.bounded = true;
    let mut tentative = Tentative {
        fields: [NO_FIELD; MAX_TENTATIVE],
        len: 0,
    };
    let mut position = skip_blanks(bytes, 0);
    header.probe.read_end = position;
    let mut seen_level = false;
    let mut seen_time = false;
    let mut previous_kind: Option<FieldKind> = None;
    while position < bytes.len() && header.fields.len() + tentative.len() < MAX_FIELDS {
        let Some(token) = read_token(line, position, previous_kind, &mut header.probe) else {
            break;
        };
        header.probe.read_end = header.probe.read_end.max(token.next);
        let field = Field {
            kind: token.kind,
            start: token.start,
            end: token.end,
            next: token.next,
            level: token.level,
        };
        let mut stop = false;
        match token.kind {
            FieldKind::Priority => {
                if position != 0 {
                    break;
                }
                header.fields.push(field);
            }
            FieldKind::Time => {
                if seen_level && header.fields.iter().any(|f| f.kind == FieldKind::Logger) {
                    break;
                }
                // `INFO accepted connection from x at Mon Jul  1 07:57:01 2005`: a time behind
                // words after the level, or a date in words behind words that open the line, is in
                // the message (`node-7 unix.hw 1077804742` are header fields), and so is a time
                // behind words that ends the line.
                let words = tentative
                    .iter()
                    .filter(|f| f.kind == FieldKind::Word)
                    .count();
                let named = || {
                    let text = line[token.start..token.end].trim_end_matches(',');
                    timestamp::month_number(text).is_some() || timestamp::is_weekday(text)
                };
                let last = token.next >= bytes.len();
                if words > 0
                    && (seen_level || last || (words > 1 && header.fields.is_empty() && named()))
                {
                    break;
                }
                seen_time = true;
                commit(header, &mut tentative, field);
                if token.level.is_some() {
                    seen_level = true;
                }
            }
            FieldKind::Level => {
                let words = tentative
                    .iter()
                    .filter(|f| f.kind == FieldKind::Word)
                    .count();
                // `handler error: x` is a message, not a header with a level; after a time an
                // upper-case `ERROR:` is the level even behind words (`UTC [12] db ERROR:`).
                let text = &line[token.start..token.end];
                let shouted = seen_time && text.bytes().all(|b| !b.is_ascii_lowercase());
                if seen_level || (words > 0 && text.ends_with(':') && !shouted) {
                    break;
                }
                seen_level = true;
                commit(header, &mut tentative, field);
            }
            FieldKind::Dash | FieldKind::Pipe => {
                if !seen_time && !seen_level && header.fields.is_empty() && position != 0 {
                    break;
                }
                let words = tentative
                    .iter()
                    .filter(|f| f.kind == FieldKind::Word)
                    .count();
                if words > 2 {
                    break;
                }
                commit(header, &mut tentative, field);
            }
            FieldKind::Logger => {
                if !seen_time && !seen_level && header.fields.is_empty() {
                    break;
                }
                // After the level only brackets and numbers may sit between it and the logger
                // ("INFO [main] org.App:", klog's pid); before it at most a host and an app.
                let words = tentative
                    .iter()
                    .filter(|f| f.kind == FieldKind::Word)
                    .count();
                if (seen_level && words > 0) || words > 2 {
                    break;
                }
                commit(header, &mut tentative, field);
                if line[token.start..token.end].ends_with(']')
                    && let Some(next) = context_after_tag(line, token.next, &mut header.probe)
                    && let Some(logger) = header.fields.last_mut()
                {
                    logger.next = next;
                }
                let after_logger = header.fields.last().map_or(token.next, |f| f.next);
                if !seen_level
                    && let Some(level) = level_after_logger(line, after_logger, &mut header.probe)
                {
                    header.probe.read_end = header.probe.read_end.max(level.next);
                    header.fields.push(level);
                }
                stop = true;
            }
            FieldKind::Number | FieldKind::Word | FieldKind::Bracket => {
                if tentative.len() >= MAX_TENTATIVE {
                    break;
                }
                if seen_level && token.kind == FieldKind::Number && tentative.is_empty() {
                    // A number right after the level is the message ("INFO 3 files").
                    let klog = header
                        .fields
                        .last()
                        .is_some_and(|f| f.kind == FieldKind::Time);
                    if !klog {
                        break;
                    }
                }
                // `INFO nova.compute.manager [req-1 - -] ...`: a module path right after the
                // level, then a bracketed context, are the logger and its context.
                if seen_level
                    && token.kind == FieldKind::Bracket
                    && tentative.len() == 1
                    && tentative.fields[0].kind == FieldKind::Word
                    && header
                        .fields
                        .last()
                        .is_some_and(|f| f.kind == FieldKind::Level)
                    && is_module_path(&line[tentative.fields[0].start..tentative.fields[0].end])
                {
                    tentative.fields[0].kind = FieldKind::Logger;
                    commit(header, &mut tentative, field);
                    break;
                }
                let words = tentative.iter().any(|f| f.kind == FieldKind::Word);
                if token.padded
                    && (seen_level || seen_time)
                    && token.kind != FieldKind::Number
                    && !words
                {
                    commit(header, &mut tentative, field);
                } else {
                    tentative.push(field);
                }
            }
        }
        if stop {
            break;
        }
        previous_kind = Some(token.kind);
        position = token.next;
    }
    if !header.is_header() {
        header.fields.clear();
    }
    // `Dec 10 06:55:46`: a number between two time fields is part of the time.
    for index in 1..header.fields.len().saturating_sub(1) {
        if header.fields[index].kind == FieldKind::Number
            && header.fields[index - 1].kind == FieldKind::Time
            && header.fields[index + 1].kind == FieldKind::Time
        {
            header.fields[index].kind = FieldKind::Time;
        }
    }
}

/// A `level:` right after the logger (`general: notice: running`, `auth: Error: x`), the level
/// of loggers that write their name first.
fn level_after_logger(line: &str, at: usize, probe: &mut Probe) -> Option<Field> {
    if at >= line.len() {
        return None;
    }
    let token = read_token(line, at, Some(FieldKind::Logger), probe)?;
    let glued_colon = line[token.start..token.end].ends_with(':');
    (token.kind == FieldKind::Level && glued_colon).then_some(Field {
        kind: FieldKind::Level,
        start: token.start,
        end: token.end,
        next: token.next,
        level: token.level,
    })
}

/// Where the message starts after a context in parentheses between a syslog tag and its colon
/// (`agentd[129] ([4711]): ...`, `initd[1] (job.backup.4711): ...`): a process or job the tag
/// reports for, one token without blanks. `None` when the token at `at` is no such context.
fn context_after_tag(line: &str, at: usize, probe: &mut Probe) -> Option<usize> {
    const MAX_CONTEXT: usize = 160;
    let bytes = line.as_bytes();
    if bytes.get(at) != Some(&b'(') {
        probe.read_end = probe.read_end.max(at);
        return None;
    }
    let end = (at..bytes.len().min(at + MAX_CONTEXT))
        .find(|&i| bytes[i] == b' ' || bytes[i] == b'\t')
        .unwrap_or(bytes.len().min(at + MAX_CONTEXT));
    // The scan's answer depends on every byte up to the blank (or the cap) it stopped at.
    probe.read_end = probe.read_end.max(end);
    if end == bytes.len().min(at + MAX_CONTEXT) && end < bytes.len() {
        probe.bounded = false;
    }
    let token = &line[at..end];
    (token.len() > 3 && token.ends_with("):")).then(|| after(bytes, end).0)
}

fn commit(header: &mut Header, tentative: &mut Tentative, field: Field) {
    header
        .fields
        .extend_from_slice(&tentative.fields[..tentative.len]);
    tentative.len = 0;
    header.fields.push(field);
}

fn skip_blanks(bytes: &[u8], mut position: usize) -> usize {
    while position < bytes.len() && (bytes[position] == b' ' || bytes[position] == b'\t') {
        position += 1;
    }
    position
}

fn read_token(
    line: &str,
    start: usize,
    previous: Option<FieldKind>,
    probe: &mut Probe,
) -> Option<Token> {
    let bytes = line.as_bytes();
    let first = bytes[start];
    let close = if first == b'[' {
        let close = matching_bracket(bytes, start);
        // Unclosed: the search read up to 512 bytes on.
        probe.bounded &= close.is_some();
        close
    } else {
        None
    };
    if let Some(close) = close {
        let inner = &line[start + 1..close];
        let mut end = close + 1;
        // `[pid]:` style: a colon glued to the bracket ends the header.
        let logger = bytes.get(end) == Some(&b':');
        if logger {
            end += 1;
        }
        let (next, padded) = after(bytes, end);
        let trimmed = inner.trim();
        let (kind, level) = if logger {
            (FieldKind::Logger, None)
        } else if let Some(level) = parse_level(trimmed, false) {
            (FieldKind::Level, Some(level))
        } else if time_text(trimmed, inner, start + 1, probe) {
            (FieldKind::Time, None)
        } else if let Some(level) = module_level(trimmed) {
            (FieldKind::Level, Some(level))
        } else if let Some((time, level)) = trimmed.rsplit_once(' ')
            && let Some(level) = parse_level(level, false)
            && time_text(time.trim_end(), inner, start + 1, probe)
        {
            // `[20:25:01 WRN]`: a time and a level in one bracket.
            (FieldKind::Time, Some(level))
        } else {
            (FieldKind::Bracket, None)
        };
        return Some(Token {
            kind,
            start: start + 1,
            end: close,
            next,
            padded,
            level,
        });
    }
    if first == b'<'
        && let Some(token) = angle_level(line, start)
    {
        return Some(token);
    }
    if start == 0 && first == b'<' {
        let digits = bytes[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if (1..=3).contains(&digits) && bytes.get(1 + digits) == Some(&b'>') {
            let end = 2 + digits;
            let (next, padded) = if bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
                (end, false)
            } else {
                after(bytes, end)
            };
            return Some(Token {
                kind: FieldKind::Priority,
                start: 1,
                end: 1 + digits,
                next,
                padded,
                level: None,
            });
        }
    }
    if first == b'|' {
        let (next, padded) = after(bytes, start + 1);
        return Some(Token {
            kind: FieldKind::Pipe,
            start,
            end: start + 1,
            next,
            padded,
            level: None,
        });
    }
    let mut end = start;
    while end < bytes.len() && !ENDS_TOKEN[usize::from(bytes[end])] {
        end += 1;
    }
    let text = &line[start..end];
    let (next, padded) = after(bytes, end);
    let followed_by_more = next < bytes.len();
    let token = |kind, level| {
        Some(Token {
            kind,
            start,
            end,
            next,
            padded,
            level,
        })
    };
    if text == "-" || text == "--" {
        return token(FieldKind::Dash, None);
    }
    if previous == Some(FieldKind::Time) {
        if followed_by_more && let Some(level) = level_mark(text) {
            return token(FieldKind::Level, Some(level));
        }
        if is_zone(text) {
            return token(FieldKind::Time, None);
        }
    }
    if text == ":" {
        return token(FieldKind::Logger, None);
    }
    let bare = text.trim_end_matches(',');
    let time = timestamp::is_time_token(bare);
    if value_sensitive(bare) {
        probe.checks.push(Check {
            start,
            end: start + bare.len(),
            text: false,
            result: time,
        });
    }
    if time {
        return token(FieldKind::Time, None);
    }
    let letter_allowed =
        followed_by_more && matches!(previous, Some(FieldKind::Number | FieldKind::Time));
    let without_colon = text.strip_suffix(':').unwrap_or(text);
    if let Some(level) = parse_level(without_colon, letter_allowed) {
        return token(FieldKind::Level, Some(level));
    }
    // `=WARNING REPORT==== 1-Dec-2026::20:38:07 ===`: a report header opens with its level.
    if start == 0
        && let Some(level) = text.strip_prefix('=').and_then(|w| parse_level(w, false))
    {
        return token(FieldKind::Level, Some(level));
    }
    if let Some(level) = glued_level(text, previous.is_none()) {
        return token(level.0, Some(level.1));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return token(FieldKind::Number, None);
    }
    if text.len() > 1
        && (text.ends_with(':') || (text.ends_with(']') && !text.starts_with('[')))
        && is_logger_name(text)
    {
        return token(FieldKind::Logger, None);
    }
    token(FieldKind::Word, None)
}

/// `<Information>`, `<Error>`: a level in angle brackets.
fn angle_level(line: &str, start: usize) -> Option<Token> {
    let bytes = line.as_bytes();
    let close = start
        + 1
        + bytes[start + 1..]
            .iter()
            .take(14)
            .position(|&b| b == b'>')?;
    let level = parse_level(&line[start + 1..close], false)?;
    let (next, padded) = after(bytes, close + 1);
    Some(Token {
        kind: FieldKind::Level,
        start: start + 1,
        end: close,
        next,
        padded,
        level: Some(level),
    })
}

/// A one-character level mark between the time and the message (`*` notice, `#` warning,
/// `.` debug), as key-value stores and similar servers write them.
fn level_mark(text: &str) -> Option<Severity> {
    match text {
        "*" => Some(Severity::Info),
        "#" => Some(Severity::Warn),
        "." => Some(Severity::Debug),
        _ => None,
    }
}

/// A time zone after a time: `UTC`, `GMT`, `Z`, `+0000`, `-05:00`.
fn is_zone(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'+' | b'-') => {
            let digits = &bytes[1..];
            (digits.len() == 4 && digits.iter().all(u8::is_ascii_digit))
                || (digits.len() == 5
                    && digits[2] == b':'
                    && digits[..2]
                        .iter()
                        .chain(&digits[3..])
                        .all(u8::is_ascii_digit))
        }
        _ => matches!(text, "UTC" | "GMT" | "Z"),
    }
}

/// `[core:error]`, `[mpm_event:notice]`: a module and its level in one bracket.
fn module_level(text: &str) -> Option<Severity> {
    let (module, level) = text.rsplit_once(':')?;
    let plain = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.';
    if module.is_empty() || !module.bytes().all(plain) {
        return None;
    }
    parse_level(level, false)
}

/// The bytes that end a plain header token (`' '`, tab, `|`): one lookup per byte.
static ENDS_TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    table[b' ' as usize] = true;
    table[b'\t' as usize] = true;
    table[b'|' as usize] = true;
    table
};

/// `I1123` (klog: level letter glued to MMdd) or `INFO[0000]` (logrus text).
fn glued_level(text: &str, first_token: bool) -> Option<(FieldKind, Severity)> {
    let bytes = text.as_bytes();
    if first_token && bytes.len() == 5 && bytes[1..].iter().all(|b| b.is_ascii_digit()) {
        let level = parse_level(&text[..1], true)?;
        return Some((FieldKind::Time, level));
    }
    if !text.ends_with(']') {
        return None;
    }
    let open = text.find('[')?;
    if open > 0 {
        let level = parse_level(&text[..open], false)?;
        return Some((FieldKind::Level, level));
    }
    None
}

/// `nova.compute.manager`, `app.db_pool`: two or more lower-case identifiers joined by dots.
fn is_module_path(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        let mut bytes = part.bytes();
        let starts = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
        if !starts || !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

fn is_logger_name(text: &str) -> bool {
    let name = &text[..text.len() - 1];
    !name.is_empty()
        && name.len() <= 120
        && name.bytes().any(|b| b.is_ascii_alphanumeric())
        && !name.contains("://")
        && !name.contains('=')
        && !name.starts_with('"')
}

/// [`is_time_text`] of `trimmed`, a part of a bracket's content `inner` (which starts at
/// `inner_start` in the line), recorded in `probe` when its digits' values count.
fn time_text(trimmed: &str, inner: &str, inner_start: usize, probe: &mut Probe) -> bool {
    let result = is_time_text(trimmed);
    if trimmed.split(' ').any(value_sensitive) {
        let start = inner_start + (trimmed.as_ptr() as usize - inner.as_ptr() as usize);
        probe.checks.push(Check {
            start,
            end: start + trimmed.len(),
            text: true,
            result,
        });
    }
    result
}

fn is_time_text(text: &str) -> bool {
    let mut any = false;
    for part in text.split(' ').filter(|p| !p.is_empty()) {
        if timestamp::is_time_token(part) {
            any = true;
        } else {
            let short_number = part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit());
            let zone = any && is_zone(part);
            if !(short_number || zone) {
                return false;
            }
        }
    }
    any
}

/// Returns where the next token starts and whether the field is padded (two or more blanks
/// or a tab after it: a column of a fixed-width or tab-separated header).
fn after(bytes: &[u8], end: usize) -> (usize, bool) {
    let next = skip_blanks(bytes, end);
    let gap = &bytes[end..next];
    let padded = gap.len() >= 2 || gap.first() == Some(&b'\t');
    (next, padded)
}

fn matching_bracket(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (index, &byte) in bytes.iter().enumerate().skip(start).take(512) {
        match byte {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// The kinds of a header, used as its learned signature.
pub fn signature(header: &Header) -> Vec<FieldKind> {
    header.fields.iter().map(|f| f.kind).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `testdata/logs` and some made to test the memo's limits, each also with
    /// its digits changed (which keeps its shape, so the memo answers it when it can), scanned
    /// through one memo: the fields must be what a direct scan finds, every time.
    #[test]
    fn memo_scans_equal_direct_scans() {
        let mut lines = crate::testdata_lines();
        lines.extend(
            [
                // Compact dates: month 13 and day 32 are no dates.
                "20171223 22:15:29 INFO a.B: started",
                "20171323 22:15:29 INFO a.B: started",
                "20171232 22:15:29 INFO a.B: started",
                // Times with letters: month and day values count.
                "2015-10-18T18:01:47Z INFO started",
                "2015-13-18T18:01:47Z INFO started",
                "[10/Oct/2000:13:55:36] INFO started",
                "[10/Oct/2000:13:55:36 12] INFO started",
                "[99/Oct/2000:13:55:36] INFO started",
                // Unclosed brackets, lines ending where the scan stopped, more blanks.
                "2026-11-23 10:00:00 [main INFO x",
                "2026-11-23 10:00:00 [main INFO a.B: x",
                "2026-11-23 10:00:00 [main INFO a.B: x]",
                // Bytes near digits where the previous line had a digit.
                "2026-11-23 10:00:00 INFO a.B: x",
                "2026-11-23 1#:00:00 INFO a.B: x",
                "2026-11-23 10:00:00 INFO a.B: x",
                "2026-11-23 1=:00:00 INFO a.B: x",
                "2026-11-23 10:00:00 INFO",
                "2026-11-23 10:00:00 INFO ",
                "2026-11-23 10:00:00 INFO  padded",
                "2026-11-23 10:00:00,123 WARN [pool-1] c.D: x 1",
                "<13>Nov 23 10:00:00 host app[12]: started",
                "I1123 10:00:00.000000    1234 main.go:42] started",
            ]
            .map(str::to_string),
        );
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut memo = HeaderMemo::default();
        let mut checked = 0;
        for round in 0..4 {
            for line in &lines {
                let mut variant = line.clone();
                if round > 0 {
                    // Every digit replaced by a pseudo-random one.
                    variant = line
                        .chars()
                        .map(|c| {
                            if c.is_ascii_digit() {
                                state ^= state << 13;
                                state ^= state >> 7;
                                state ^= state << 17;
                                char::from(b'0' + (state % 10) as u8)
                            } else {
                                c
                            }
                        })
                        .collect();
                }
                for text in [line, &variant] {
                    let mut through_memo = Header::default();
                    memo.scan_into(text, &mut through_memo);
                    assert_eq!(through_memo.fields, scan(text).fields, "{text:?}");
                    checked += 1;
                }
            }
        }
        assert!(
            memo.hits * 2 > memo.lookups,
            "the memo answered {} of {} scans",
            memo.hits,
            memo.lookups
        );
        assert_eq!(memo.lookups, checked);
    }

    fn message(line: &str) -> &str {
        let header = scan(line);
        &line[header.message_start()..]
    }

    #[test]
    fn known_shapes_split_where_people_expect() {
        let cases = [
            (
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block",
                "PacketResponder 1 for block",
            ),
            (
                "2015-10-18 18:01:47,978 INFO [main] org.apache.App: Created x",
                "Created x",
            ),
            (
                "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/x",
                "workerEnv.init() ok /etc/x",
            ),
            (
                "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezing",
                "printFreezing",
            ),
            (
                "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
                "onStandStepChanged 3579",
            ),
            (
                "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster",
                "Invalid user webmaster",
            ),
            (
                "17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi",
                "Changing view acls to: yarn,curi",
            ),
            (
                "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack",
                "Loaded Servicing Stack",
            ),
            (
                "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:2181:FastLeaderElection@774] - Notification time out: 3200",
                "Notification time out: 3200",
            ),
            (
                "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache",
                "instruction cache",
            ),
            (
                "I1123 10:00:00.000000    1234 main.go:42] starting",
                "starting",
            ),
            ("2026/11/23 10:00:00 plain go log line", "plain go log line"),
            ("just a line without header", "just a line without header"),
            (
                "2026-11-23 10:00:00,123 - myapp.db - WARNING - slow query",
                "slow query",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(message(line), expected, "{line}");
        }
    }

    #[test]
    fn levels_are_found() {
        let header = scan("03-17 16:13:38.811  1702  2395 D WindowManager: x");
        let level = header.fields.iter().find_map(|f| f.level);
        assert_eq!(level, Some(Severity::Debug));
        let header = scan("I1123 10:00:00.000000    1234 main.go:42] starting");
        assert_eq!(
            header.fields.iter().find_map(|f| f.level),
            Some(Severity::Info)
        );
    }
}
