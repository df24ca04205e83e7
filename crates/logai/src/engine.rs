//! [`LogAi`]: per-resource state and the processing of one record.

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::format::{Fit, FormatLearner, Signature};
use crate::header::{self, Field, FieldKind, Header};
use crate::mask::{MaskMemo, Masked, ValueKind, duration_unit_factor, size_unit_factor};
use crate::miner::{Cluster, Miner, MinerLimits, Tok};
use crate::severity::{self, Severity, parse_level};
use crate::structured::{self, FieldValue, Parsed};
use crate::{Config, LogInput, PatternInfo, Stream, Structured, timestamp};

/// What Log AI knows about one resource.
#[derive(Debug, Default)]
pub(crate) struct Resource {
    pub(crate) format: FormatLearner,
    pub(crate) miner: Miner,
    /// Records processed.
    pub(crate) records: u64,
    /// Engine clock at last use, for resource eviction.
    pub(crate) last_used: u64,
    /// The last header timestamp converted (not persisted).
    pub(crate) time_memo: TimeMemo,
    /// Recent header scans (not persisted).
    pub(crate) header_memo: header::HeaderMemo,
    /// Lines whose header had a one-character level mark after the time (`*`, `#`, `.`; not
    /// persisted): where a resource writes those, a `-` in that place is a mark too.
    pub(crate) level_marks: u64,
    /// Lines with a level word in each of the first header places (not persisted): where a
    /// resource writes its levels there, the level names only its logger uses (`http:`,
    /// `[SILLY]`) are levels in that place too.
    pub(crate) level_places: [u32; LEVEL_PLACES],
}

/// The last time text converted and its result: lines come in bursts that share a timestamp,
/// so the next line's is often the same text, or differs only in its seconds and fraction
/// (then the result is shifted by the difference, exactly as converting it would give).
#[derive(Debug, Default)]
pub(crate) struct TimeMemo {
    text: String,
    nanos: Option<i64>,
    linear: timestamp::Linear,
}

/// Longer time texts are converted without the memo (bounds its memory).
const TIME_MEMO_BYTES: usize = 64;

impl TimeMemo {
    fn parse_to_nanos(&mut self, text: &str) -> Option<i64> {
        if text.len() > TIME_MEMO_BYTES {
            return timestamp::parse_to_nanos(text);
        }
        if !self.text.is_empty() && self.text.len() == text.len() {
            if self.text == text {
                return self.nanos;
            }
            if let Some(shifted) = self.linear.shift(&self.text, self.nanos, text) {
                return shifted;
            }
        }
        let (nanos, linear) = timestamp::parse_to_nanos_linear(text);
        set_string(&mut self.text, text);
        self.nanos = nanos;
        self.linear = linear;
        nanos
    }
}

/// Learns formats and templates per resource and structures records. Not thread-safe by
/// design: it sits behind a mutex, and a caller with many cores shards resources over several.
#[derive(Debug)]
pub struct LogAi {
    pub(crate) config: Config,
    pub(crate) resources: FxHashMap<String, Resource>,
    clock: u64,
    masked: Masked,
    /// Strings that output records no longer hold, for the next ones (see [`Attrs`]).
    spare_strings: Vec<String>,
    /// The key of the resource used last.
    last_resource: Option<String>,
    /// Masked forms of recent messages (see [`MaskMemo`]).
    memo: MaskMemo,
    header: Header,
}

/// The record split into its parts before mining.
struct Split<'a> {
    format: &'static str,
    message: std::borrow::Cow<'a, str>,
    level: Option<Severity>,
    level_inferred: bool,
    timestamp: Option<i64>,
}

/// Attributes written into the output's vector: entries that are already there are
/// overwritten in place, so a caller passing the same [`Structured`] again (see
/// [`LogAi::process_into`]) reuses their strings instead of allocating new ones.
struct Attrs<'a> {
    list: &'a mut Vec<(String, Value)>,
    len: usize,
    /// Strings of entries dropped from earlier records, reused before allocating new ones.
    spare: &'a mut Vec<String>,
}

/// Spare strings kept at most (what the attributes and parameters of a record hold), and the
/// longest kept (a stack trace's buffer is let go): at most 128 KiB.
const SPARE_STRINGS: usize = 128;
const SPARE_BYTES: usize = 1024;

fn keep_spare(spare: &mut Vec<String>, text: String) {
    if spare.len() < SPARE_STRINGS && (1..=SPARE_BYTES).contains(&text.capacity()) {
        spare.push(text);
    }
}

fn spare_string(spare: &mut Vec<String>, text: &str) -> String {
    match spare.pop() {
        Some(mut reused) => {
            reused.clear();
            reused.push_str(text);
            reused
        }
        None => text.to_string(),
    }
}

