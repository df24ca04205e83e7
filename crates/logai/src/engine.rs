//! [`LogAi`]: per-resource state and the processing of one record.

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::format::{Fit, FormatLearner, Signature};
use crate::header::{self, FieldKind, Header};
use crate::mask::{Masked, ValueKind, duration_unit_factor, size_unit_factor};
use crate::miner::{Miner, MinerLimits, Tok};
use crate::severity::{Severity, parse_level};
use crate::structured::{self, Parsed, scalar};
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
}

/// Learns formats and templates per resource and structures records. Not thread-safe by
/// design: it sits behind a mutex, and a caller with many cores shards resources over several.
#[derive(Debug)]
pub struct LogAi {
    pub(crate) config: Config,
    pub(crate) resources: FxHashMap<String, Resource>,
    clock: u64,
    masked: Masked,
    header: Header,
}

/// The record split into its parts before mining.
struct Split<'a> {
    format: &'static str,
    message: std::borrow::Cow<'a, str>,
    level: Option<Severity>,
    level_inferred: bool,
    timestamp: Option<i64>,
    attributes: Vec<(String, Value)>,
}

impl LogAi {
    pub fn new(config: Config) -> LogAi {
        LogAi {
            config,
            resources: FxHashMap::default(),
            clock: 0,
            masked: Masked::default(),
            header: Header::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Structures one record, learning from it.
    pub fn process(&mut self, resource_key: &str, input: &LogInput<'_>) -> Structured {
        self.run(resource_key, input, true, true)
            .unwrap_or_else(|| empty_structured(input.body))
    }

    /// Learns from one record without building its output (the first pass of a batch).
    pub fn learn(&mut self, resource_key: &str, input: &LogInput<'_>) {
        let _ = self.run(resource_key, input, true, false);
    }

    /// Structures one record with what was learned so far, learning only when nothing fits.
    /// After [`LogAi::learn`] on a batch, this gives every record of the batch its final
    /// template, so records of one template share one id.
    pub fn parse(&mut self, resource_key: &str, input: &LogInput<'_>) -> Structured {
        self.run(resource_key, input, false, true)
            .unwrap_or_else(|| empty_structured(input.body))
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

    /// Times the learned header of a resource changed to an unrelated one, and lines that did
    /// not fit the learned header.
    pub fn drift(&self, resource_key: &str) -> (u64, u64) {
        self.resources
            .get(resource_key)
            .map_or((0, 0), |r| (r.format.drift_events, r.format.unfit_lines))
    }

    fn resource(&mut self, key: &str) -> &mut Resource {
        self.clock += 1;
        if !self.resources.contains_key(key) {
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
        }
        let clock = self.clock;
        let resource = self
            .resources
            .get_mut(key)
            .expect("the resource was inserted above");
        resource.last_used = clock;
        resource
    }

    fn run(
        &mut self,
        key: &str,
        input: &LogInput<'_>,
        learn: bool,
        output: bool,
    ) -> Option<Structured> {
        let limits = MinerLimits {
            max_clusters: self.config.max_templates_per_resource.max(1),
            similarity: self.config.similarity,
            word_variants: self.config.word_variants.max(2),
            sample_cap: self.config.sample_bytes,
        };
        let max_message = self.config.max_message_bytes.max(16);
        let max_attributes = self.config.max_attributes;
        let mut masked = std::mem::take(&mut self.masked);
        let mut header = std::mem::take(&mut self.header);
        let resource = self.resource(key);
        let (line, continuation) = split_lines(input.body);
        let split = split_record(resource, line, learn, &mut header, output);
        let mining_text = cut(&split.message, max_message);
        masked.fill(mining_text);
        if learn {
            resource.records += 1;
        }
        let tick = resource.records;
        let slot = if learn {
            Some(resource.miner.learn(&masked, line, tick, &limits))
        } else {
            resource.miner.find(&masked).or_else(|| {
                resource.records += 1;
                Some(
                    resource
                        .miner
                        .learn(&masked, line, resource.records, &limits),
                )
            })
        };
        let explicit = explicit_level(input, &split);
        if learn && let (Some(slot), Some(level)) = (slot, explicit) {
            resource.miner.vote(slot, level);
        }
        if !output {
            self.masked = masked;
            self.header = header;
            return None;
        }
        let cluster = slot.and_then(|s| resource.miner.cluster(s));
        let (template, template_id) = match cluster {
            Some(cluster) => (cluster.text.clone(), cluster.id.clone()),
            None => (String::new(), crate::miner::template_id("")),
        };
        let (severity, severity_inferred) = match explicit {
            Some(level) => (Some(level), false),
            None => infer_severity(input.stream, &split, cluster, continuation),
        };
        let params = match cluster {
            Some(cluster) => params_of(&cluster.tokens, &masked, mining_text),
            None => Vec::new(),
        };
        let mut attributes = split.attributes;
        named_params(&masked, mining_text, &mut attributes, max_attributes);
        if let Some(rest) = continuation {
            attributes.push((
                crate::ATTR_STACKTRACE.to_string(),
                Value::String(rest.to_string()),
            ));
        }
        attributes.truncate(max_attributes);
        self.masked = masked;
        self.header = header;
        Some(Structured {
            format: split.format.to_string(),
            timestamp_unix_nano: split.timestamp,
            severity,
            severity_inferred,
            message: split.message.into_owned(),
            template,
            template_id,
            params,
            attributes,
        })
    }
}

fn empty_structured(body: &str) -> Structured {
    Structured {
        format: "plain".to_string(),
        timestamp_unix_nano: None,
        severity: None,
        severity_inferred: false,
        message: body.to_string(),
        template: String::new(),
        template_id: crate::miner::template_id(""),
        params: Vec::new(),
        attributes: Vec::new(),
    }
}

/// The first line of a body and the rest (continuation lines of a multi-line record).
fn split_lines(body: &str) -> (&str, Option<&str>) {
    let body = body.trim_end_matches(['\n', '\r']);
    match body.find('\n') {
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

fn from_parsed(parsed: Parsed) -> Split<'static> {
    Split {
        format: parsed.format,
        message: std::borrow::Cow::Owned(parsed.message),
        level: parsed.level,
        level_inferred: parsed.level_inferred,
        timestamp: parsed.timestamp,
        attributes: parsed.attributes,
    }
}

/// True when `bytes` holds `needle` (short needles: cheaper than a substring searcher).
fn has_bytes(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

/// Recognises the record's format and splits header fields from the message. Without
/// `output`, only what learning needs (format, level, message) is worked out.
fn split_record<'a>(
    resource: &mut Resource,
    line: &'a str,
    learn: bool,
    header: &mut Header,
    output: bool,
) -> Split<'a> {
    let trimmed = line.trim_start();
    let first = trimmed.as_bytes().first().copied().unwrap_or(b' ');
    if first == b'{'
        && let Some(parsed) = structured::parse_json(line)
    {
        return from_parsed(parsed);
    }
    if first == b'<'
        && let Some(parsed) = structured::parse_syslog5424(trimmed)
    {
        return from_parsed(parsed);
    }
    if (first.is_ascii_alphanumeric() || first == b':')
        && has_bytes(window(trimmed, 160).as_bytes(), b" [")
        && has_bytes(window(trimmed, 256).as_bytes(), b"] \"")
        && let Some(parsed) = structured::parse_access_log(trimmed)
    {
        return from_parsed(parsed);
    }
    if first.is_ascii_alphabetic()
        && trimmed
            .as_bytes()
            .iter()
            .take_while(|b| **b != b' ')
            .any(|b| *b == b'=')
        && let Some(parsed) = structured::parse_logfmt(trimmed)
    {
        return from_parsed(parsed);
    }
    header::scan_into(line, header);
    let signature = Signature::of(header);
    let fit = if learn {
        resource.format.observe(header)
    } else {
        resource.format.apply(header, signature)
    };
    text_split(line, header, fit, output)
}

fn text_split<'a>(line: &'a str, header: &Header, fit: Fit, output: bool) -> Split<'a> {
    let start = header.message_start().min(line.len());
    let mut message = line[start..].trim_end();
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
        attributes: Vec::new(),
    };
    if header.fields.is_empty() {
        return split;
    }
    if output {
        // Header fields, named parameters and a few more: one allocation, no regrowth.
        split.attributes.reserve(header.fields.len() + 4);
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
            split
                .attributes
                .push(("log.header_mismatch".to_string(), Value::Bool(true)));
        }
        header_attributes(line, header, &mut split);
    } else {
        split.level = header_level(line, header);
    }
    // Zap's console encoder and others append the fields as a JSON object.
    if message.ends_with('}')
        && let Some(open) = message.find(" {\"").or_else(|| message.find("\t{\""))
        && let Ok(serde_json::Value::Object(map)) =
            serde_json::from_str::<Value>(&message[open + 1..])
    {
        split.attributes.extend(map);
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

fn header_attributes(line: &str, header: &Header, split: &mut Split<'_>) {
    let fields = &header.fields;
    let mut numbers = 0;
    let mut brackets = 0;
    let mut words: Vec<Value> = Vec::new();
    let mut time_run: Option<(usize, usize)> = None;
    let mut time_runs = Runs::default();
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
                time_runs.push(run);
            }
            if field.kind == FieldKind::Time {
                time_runs.push((field.start, field.end));
            }
        }
        match field.kind {
            FieldKind::Priority => {
                if let Ok(priority) = text.parse::<u32>() {
                    split.attributes.push((
                        crate::ATTR_SYSLOG_PRIORITY.to_string(),
                        Value::from(priority),
                    ));
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
                split.attributes.push((name.to_string(), scalar(text)));
            }
            FieldKind::Bracket => {
                let name = if brackets == 0 {
                    crate::ATTR_THREAD
                } else {
                    "log.context"
                };
                brackets += 1;
                split
                    .attributes
                    .push((name.to_string(), Value::String(text.to_string())));
            }
            FieldKind::Logger => logger_attributes(text, split),
            FieldKind::Word => {
                let next_is_logger = fields
                    .get(index + 1)
                    .is_some_and(|f| f.kind == FieldKind::Logger);
                let after_time = index > 0 && fields[index - 1].kind == FieldKind::Time;
                if next_is_logger && after_time && split.format == "syslog-rfc3164" {
                    split.attributes.push((
                        crate::ATTR_HOST.to_string(),
                        Value::String(text.to_string()),
                    ));
                } else {
                    words.push(Value::String(text.to_string()));
                }
            }
            FieldKind::Dash | FieldKind::Pipe => {}
        }
    }
    if let Some(run) = time_run {
        time_runs.push(run);
    }
    if let Some(component) = words.pop() {
        split
            .attributes
            .push((crate::ATTR_COMPONENT.to_string(), component));
    }
    if !words.is_empty() {
        split
            .attributes
            .push((crate::ATTR_HEADER_WORDS.to_string(), Value::Array(words)));
    }
    split.timestamp = header_timestamp(line, fields, time_runs.as_slice());
}

