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
}

impl Header {
    /// Byte offset where the message starts.
    pub fn message_start(&self) -> usize {
        self.fields.last().map_or(0, |f| f.next)
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
    let mut tentative = Tentative {
        fields: [NO_FIELD; MAX_TENTATIVE],
        len: 0,
    };
    let mut position = skip_blanks(bytes, 0);
    let mut seen_level = false;
    let mut seen_time = false;
    let mut previous_kind: Option<FieldKind> = None;
    while position < bytes.len() && header.fields.len() + tentative.len() < MAX_FIELDS {
        let Some(token) = read_token(line, position, previous_kind) else {
            break;
        };
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
                // `handler error: x` is a message, not a header with a level.
                if seen_level || (words > 0 && line[token.start..token.end].ends_with(':')) {
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

fn read_token(line: &str, start: usize, previous: Option<FieldKind>) -> Option<Token> {
    let bytes = line.as_bytes();
    let first = bytes[start];
    if first == b'['
        && let Some(close) = matching_bracket(bytes, start)
    {
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
        } else if is_time_text(trimmed) {
            (FieldKind::Time, None)
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
    if text == "-" {
        return token(FieldKind::Dash, None);
    }
    if text == ":" {
        return token(FieldKind::Logger, None);
    }
    let bare = text.trim_end_matches(',');
    if timestamp::is_time_token(bare) {
        return token(FieldKind::Time, None);
    }
    let letter_allowed =
        followed_by_more && matches!(previous, Some(FieldKind::Number | FieldKind::Time));
    let without_colon = text.strip_suffix(':').unwrap_or(text);
    if let Some(level) = parse_level(without_colon, letter_allowed) {
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

fn is_logger_name(text: &str) -> bool {
    let name = &text[..text.len() - 1];
    !name.is_empty()
        && name.len() <= 120
        && name.bytes().any(|b| b.is_ascii_alphanumeric())
        && !name.contains("://")
        && !name.starts_with('"')
}

fn is_time_text(text: &str) -> bool {
    let mut any = false;
    for part in text.split(' ').filter(|p| !p.is_empty()) {
        if timestamp::is_time_token(part) {
            any = true;
        } else if !(part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit())) {
            return false;
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