impl<'a> Attrs<'a> {
    fn new(list: &'a mut Vec<(String, Value)>, spare: &'a mut Vec<String>) -> Attrs<'a> {
        Attrs {
            list,
            len: 0,
            spare,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The next entry to write, its key set to `key`; `None` when the vector must grow.
    fn next_slot(&mut self, key: &str) -> Option<&mut Value> {
        let (slot_key, value) = self.list.get_mut(self.len)?;
        slot_key.clear();
        slot_key.push_str(key);
        self.len += 1;
        Some(value)
    }

    fn push(&mut self, key: &str, value: Value) {
        if let Some((slot_key, slot)) = self.list.get_mut(self.len) {
            set_string(slot_key, key);
            self.len += 1;
            // The string it replaces is kept.
            if let Value::String(old) = std::mem::replace(slot, value) {
                keep_spare(self.spare, old);
            }
        } else {
            let key = spare_string(self.spare, key);
            self.list.push((key, value));
            self.len += 1;
        }
    }

    fn push_owned(&mut self, key: String, value: Value) {
        match self.list.get_mut(self.len) {
            Some(slot) => *slot = (key, value),
            None => self.list.push((key, value)),
        }
        self.len += 1;
    }

    fn push_str(&mut self, key: &str, text: &str) {
        if let Some((slot_key, slot)) = self.list.get_mut(self.len) {
            set_string(slot_key, key);
            self.len += 1;
            match slot {
                Value::String(slot) => set_string(slot, text),
                slot => *slot = Value::String(spare_string(self.spare, text)),
            }
        } else {
            let key = spare_string(self.spare, key);
            let value = Value::String(spare_string(self.spare, text));
            self.list.push((key, value));
            self.len += 1;
        }
    }

    /// An array of strings.
    fn push_strs(&mut self, key: &str, texts: &[&str]) {
        let array = || texts.iter().map(|t| Value::String(t.to_string())).collect();
        match self.next_slot(key) {
            Some(Value::Array(slot)) => {
                slot.truncate(texts.len());
                for (index, text) in texts.iter().enumerate() {
                    match slot.get_mut(index) {
                        Some(Value::String(old)) => set_string(old, text),
                        Some(old) => *old = Value::String(text.to_string()),
                        None => slot.push(Value::String(text.to_string())),
                    }
                }
            }
            Some(slot) => *slot = Value::Array(array()),
            None => {
                self.list.push((key.to_string(), Value::Array(array())));
                self.len += 1;
            }
        }
    }

    /// What [`scalar`] makes of `text`.
    fn push_scalar(&mut self, key: &str, text: &str) {
        match structured::scalar_non_string(text) {
            Some(value) => self.push(key, value),
            None => self.push_str(key, text),
        }
    }

    /// Drops what the previous record left past the attributes written now (keeping their
    /// strings for the next records).
    fn finish(self, cap: usize) {
        let keep = self.len.min(cap);
        if self.list.len() <= keep {
            return;
        }
        for (key, value) in self.list.drain(keep..) {
            keep_spare(self.spare, key);
            if let Value::String(text) = value {
                keep_spare(self.spare, text);
            }
        }
    }
}

/// Strings written into a reused vector, like [`Attrs`].
struct Strings<'a> {
    list: &'a mut Vec<String>,
    len: usize,
    spare: &'a mut Vec<String>,
}

impl<'a> Strings<'a> {
    fn new(list: &'a mut Vec<String>, spare: &'a mut Vec<String>) -> Strings<'a> {
        Strings {
            list,
            len: 0,
            spare,
        }
    }

    fn push(&mut self, text: &str) {
        match self.list.get_mut(self.len) {
            Some(slot) => {
                slot.clear();
                slot.push_str(text);
            }
            None => self.list.push(spare_string(self.spare, text)),
        }
        self.len += 1;
    }

    fn finish(self) {
        if self.list.len() <= self.len {
            return;
        }
        for text in self.list.drain(self.len..) {
            keep_spare(self.spare, text);
        }
    }
}

fn set_string(slot: &mut String, text: &str) {
    slot.clear();
    slot.push_str(text);
}