/// The time runs of a header: at most two per field, kept on the stack.
struct Runs {
    runs: [(usize, usize); 2 * header::MAX_FIELDS + 1],
    len: usize,
}

impl Default for Runs {
    fn default() -> Runs {
        Runs {
            runs: [(0, 0); 2 * header::MAX_FIELDS + 1],
            len: 0,
        }
    }
}

impl Runs {
    fn push(&mut self, run: (usize, usize)) {
        if let Some(slot) = self.runs.get_mut(self.len) {
            *slot = run;
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[(usize, usize)] {
        &self.runs[..self.len]
    }
}

fn header_timestamp(line: &str, fields: &[header::Field], runs: &[(usize, usize)]) -> Option<i64> {
    for &(start, end) in runs {
        if let Some(nanos) = timestamp::parse_to_nanos(&line[start..end]) {
            return Some(nanos);
        }
    }
    // Two compact numbers (`081109 203615`): yyMMdd HHmmss.
    let numbers: Vec<&str> = fields
        .iter()
        .filter(|f| f.kind == FieldKind::Number)
        .take(2)
        .map(|f| &line[f.start..f.end])
        .collect();
    if let [date, time] = numbers.as_slice()
        && date.len() == 6
        && time.len() == 6
    {
        return timestamp::parse_parts(&format!("{date} {time}")).and_then(|p| p.unix_nanos());
    }
    None
}

fn logger_attributes(text: &str, split: &mut Split<'_>) {
    let name = text.trim_end_matches(':');
    if name.is_empty() {
        return;
    }
    // `sshd[24200]` / `su(pam)[12]`: the tag and its pid.
    if let Some(open) = name.find('[')
        && name.ends_with(']')
        && let Ok(pid) = name[open + 1..name.len() - 1].parse::<u64>()
    {
        split.attributes.push((
            crate::ATTR_LOGGER.to_string(),
            Value::String(name[..open].to_string()),
        ));
        split
            .attributes
            .push((crate::ATTR_PID.to_string(), Value::from(pid)));
        return;
    }
    // nginx `1234#5678`: pid and thread id.
    if let Some((pid, tid)) = name.split_once('#')
        && let (Ok(pid), Ok(tid)) = (pid.parse::<u64>(), tid.parse::<u64>())
    {
        split
            .attributes
            .push((crate::ATTR_PID.to_string(), Value::from(pid)));
        split
            .attributes
            .push((crate::ATTR_TID.to_string(), Value::from(tid)));
        return;
    }
    // klog's caller `file.go:42]`.
    let name = name.trim_end_matches(']');
    split.attributes.push((
        crate::ATTR_LOGGER.to_string(),
        Value::String(name.to_string()),
    ));
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
    split.level
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
    let message = split.message.trim_start();
    if let Some((word, _)) = message.split_once(':')
        && word.len() <= 8
        && let Some(level) = parse_level(word, false)
    {
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
fn params_of(tokens: &[Tok], masked: &Masked, message: &str) -> Vec<String> {
    let mut params = Vec::new();
    let mut next_param = 0;
    for (template, token) in tokens.iter().zip(&masked.tokens) {
        let (start, end) = token.original;
        while next_param < masked.params.len() && masked.params[next_param].start < start {
            next_param += 1;
        }
        match template {
            Tok::Var => params.push(message[start..end].to_string()),
            Tok::Lit(literal) if has_bytes(literal.as_bytes(), b"<*>") => {
                while next_param < masked.params.len() && masked.params[next_param].end <= end {
                    let param = masked.params[next_param];
                    params.push(message[param.start..param.end].to_string());
                    next_param += 1;
                }
            }
            Tok::Lit(_) => {}
            Tok::Pat(prefix, suffix) => {
                let original = &message[start..end];
                let inner_end = original.len().saturating_sub(suffix.len());
                let inner = original.get(prefix.len()..inner_end).unwrap_or(original);
                params.push(inner.to_string());
            }
        }
    }
    params
}

/// Attributes named by the line itself: `key=value`, `key: value`, `took 35ms`, `64 MB`.
fn named_params(masked: &Masked, message: &str, attributes: &mut Vec<(String, Value)>, cap: usize) {
    let tokens = &masked.tokens;
    for (index, token) in tokens.iter().enumerate() {
        if attributes.len() >= cap {
            return;
        }
        let text = &message[token.original.0..token.original.1];
        let core = trim_brackets(text);
        if let Some(equals) = core.bytes().position(|b| b == b'=') {
            let (key, value) = (&core[..equals], &core[equals + 1..]);
            if is_key(key) && !value.is_empty() {
                let lead = text.len() - text.trim_start_matches(['(', '[', '{']).len();
                let value = quoted_value(message, token.original.0 + lead + key.len() + 1, value);
                attributes.push((key.to_string(), scalar(value)));
            }
            continue;
        }
        if let Some(key) = core.strip_suffix(':')
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
            attributes.push((key.to_ascii_lowercase(), scalar(value)));
            continue;
        }
        let unit_next = tokens
            .get(index + 1)
            .map(|t| &message[t.original.0..t.original.1]);
        if let Some(value) = measured(core, unit_next, masked, token.original.0) {
            attributes.push(value);
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
) -> Option<(String, Value)> {
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
    let number: f64 = core[..number_end].parse().ok()?;
    let unit = match kind {
        Some(ValueKind::Duration | ValueKind::Size) => &core[number_end..],
        Some(ValueKind::Number) if number_end == core.len() => {
            next?.trim_end_matches(['.', ',', ')', ';'])
        }
        _ => return None,
    };
    if let Some(factor) = duration_unit_factor(unit) {
        return Some((
            crate::ATTR_DURATION_MS.to_string(),
            Value::from(number * factor),
        ));
    }
    if let Some(factor) = size_unit_factor(unit).filter(|_| unit.len() > 1) {
        return Some((
            crate::ATTR_SIZE_BYTES.to_string(),
            Value::from(number * factor),
        ));
    }
    None
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