impl LogAi {
    pub fn new(config: Config) -> LogAi {
        LogAi {
            memo: MaskMemo::new(config.mask_memo_slots),
            config,
            resources: FxHashMap::default(),
            clock: 0,
            masked: Masked::default(),
            spare_strings: Vec::new(),
            last_resource: None,
            header: Header::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Structures one record, learning from it.
    pub fn process(&mut self, resource_key: &str, input: &LogInput<'_>) -> Structured {
        let mut out = Structured::default();
        self.run(resource_key, input, true, Some(&mut out));
        out
    }

    /// [`LogAi::process`] into a caller-owned record: the same result, but the strings and
    /// vectors `out` already holds are reused, so a caller that passes the same `out` for every
    /// record allocates little per record.
    pub fn process_into(&mut self, resource_key: &str, input: &LogInput<'_>, out: &mut Structured) {
        self.run(resource_key, input, true, Some(out));
    }

    /// Learns from one record without building its output (the first pass of a batch).
    pub fn learn(&mut self, resource_key: &str, input: &LogInput<'_>) {
        self.run(resource_key, input, true, None);
    }

    /// Structures one record with what was learned so far, learning only when nothing fits.
    /// After [`LogAi::learn`] on a batch, this gives every record of the batch its final
    /// template, so records of one template share one id.
    pub fn parse(&mut self, resource_key: &str, input: &LogInput<'_>) -> Structured {
        let mut out = Structured::default();
        self.run(resource_key, input, false, Some(&mut out));
        out
    }

    /// [`LogAi::parse`] into a caller-owned record, reusing its buffers like
    /// [`LogAi::process_into`].
    pub fn parse_into(&mut self, resource_key: &str, input: &LogInput<'_>, out: &mut Structured) {
        self.run(resource_key, input, false, Some(out));
    }

    /// The id a template id stands for now: ids a cluster had before it generalised (or that
    /// clusters merged into it had) map to the cluster's id; other ids are returned as they are.
    /// Looks in every resource; [`LogAi::canonical_id_in`] looks in one.
    pub fn canonical_id(&self, template_id: &str) -> String {
        self.resources
            .values()
            .find_map(|r| r.miner.by_id(template_id))
            .map_or_else(|| template_id.to_string(), |c| c.id.clone())
    }

    /// [`LogAi::canonical_id`] within one resource.
    pub fn canonical_id_in(&self, resource_key: &str, template_id: &str) -> String {
        self.resources
            .get(resource_key)
            .and_then(|r| r.miner.by_id(template_id))
            .map_or_else(|| template_id.to_string(), |c| c.id.clone())
    }

    /// Templates of a resource, most frequent first.
    pub fn patterns(&self, resource_key: &str) -> Vec<PatternInfo> {
        let Some(resource) = self.resources.get(resource_key) else {
            return Vec::new();
        };
        let mut out: Vec<PatternInfo> = resource
            .miner
            .clusters()
            .map(|c| PatternInfo {
                template_id: c.id.clone(),
                aliases: c.aliases.clone(),
                template: c.text.clone(),
                count: c.count,
                first_seen: c.first_seen,
                last_seen: c.last_seen,
                sample: c.sample.clone(),
            })
            .collect();
        out.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.template.cmp(&b.template))
        });
        out
    }

    /// Messages masked through the memo of recent messages, and how many it answered.
    pub fn mask_memo_stats(&self) -> (u64, u64) {
        (self.memo.lookups, self.memo.hits)
    }

    /// Of the memo's hits ([`LogAi::mask_memo_stats`]), those of messages that only shared
    /// their shape (digits read as `0`) with the message the memo kept.
    pub fn mask_memo_shape_hits(&self) -> u64 {
        self.memo.shape_hits
    }

    /// Header scans of a resource, and how many its memo of recent scans answered.
    pub fn header_memo_stats(&self, resource_key: &str) -> (u64, u64) {
        self.resources
            .get(resource_key)
            .map_or((0, 0), |r| (r.header_memo.lookups, r.header_memo.hits))
    }

    /// Times the learned header of a resource changed to an unrelated one, and lines that did
    /// not fit the learned header.
    pub fn drift(&self, resource_key: &str) -> (u64, u64) {
        self.resources
            .get(resource_key)
            .map_or((0, 0), |r| (r.format.drift_events, r.format.unfit_lines))
    }

    fn resource(&mut self, key: &str) -> &mut Resource {
        self.clock += 1;
        // Records come in runs per resource: the last one used is known to exist (only adding
        // another resource evicts one).
        let last = self.last_resource.as_deref() == Some(key);
        if !last && !self.resources.contains_key(key) {
            if self.resources.len() >= self.config.max_resources {
                let oldest = self
                    .resources
                    .iter()
                    .min_by_key(|(_, r)| r.last_used)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.resources.remove(&oldest);
                }
            }
            self.resources.insert(key.to_string(), Resource::default());
            self.keep_template_shares();
        }
        if !last {
            let slot = self.last_resource.get_or_insert_default();
            slot.clear();
            slot.push_str(key);
        }
        let clock = self.clock;
        let resource = self
            .resources
            .get_mut(key)
            .expect("the resource was inserted above");
        resource.last_used = clock;
        resource
    }

    /// How many templates each resource may keep: its share of `max_templates`, at most
    /// `max_templates_per_resource`.
    fn template_share(&self) -> usize {
        let resources = self.resources.len().max(1);
        (self.config.max_templates / resources)
            .min(self.config.max_templates_per_resource)
            .max(1)
    }

    /// Trims every resource to its share (after a resource was added or state restored).
    pub(crate) fn keep_template_shares(&mut self) {
        let share = self.template_share();
        for resource in self.resources.values_mut() {
            if resource.miner.len() > share {
                resource.miner.keep_newest(share);
            }
        }
    }

    /// Processes one record; with `out`, writes its structured form there.
    fn run(
        &mut self,
        key: &str,
        input: &LogInput<'_>,
        learn: bool,
        mut out: Option<&mut Structured>,
    ) {
        let limits = MinerLimits {
            max_clusters: self.template_share(),
            similarity: self.config.similarity,
            word_variants: self.config.word_variants.max(2),
            sample_cap: self.config.sample_bytes,
        };
        let max_message = self.config.max_message_bytes.max(16);
        let max_attributes = self.config.max_attributes;
        let mut spare = std::mem::take(&mut self.masked);
        let mut header = std::mem::take(&mut self.header);
        let mut memo = std::mem::take(&mut self.memo);
        let mut spare_strings = std::mem::take(&mut self.spare_strings);
        let resource = self.resource(key);
        let (line, continuation) = split_lines(input.body);
        let output = out.is_some();
        // Without output, attributes go to a vector that stays empty for text lines.
        let mut scratch = Vec::new();
        let mut attrs = Attrs::new(
            match out.as_deref_mut() {
                Some(out) => &mut out.attributes,
                None => &mut scratch,
            },
            &mut spare_strings,
        );
        let split = split_record(resource, line, learn, &mut header, &mut attrs, output);
        let mining_text = cut(&split.message, max_message);
        let found = memo.find(&mut spare, mining_text);
        let (masked, mut named) = (found.masked, found.named);
        let mut unknown = 0;
        let known = match named.as_deref_mut() {
            Some(named) => &mut named.matched,
            None => &mut unknown,
        };
        if learn {
            resource.records += 1;
        }
        let tick = resource.records;
        let slot = if learn {
            Some(
                resource
                    .miner
                    .learn_known(masked, line, tick, &limits, known),
            )
        } else {
            resource.miner.find(masked).or_else(|| {
                resource.records += 1;
                Some(
                    resource
                        .miner
                        .learn(masked, line, resource.records, &limits),
                )
            })
        };
        let explicit = explicit_level(input, &split);
        if learn && let (Some(slot), Some(level)) = (slot, explicit) {
            resource.miner.vote(slot, level);
        }
        if !output {
            self.masked = spare;
            self.spare_strings = spare_strings;
            self.memo = memo;
            self.header = header;
            return;
        }
        let cluster = slot.and_then(|s| resource.miner.cluster(s));
        match named {
            Some(named) => {
                if !named.known {
                    let mut list = Attrs::new(&mut named.list, &mut *attrs.spare);
                    named_params(masked, mining_text, &mut list, usize::MAX);
                    list.finish(usize::MAX);
                    named.known = true;
                }
                // As many as `named_params` would have added: it stops at the cap.
                for (key, value) in &named.list {
                    if attrs.len() >= max_attributes {
                        break;
                    }
                    match value {
                        Value::String(text) => attrs.push_str(key, text),
                        other => attrs.push(key, other.clone()),
                    }
                }
            }
            None => named_params(masked, mining_text, &mut attrs, max_attributes),
        }
        if let Some(rest) = continuation {
            attrs.push_str(crate::ATTR_STACKTRACE, rest);
        }
        attrs.finish(max_attributes);
        let (severity, severity_inferred) = match explicit {
            Some(level) => (Some(level), false),
            None => infer_severity(input.stream, &split, cluster, continuation),
        };
        if let Some(out) = out {
            match cluster {
                Some(cluster) => {
                    set_string(&mut out.template, &cluster.text);
                    set_string(&mut out.template_id, &cluster.id);
                }
                None => {
                    out.template.clear();
                    out.template_id = crate::miner::template_id("");
                }
            }
            let mut params = Strings::new(&mut out.params, &mut spare_strings);
            if let Some(cluster) = cluster {
                params_of(cluster, masked, mining_text, &mut params);
            }
            params.finish();
            set_string(&mut out.format, split.format);
            out.timestamp_unix_nano = split.timestamp;
            out.severity = severity;
            out.severity_inferred = severity_inferred;
            set_string(&mut out.message, &split.message);
        }
        self.masked = spare;
        self.spare_strings = spare_strings;
        self.memo = memo;
        self.header = header;
    }
}

/// The first line of a body and the rest (continuation lines of a multi-line record).
fn split_lines(body: &str) -> (&str, Option<&str>) {
    let body = body.trim_end_matches(['\n', '\r']);
    match memchr::memchr(b'\n', body.as_bytes()) {
        Some(index) if !body.trim_start().starts_with('{') => (
            body[..index].trim_end_matches('\r'),
            Some(&body[index + 1..]),
        ),
        _ => (body, None),
    }
}

/// The first bytes of a line, for cheap shape checks.
fn window(text: &str, cap: usize) -> &str {
    cut(text, cap)
}

fn cut(text: &str, cap: usize) -> &str {
    if text.len() <= cap {
        return text;
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn from_parsed<'a>(parsed: Parsed<'a>, attrs: &mut Attrs<'_>) -> Split<'a> {
    for (key, value) in parsed.attributes {
        match value {
            FieldValue::Text(text) => attrs.push_str(&key, &text),
            FieldValue::Other(value) => attrs.push(&key, value),
        }
    }
    Split {
        format: parsed.format,
        message: parsed.message,
        level: parsed.level,
        level_inferred: parsed.level_inferred,
        timestamp: parsed.timestamp,
    }
}

/// True when `text` holds the ASCII `needle`: `memchr` finds its first non-blank byte (blanks
/// are everywhere in a line), then the bytes around it are compared.
fn has_ascii(text: &str, needle: &str) -> bool {
    debug_assert!(needle.is_ascii());
    let needle = needle.as_bytes();
    let anchor = needle.iter().position(|&b| b != b' ').unwrap_or(0);
    let Some(&anchor_byte) = needle.get(anchor) else {
        return true;
    };
    let bytes = text.as_bytes();
    memchr::memchr_iter(anchor_byte, bytes)
        .any(|position| position >= anchor && bytes[position - anchor..].starts_with(needle))
}

/// Recognises the record's format and splits header fields from the message. Without
/// `output`, only what learning needs (format, level, message) is worked out.
fn split_record<'a>(
    resource: &mut Resource,
    line: &'a str,
    learn: bool,
    header: &mut Header,
    attrs: &mut Attrs<'_>,
    output: bool,
) -> Split<'a> {
    let trimmed = line.trim_start();
    let first = trimmed.as_bytes().first().copied().unwrap_or(b' ');
    if first == b'{'
        && let Some(parsed) = structured::parse_json(line)
    {
        return from_parsed(parsed, attrs);
    }
    if first == b'<'
        && let Some(parsed) = structured::parse_syslog5424(trimmed)
    {
        return from_parsed(parsed, attrs);
    }
    if (first.is_ascii_alphanumeric() || first == b':')
        && has_ascii(window(trimmed, 160), " [")
        && has_ascii(window(trimmed, 256), "] \"")
        && let Some(parsed) = structured::parse_access_log(trimmed)
    {
        return from_parsed(parsed, attrs);
    }
    if first.is_ascii_alphabetic()
        && trimmed
            .as_bytes()
            .iter()
            .take_while(|b| **b != b' ')
            .any(|b| *b == b'=')
        && let Some(parsed) = structured::parse_logfmt(trimmed)
    {
        return from_parsed(parsed, attrs);
    }
    resource.header_memo.scan_into(line, header);
    learn_level_marks(resource, line, header);
    learn_level_places(resource, line, header);
    let signature = Signature::of(header);
    let fit = if learn {
        let fit = resource.format.observe(header);
        resource.format.boundary.observe(line, header);
        fit
    } else {
        resource.format.apply(header, signature)
    };
    resource.format.boundary.apply(line, header);
    text_split(line, header, fit, attrs, &mut resource.time_memo, output)
}

/// A resource that writes one-character level marks after the time (`* ready`, `# warning`)
/// writes `-` there for its verbose level: the mark is learned from the resource's own lines,
/// never assumed, since elsewhere `time - message` is a plain separator.
fn learn_level_marks(resource: &mut Resource, line: &str, header: &mut Header) {
    let fields = &mut header.fields;
    let Some(index) = fields.iter().position(|f| {
        f.kind != FieldKind::Time && f.kind != FieldKind::Number && f.kind != FieldKind::Word
    }) else {
        return;
    };
    if index == 0 || fields[index - 1].kind != FieldKind::Time {
        return;
    }
    let field = &mut fields[index];
    let text = &line[field.start..field.end];
    if field.kind == FieldKind::Level && text.len() == 1 {
        resource.level_marks += 1;
    } else if field.kind == FieldKind::Dash && resource.level_marks >= LEVEL_MARKS_NEEDED {
        field.kind = FieldKind::Level;
        field.level = Some(Severity::Debug);
        // The message starts after the mark, as it does after the other marks.
        fields.truncate(index + 1);
    }
}

/// Lines with level marks a resource must have shown before its `-` counts as one.
const LEVEL_MARKS_NEEDED: u64 = 3;

/// Header places (field indexes from the start) whose level words are counted.
pub(crate) const LEVEL_PLACES: usize = 4;

/// A resource that writes its level in one header place (`info: ...` at the line start,
/// `[INFO]` after the time) writes its logger's other level names there too: npm's `http` and
/// `silly` (`http: GET /`, `[SILLY] probe`) become levels in that place once the resource has
/// shown real level words there, never by themselves, since elsewhere `http:` opens an
/// ordinary message.
fn learn_level_places(resource: &mut Resource, line: &str, header: &mut Header) {
    let start = header.message_start().min(line.len());
    let fields = &mut header.fields;
    if let Some(index) = fields.iter().position(|f| f.kind == FieldKind::Level) {
        if index < LEVEL_PLACES && fields[index].level.is_some() {
            let count = &mut resource.level_places[index];
            *count = count.saturating_add(1);
        }
        return;
    }
    let place = fields.len();
    if place >= LEVEL_PLACES || resource.level_places[place] < LEVEL_MARKS_NEEDED as u32 {
        return;
    }
    if let Some(field) = level_name_at(line, start) {
        fields.push(field);
    }
}

/// A `name:` or `[name]` token at `start` whose name only a level field makes a level.
fn level_name_at(line: &str, start: usize) -> Option<Field> {
    let rest = &line[start..];
    let token_end = rest.find(' ').unwrap_or(rest.len());
    let token = &rest[..token_end];
    let name = match token.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']')?,
        None => token.strip_suffix(':')?,
    };
    let level = severity::level_field(name)?;
    let next = start + token_end + rest[token_end..].len() - rest[token_end..].trim_start().len();
    Some(Field {
        kind: FieldKind::Level,
        start,
        end: start + token_end,
        next,
        level: Some(level),
    })
}

fn text_split<'a>(
    line: &'a str,
    header: &Header,
    fit: Fit,
    attrs: &mut Attrs<'_>,
    time_memo: &mut TimeMemo,
    output: bool,
) -> Split<'a> {
    let start = header.message_start().min(line.len());
    let mut message = line[start..].trim_end();
    if message.is_empty()
        && let Some(last) = header.fields.last().filter(|f| f.kind == FieldKind::Level)
    {
        // A level word that is all the line says after its header is its message too (a
        // status line `... warning`): a record never has an empty message when it said
        // something.
        message = line[last.start..last.end.min(line.len())].trim_end();
    }
    let mut split = Split {
        format: if header.fields.is_empty() {
            "plain"
        } else {
            "learned-header"
        },
        message: std::borrow::Cow::Borrowed(message),
        level: None,
        level_inferred: false,
        timestamp: None,
    };
    if header.fields.is_empty() {
        return split;
    }
    if output && attrs.list.is_empty() {
        // Header fields, named parameters and a few more: one allocation, no regrowth.
        attrs.list.reserve(header.fields.len() + 4);
    }
    let fields = &header.fields;
    let syslog_time = fields.first().is_some_and(|f| {
        f.kind == FieldKind::Priority
            || (f.kind == FieldKind::Time
                && timestamp::month_number(&line[f.start..f.end]).is_some())
    });
    if syslog_time && fields.iter().any(|f| f.kind == FieldKind::Logger) {
        split.format = "syslog-rfc3164";
    }
    if output {
        if fit == Fit::Differs {
            attrs.push("log.header_mismatch", Value::Bool(true));
        }
        header_attributes(line, header, &mut split, attrs, time_memo);
    } else {
        split.level = header_level(line, header);
    }
    // Zap's console encoder and others append the fields as a JSON object.
    if message.ends_with('}')
        && let Some(open) = message.find(" {\"").or_else(|| message.find("\t{\""))
        && let Ok(serde_json::Value::Object(map)) =
            serde_json::from_str::<Value>(&message[open + 1..])
    {
        for (key, value) in map {
            attrs.push_owned(key, value);
        }
        message = message[..open].trim_end();
        split.message = std::borrow::Cow::Borrowed(message);
    }
    split
}

/// The level of a header, as [`header_attributes`] finds it, without building attributes.
fn header_level(line: &str, header: &Header) -> Option<Severity> {
    let mut level = None;
    for field in &header.fields {
        match field.kind {
            FieldKind::Priority => {
                if let Ok(priority) = line[field.start..field.end].parse::<u32>()
                    && level.is_none()
                {
                    level = Some(Severity::from_syslog_priority(priority));
                }
            }
            FieldKind::Level if level.is_none() => level = field.level,
            FieldKind::Time if level.is_none() && field.level.is_some() => level = field.level,
            _ => {}
        }
    }
    level
}

fn header_attributes(
    line: &str,
    header: &Header,
    split: &mut Split<'_>,
    attrs: &mut Attrs<'_>,
    time_memo: &mut TimeMemo,
) {
    let fields = &header.fields;
    let mut numbers = 0;
    let mut brackets = 0;
    // A header has at most `MAX_FIELDS` fields, so its words fit on the stack.
    let mut words = [""; header::MAX_FIELDS];
    let mut word_count = 0;
    let mut time_run: Option<(usize, usize)> = None;
    // The runs of time fields are converted in order until one converts (the memo keeps the
    // last conversion, so the order matters).
    let mut timestamp = None;
    let mut convert = |(start, end): (usize, usize)| {
        if timestamp.is_none() {
            timestamp = time_memo.parse_to_nanos(&line[start..end]);
        }
    };
    for (index, field) in fields.iter().enumerate() {
        let text = &line[field.start..field.end];
        if field.kind == FieldKind::Time
            && !(text.len() >= 10 && text.bytes().all(|b| b.is_ascii_digit()))
        {
            time_run = Some(match time_run {
                Some((start, _)) => (start, field.end),
                None => (field.start, field.end),
            });
            if field.level.is_some() {
                // klog: the level letter is glued to the date.
                time_run = Some((field.start + 1, field.end));
            }
        } else {
            if let Some(run) = time_run.take() {
                convert(run);
            }
            if field.kind == FieldKind::Time {
                convert((field.start, field.end));
            }
        }
        match field.kind {
            FieldKind::Priority => {
                if let Ok(priority) = text.parse::<u32>() {
                    attrs.push(crate::ATTR_SYSLOG_PRIORITY, Value::from(priority));
                    if split.level.is_none() {
                        split.level = Some(Severity::from_syslog_priority(priority));
                    }
                }
            }
            FieldKind::Level => {
                if split.level.is_none() {
                    split.level = field.level;
                }
            }
            FieldKind::Time => {
                if split.level.is_none() && field.level.is_some() {
                    split.level = field.level;
                }
            }
            FieldKind::Number => {
                let name = if numbers == 0 {
                    crate::ATTR_PID
                } else {
                    crate::ATTR_TID
                };
                numbers += 1;
                attrs.push_scalar(name, text);
            }
            FieldKind::Bracket => {
                let name = if brackets == 0 {
                    crate::ATTR_THREAD
                } else {
                    "log.context"
                };
                brackets += 1;
                attrs.push_str(name, text);
            }
            FieldKind::Logger => logger_attributes(text, attrs),
            FieldKind::Word => {
                let next_is_logger = fields
                    .get(index + 1)
                    .is_some_and(|f| f.kind == FieldKind::Logger);
                let after_time = index > 0 && fields[index - 1].kind == FieldKind::Time;
                if next_is_logger && after_time && split.format == "syslog-rfc3164" {
                    attrs.push_str(crate::ATTR_HOST, text);
                } else {
                    debug_assert!(word_count < words.len());
                    if let Some(slot) = words.get_mut(word_count) {
                        *slot = text;
                        word_count += 1;
                    }
                }
            }
            FieldKind::Dash | FieldKind::Pipe => {}
        }
    }
    if let Some(run) = time_run {
        convert(run);
    }
    if let Some((component, words)) = words[..word_count].split_last() {
        attrs.push_str(crate::ATTR_COMPONENT, component);
        if !words.is_empty() {
            attrs.push_strs(crate::ATTR_HEADER_WORDS, words);
        }
    }
    split.timestamp = timestamp.or_else(|| compact_timestamp(line, fields));
}

/// The time of a header without time fields, from two compact numbers.
fn compact_timestamp(line: &str, fields: &[header::Field]) -> Option<i64> {
    // Two compact numbers (`081109 203615`): yyMMdd HHmmss.
    let mut numbers = fields
        .iter()
        .filter(|f| f.kind == FieldKind::Number)
        .map(|f| &line[f.start..f.end]);
    if let (Some(date), Some(time)) = (numbers.next(), numbers.next())
        && date.len() == 6
        && time.len() == 6
    {
        // `date time` on the stack: both are 6 bytes.
        let mut text = [b' '; 13];
        text[..6].copy_from_slice(date.as_bytes());
        text[7..].copy_from_slice(time.as_bytes());
        let text = std::str::from_utf8(&text).ok()?;
        return timestamp::parse_parts(text).and_then(|p| p.unix_nanos());
    }
    None
}

fn logger_attributes(text: &str, attrs: &mut Attrs<'_>) {
    let name = text.trim_end_matches(':');
    if name.is_empty() {
        return;
    }
    // `sshd[24200]` / `su(pam)[12]`: the tag and its pid.
    if name.ends_with(']')
        && let Some(open) = name.bytes().position(|b| b == b'[')
        && let Ok(pid) = name[open + 1..name.len() - 1].parse::<u64>()
    {
        attrs.push_str(crate::ATTR_LOGGER, &name[..open]);
        attrs.push(crate::ATTR_PID, Value::from(pid));
        return;
    }
    // nginx `1234#5678`: pid and thread id.
    if let Some(hash) = name.bytes().position(|b| b == b'#')
        && let (Ok(pid), Ok(tid)) = (name[..hash].parse::<u64>(), name[hash + 1..].parse::<u64>())
    {
        attrs.push(crate::ATTR_PID, Value::from(pid));
        attrs.push(crate::ATTR_TID, Value::from(tid));
        return;
    }
    // klog's caller `file.go:42]`.
    let name = name.trim_end_matches(']');
    attrs.push_str(crate::ATTR_LOGGER, name);
}

fn explicit_level(input: &LogInput<'_>, split: &Split<'_>) -> Option<Severity> {
    if let Some(level) = input.severity_number.and_then(Severity::from_otel_number) {
        return Some(level);
    }
    if let Some(level) = input
        .severity_text
        .and_then(|t| parse_level(t.trim(), true))
    {
        return Some(level);
    }
    if split.level_inferred {
        return None;
    }
    split.level.or_else(|| leading_level(&split.message))
}

/// A level word that opens the message with a colon (`WARNING:root:x`, `Error: x`): the
/// program wrote its level there, behind whatever header it has.
fn leading_level(message: &str) -> Option<Severity> {
    let message = message.trim_start();
    // The first `:` within the first twelve bytes (a level word is at most eleven long).
    let colon = message.bytes().take(12).position(|b| b == b':')?;
    parse_level(&message[..colon], false)
}

fn infer_severity(
    stream: Option<Stream>,
    split: &Split<'_>,
    cluster: Option<&crate::miner::Cluster>,
    continuation: Option<&str>,
) -> (Option<Severity>, bool) {
    if split.level_inferred && split.level.is_some() {
        return (split.level, true);
    }
    if let Some(level) = cluster.and_then(|c| c.explicit_majority()) {
        return (Some(level), true);
    }
    let traced = continuation.is_some_and(crate::multiline::has_stack_frames);
    let signal = cluster.and_then(|c| c.content);
    match (signal, traced, stream) {
        (_, true, _) => (Some(Severity::Error), true),
        (Some(Severity::Error), _, Some(Stream::Stdout)) => (Some(Severity::Warn), true),
        (Some(level), _, _) => (Some(level), true),
        (None, _, _) => (None, false),
    }
}

/// The template's parameters: whole tokens at variable positions, masked pieces elsewhere.
fn params_of(cluster: &Cluster, masked: &Masked, message: &str, params: &mut Strings<'_>) {
    let mut next_param = 0;
    // Only the positions that can hold parameters are visited.
    for &position in &cluster.param_positions {
        let index = position as usize;
        let (Some(template), Some(token)) = (cluster.tokens.get(index), masked.tokens.get(index))
        else {
            break;
        };
        let (start, end) = token.original;
        while next_param < masked.params.len() && masked.params[next_param].start < start {
            next_param += 1;
        }
        match template {
            Tok::Var => params.push(&message[start..end]),
            Tok::Lit(_) => {
                while next_param < masked.params.len() && masked.params[next_param].end <= end {
                    let param = masked.params[next_param];
                    params.push(&message[param.start..param.end]);
                    next_param += 1;
                }
            }
            Tok::Pat(prefix, suffix) => {
                let original = &message[start..end];
                let inner_end = original.len().saturating_sub(suffix.len());
                let inner = original.get(prefix.len()..inner_end).unwrap_or(original);
                params.push(inner);
            }
        }
    }
}

/// Attributes named by the line itself: `key=value`, `key: value`, `took 35ms`, `64 MB`.
fn named_params(masked: &Masked, message: &str, attributes: &mut Attrs<'_>, cap: usize) {
    let tokens = &masked.tokens;
    for (index, token) in tokens.iter().enumerate() {
        if attributes.len() >= cap {
            return;
        }
        // A token that is not soft added no masked value, so it is no measured number; it can
        // only matter as `key=` or `key:` (most such tokens are plain words: skip them cheaply).
        if !token.soft && !token.keyish {
            continue;
        }
        let text = &message[token.original.0..token.original.1];
        let core = trim_brackets(text);
        // Without `=` or `:` (not keyish), it names nothing.
        if token.keyish
            && let Some(equals) = core.bytes().position(|b| b == b'=')
        {
            let (key, value) = (&core[..equals], &core[equals + 1..]);
            if is_key(key) && !value.is_empty() {
                let lead = text.len() - text.trim_start_matches(['(', '[', '{']).len();
                let quoted = value.starts_with(['"', '\'']);
                let value = quoted_value(message, token.original.0 + lead + key.len() + 1, value);
                // `zone=APAC:`, `user=alice.`: the punctuation of the sentence, not the value.
                let bare = value.trim_end_matches([':', '.']);
                let value = if bare.is_empty() || quoted {
                    value
                } else {
                    bare
                };
                attributes.push_scalar(key, value);
            }
            continue;
        }
        if token.keyish
            && let Some(key) = core.strip_suffix(':')
            && is_key(key)
            && let Some(next) = tokens.get(index + 1)
            && next.soft
        {
            let value = message[next.original.0..next.original.1].trim_end_matches([',', ';']);
            // A quoted value (`reason: "disk full"`) is the text between its quotes.
            let value = match value.as_bytes().first() {
                Some(&quote @ (b'"' | b'\''))
                    if value.len() >= 2 && value.ends_with(char::from(quote)) =>
                {
                    &value[1..value.len() - 1]
                }
                _ => value,
            };
            if key.bytes().any(|b| b.is_ascii_uppercase()) {
                attributes.push_scalar(&key.to_ascii_lowercase(), value);
            } else {
                attributes.push_scalar(key, value);
            }
            continue;
        }
        let unit_next = tokens
            .get(index + 1)
            .map(|t| &message[t.original.0..t.original.1]);
        if let Some((key, value)) = measured(core, unit_next, masked, token.original.0) {
            attributes.push(key, value);
        }
    }
}

/// `text` without the `,;()[]{}` around it (ASCII, so trimming bytes keeps char boundaries).
fn trim_brackets(text: &str) -> &str {
    let bytes = text.as_bytes();
    let edge = |b: &u8| matches!(b, b',' | b';' | b'(' | b')' | b'[' | b']' | b'{' | b'}');
    let start = bytes.iter().position(|b| !edge(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !edge(b))
        .map_or(start, |p| p + 1);
    &text[start..end.max(start)]
}

/// The value of `key="two words"` runs to its closing quote, across blanks.
fn quoted_value<'a>(message: &'a str, value_start: usize, value: &'a str) -> &'a str {
    if !value.starts_with('"') || (value.len() > 1 && value.ends_with('"')) {
        return value.trim_matches('"');
    }
    let rest = message.get(value_start + 1..).unwrap_or("");
    match rest.find('"') {
        Some(end) => &rest[..end],
        None => value.trim_matches('"'),
    }
}

fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 40
        && key.as_bytes()[0].is_ascii_alphabetic()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A duration or size: `35ms`, `1.5s`, `64MB`, or a number followed by a unit word (`14 ms`).
fn measured(
    core: &str,
    next: Option<&str>,
    masked: &Masked,
    offset: usize,
) -> Option<(&'static str, Value)> {
    let number_end = core
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(core.len());
    if number_end == 0 {
        return None;
    }
    let kind = masked
        .params
        .iter()
        .find(|p| p.start == offset)
        .map(|p| p.kind);
    let unit = match kind {
        Some(ValueKind::Duration | ValueKind::Size) => &core[number_end..],
        Some(ValueKind::Number) if number_end == core.len() => {
            next?.trim_end_matches(['.', ',', ')', ';'])
        }
        _ => return None,
    };
    // The number is parsed only when a unit names what it measures (most numbers are not).
    let (key, factor) = match duration_unit_factor(unit) {
        Some(factor) => (crate::ATTR_DURATION_MS, factor),
        None => match size_unit_factor(unit).filter(|_| unit.len() > 1) {
            Some(factor) => (crate::ATTR_SIZE_BYTES, factor),
            None => return None,
        },
    };
    let number: f64 = core[..number_end].parse().ok()?;
    Some((key, Value::from(number * factor)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_level_wins_and_fields_are_extracted() {
        let mut logai = LogAi::new(Config::default());
        let input = LogInput {
            body: "2026-11-23 10:00:00,000 INFO [main] a.B: request failed status: 503",
            severity_number: Some(13),
            ..LogInput::default()
        };
        let record = logai.process("r", &input);
        assert_eq!(record.severity, Some(Severity::Warn));
        assert!(!record.severity_inferred);
        assert!(
            record
                .attributes
                .contains(&("status".to_string(), Value::from(503)))
        );
        assert!(
            record
                .attributes
                .contains(&(crate::ATTR_THREAD.to_string(), Value::from("main")))
        );
    }

    /// Resources share `max_templates`: a new resource trims the others to the new share, and
    /// each learns within its share.
    #[test]
    fn resources_share_the_template_cap() {
        let mut logai = LogAi::new(Config {
            max_templates: 60,
            max_templates_per_resource: 40,
            ..Config::default()
        });
        let words = [
            "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
        ];
        let line = |index: usize| {
            format!(
                "2026-11-23 10:00:00 INFO a.B: {} {} {} done",
                words[index % 8],
                words[index / 8 % 8],
                words[index / 64 % 8].repeat(1 + index / 512)
            )
        };
        let total = |logai: &LogAi| {
            ["a", "b", "c", "d"]
                .iter()
                .map(|r| logai.patterns(r).len())
                .sum::<usize>()
        };
        // One resource: its own cap (40) is the smaller.
        for index in 0..300 {
            logai.process("a", &LogInput::text(&line(index)));
            assert!(logai.patterns("a").len() <= 40);
        }
        assert!(
            logai.patterns("a").len() > 30,
            "{}",
            logai.patterns("a").len()
        );
        // Two: 30 each; the first gives up its oldest templates when the second arrives.
        logai.process("b", &LogInput::text(&line(0)));
        assert!(logai.patterns("a").len() <= 30);
        let kept_a = logai.patterns("a");
        assert!(
            kept_a
                .iter()
                .all(|p| !p.template.contains(" alpha alpha alpha ")),
            "the oldest templates go first"
        );
        for index in 0..300 {
            logai.process("b", &LogInput::text(&line(index)));
            assert!(logai.patterns("b").len() <= 30);
            assert!(total(&logai) <= 60);
        }
        // Four: 15 each, for all of them, at once.
        logai.process("c", &LogInput::text(&line(1)));
        logai.process("d", &LogInput::text(&line(2)));
        for resource in ["a", "b", "c", "d"] {
            assert!(logai.patterns(resource).len() <= 15, "{resource}");
        }
        for index in 0..300 {
            for resource in ["a", "b", "c", "d"] {
                logai.process(resource, &LogInput::text(&line(index)));
            }
            assert!(total(&logai) <= 60);
        }
        assert!(total(&logai) > 40, "{}", total(&logai));
    }

    /// The memo of masked messages keeps their named attributes: repeats must come out as
    /// without it, also when the cap on attributes cuts them.
    #[test]
    fn memoised_messages_give_what_masking_gives() {
        let lines = [
            "2026-11-23 10:00:00,000 INFO [main] a.B: user=alice took 35ms size=10 status: 503",
            "2026-11-23 10:00:01,000 INFO [main] a.B: user=alice took 35ms size=10 status: 503",
            "2026-11-23 10:00:02,000 WARN [main] a.B: user=bob took 36ms size=11 status: 500",
            "2026-11-23 10:00:03,000 INFO [pool-2] c.D: user=alice took 35ms size=10 status: 503",
            "2026-11-23 10:00:04,000 INFO [main] a.B: retry=true reason: \"disk full\" took 2 s",
            "2026-11-23 10:00:05,000 INFO [main] a.B: retry=true reason: \"disk full\" took 2 s",
            // A template that generalises between repeats of one message.
            "2026-11-23 10:00:06,000 INFO [main] a.B: connected to host alpha as admin",
            "2026-11-23 10:00:07,000 INFO [main] a.B: connected to host beta as admin",
            "2026-11-23 10:00:08,000 INFO [main] a.B: connected to host alpha as admin",
            "2026-11-23 10:00:09,000 INFO [main] a.B: connected to host gamma as guest",
            "2026-11-23 10:00:10,000 INFO [main] a.B: connected to host delta as other",
            "2026-11-23 10:00:11,000 INFO [main] a.B: connected to host alpha as admin",
            // The first message's shape with other digits: its masked form, its own values.
            "2026-11-23 10:00:12,000 INFO [main] a.B: user=alice took 97ms size=42 status: 404",
            "2026-11-23 10:00:13,000 INFO [main] a.B: user=alice took 35ms size=10 status: 503",
        ];
        // One slot: every new message replaces the previous one's entry.
        // Two templates at most: evicted templates' slots are reused by others.
        for (max_attributes, slots, templates) in [
            (3, 1024, 100),
            (5, 1024, 100),
            (32, 1024, 100),
            (32, 1, 100),
            (32, 1024, 2),
        ] {
            let config = Config {
                max_attributes,
                max_templates_per_resource: templates,
                ..Config::default()
            };
            let mut with = LogAi::new(Config {
                mask_memo_slots: slots,
                ..config.clone()
            });
            let mut without = LogAi::new(Config {
                mask_memo_slots: 0,
                ..config
            });
            let mut reused = Structured::default();
            for round in 0..3 {
                for line in lines {
                    let input = LogInput::text(line);
                    let expected = without.process("svc", &input);
                    with.process_into("svc", &input, &mut reused);
                    assert_eq!(
                        reused, expected,
                        "{line} (round {round}, cap {max_attributes}, {templates} templates)"
                    );
                }
            }
            let (lookups, hits) = with.mask_memo_stats();
            assert!(hits > 0 && hits < lookups, "{hits} of {lookups}");
        }
    }

    #[test]
    fn process_into_reuses_the_record_and_gives_what_process_gives() {
        let lines = [
            "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1",
            "{\"level\":\"warn\",\"msg\":\"disk low\",\"free\":\"3 GB\",\"n\":[1,2]}",
            "level=info msg=\"user login\" user=alice took=35ms",
            "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 1.2.3.4",
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO cache parity error",
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
            "127.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 2326",
            "Unhandled request\n\tat com.x.Y.z(Y.java:10)",
            "plain words only here",
            "2026-11-23 10:00:01,120 WARN [main] com.example.Db: query took 35ms user=alice",
        ];
        let mut fresh = LogAi::new(Config::default());
        let mut reused = LogAi::new(Config::default());
        let mut record = Structured::default();
        for round in 0..3 {
            for (index, line) in lines.iter().enumerate() {
                let key = if index % 2 == 0 { "a" } else { "b" };
                let expected = fresh.process(key, &LogInput::text(line));
                reused.process_into(key, &LogInput::text(line), &mut record);
                assert_eq!(record, expected, "round {round}: {line}");
            }
        }
    }

    #[test]
    fn has_ascii_finds_what_windows_find() {
        let haystacks: [&[u8]; 10] = [
            "é [x] \"".as_bytes(),
            "[é] \"".as_bytes(),
            b"",
            b"a",
            b" [a",
            b"[[ [",
            b"ab [x] \"",
            b"<*",
            b"x<*>",
            b"]] \"] \"",
        ];
        for haystack in haystacks {
            for needle in [&b" ["[..], b"] \"", b"<*>", b"a"] {
                let expected = haystack.windows(needle.len()).any(|w| w == needle);
                if let (Ok(text), Ok(needle)) =
                    (std::str::from_utf8(haystack), std::str::from_utf8(needle))
                {
                    assert_eq!(has_ascii(text, needle), expected, "{text:?} {needle:?}");
                }
            }
        }
    }

    #[test]
    fn negated_errors_are_not_errors() {
        let mut logai = LogAi::new(Config::default());
        let record = logai.process("r", &LogInput::text("batch done with 0 errors"));
        assert_eq!(record.severity, None);
        let record = logai.process("r", &LogInput::text("connection to db failed"));
        assert_eq!(record.severity, Some(Severity::Error));
        assert!(record.severity_inferred);
    }

    #[test]
    fn multi_line_bodies_keep_the_trace() {
        let mut logai = LogAi::new(Config::default());
        let body = "Unhandled request\n\tat com.x.Y.z(Y.java:10)\n\tat com.x.Y.main(Y.java:3)";
        let record = logai.process("r", &LogInput::text(body));
        assert_eq!(record.message, "Unhandled request");
        assert_eq!(record.severity, Some(Severity::Error));
        assert!(
            record
                .attributes
                .iter()
                .any(|(k, _)| k == crate::ATTR_STACKTRACE)
        );
    }
}
