//! Log AI: turns unstructured log lines into structured records at ingest, with no network and
//! no model, learning per resource (service, host, container...) from the records themselves.
//!
//! For every record [`LogAi::process`] returns a [`Structured`]: the line's format, timestamp,
//! severity (explicit, or inferred with evidence), the message after the header, the message's
//! template with `<*>` for variables, a stable template id, the parameters, and extracted
//! attributes (logger, thread, pid, host, `key=value` pairs, named parameters such as
//! `user=alice`, durations from `took 35ms`, HTTP status...). [`LogAi::process_into`] gives the
//! same result into a caller-owned [`Structured`], reusing its buffers from record to record.
//!
//! How it works, per resource:
//! - **Formats.** JSON objects, logfmt, common/combined access logs and RFC 5424 syslog are
//!   recognised by shape ([`structured`]). Text lines go through one generic header scanner
//!   ([`header`]) whose field kinds (time, level, number, bracket, logger...) are learned per
//!   resource ([`format::FormatLearner`]): the learned header shape cuts lines whose scan ran
//!   long, and a change of shape is counted as drift. Lines that fit nothing pass through as
//!   `plain`; no line is ever dropped.
//! - **Templates.** The message is masked by type ([`mask`]: numbers, hex, UUIDs, IPs and ports,
//!   paths, URLs, emails, versions, durations, sizes) and mined Drain-style ([`miner`]), where
//!   plain words become variables only after enough distinct values were seen. Values the line
//!   itself names are variables from the first record on: the value of `key=value`, a quoted
//!   value after `key=` or `key:` (`reason="disk full"`, `request: "GET / HTTP/1.1"`, one token
//!   even across blanks), a list item after `key:` (`server: localhost,`), and numbers with a
//!   unit. So records processed one by one get their final template at once, as they do offline.
//! - **Severity.** An explicit level always wins (OTLP severity, level field or header token,
//!   syslog priority). Otherwise: HTTP status of access logs, the explicit levels seen before
//!   with the same template, a leading `error:`, and the template's content signal (failure
//!   words, exceptions, stack traces; negations like `0 errors` or `error=nil` cancel it),
//!   decided once per template. A false error is the worst mistake: when unsure, none is set.
//! - **State** is bounded ([`Config`] caps resources and templates per resource, with
//!   least-recently-seen eviction) and can be saved and restored ([`LogAi::save`],
//!   [`LogAi::load`]) with a format version.
//!
//! **Template ids.** A template's id is [`miner::template_id`] (FNV-1a 64) of the text the
//! template had when its first record was seen, and it never changes after that:
//! - when a template generalises (a literal position becomes `<*>`, say `host web1 is up` then
//!   `host <*> is up`), it keeps its id, so records already stored with that id stay in their
//!   group and `template_id=` filters find every record of the template;
//! - when sibling templates that differ in one plain word merge (`Invalid user alice …`,
//!   `… bob …` → `Invalid user <*> …`), the merged template takes the id of the member seen
//!   first;
//! - the ids a template gave up (the merged members' ids) and the ids of its later texts are its
//!   *aliases*: [`LogAi::canonical_id`] maps any of them to the template's id, and
//!   [`PatternInfo::aliases`] lists them. They are persisted with the state
//!   ([`LogAi::save`]/[`LogAi::load`]), so ids and aliases survive restarts.
//!
//! Ids depend only on template text, never on memory addresses, hash seeds or timing: two
//! processes given the same records give the same ids, and a template whose first record
//! already had its final text (the common case, since named values are masked at once) has the
//! id of that text everywhere. Two processes that saw *different* first records of a template
//! that later generalised can hold different ids for it (each keeps its own first one); both
//! list the id of the shared current text as an alias, so a reader joining ids across processes
//! maps `template_id(text)` through each one's [`LogAi::canonical_id`]. The offline
//! two-pass path ([`LogAi::learn`] then [`LogAi::parse`], what [`cli::parse`] runs) uses the same
//! ids.
//!
//! [`Multiline`] joins stack-trace continuation lines to their record for line-oriented sources,
//! and [`cli::parse`] is the offline `redscope logai parse` command.
//!
//! Attribute names written at ingest (all `pub const`s of this crate): [`ATTR_FORMAT`]
//! `log.format`, [`ATTR_TEMPLATE`] `log.template`, [`ATTR_TEMPLATE_ID`] `log.template_id`,
//! [`ATTR_PARAMS`] `log.params`, [`ATTR_SEVERITY_INFERRED`] `log.severity_inferred`,
//! [`ATTR_PARSED_TIME`] `log.parsed_time`, and the
//! extracted fields [`ATTR_LOGGER`] `log.logger`, [`ATTR_THREAD`] `thread.name`, [`ATTR_TID`]
//! `thread.id`, [`ATTR_PID`] `process.pid`, [`ATTR_HOST`] `host.name`, [`ATTR_COMPONENT`]
//! `log.component`, [`ATTR_HEADER_WORDS`] `log.header_words`, [`ATTR_SYSLOG_PRIORITY`]
//! `syslog.priority`, [`ATTR_SYSLOG_MSGID`] `syslog.msgid`, [`ATTR_DURATION_MS`] `duration_ms`,
//! [`ATTR_SIZE_BYTES`] `size_bytes`, [`ATTR_STACKTRACE`] `exception.stacktrace`, the access-log
//! fields [`ATTR_CLIENT_ADDRESS`] `client.address`, [`ATTR_USER`] `user.name`,
//! [`ATTR_HTTP_METHOD`] `http.request.method`, [`ATTR_URL_PATH`] `url.path`,
//! [`ATTR_HTTP_PROTOCOL`] `network.protocol.version`, [`ATTR_HTTP_STATUS`]
//! `http.response.status_code`, [`ATTR_HTTP_BODY_SIZE`] `http.response.body.size`,
//! [`ATTR_HTTP_REFERER`] `http.request.header.referer`, [`ATTR_USER_AGENT`]
//! `user_agent.original`; and named parameters under their own key (`user`, `status`, ...).
//!
//! ```
//! use logai::{Config, LogAi, LogInput, Severity};
//!
//! let mut logai = LogAi::new(Config::default());
//! let line = "2026-11-23 10:00:01,120 WARN [main] com.example.Db: query took 35ms user=alice";
//! let record = logai.process("service.name=shop", &LogInput::text(line));
//! assert_eq!(record.severity, Some(Severity::Warn));
//! assert_eq!(record.message, "query took 35ms user=alice");
//! assert_eq!(record.template, "query took <*> user=<*>");
//! assert_eq!(record.params, ["35ms", "alice"]);
//! assert!(record.attributes.iter().any(|(k, v)| k == "duration_ms" && v == 35.0));
//! ```

pub mod cli;
mod engine;
pub mod format;
pub mod header;
pub mod mask;
pub mod miner;
mod multiline;
mod persist;
pub mod severity;
pub mod structured;
pub mod timestamp;

pub use engine::LogAi;
pub use multiline::{Multiline, is_continuation};
pub use severity::Severity;

/// Attribute: the recognised format (`json`, `logfmt`, `syslog-rfc3164`, `access-log`, ...).
pub const ATTR_FORMAT: &str = "log.format";
/// Attribute: the message template with `<*>` for variables.
pub const ATTR_TEMPLATE: &str = "log.template";
/// Attribute: the stable id of the template (16 hex digits).
pub const ATTR_TEMPLATE_ID: &str = "log.template_id";
/// Attribute: the template's parameters, in order.
pub const ATTR_PARAMS: &str = "log.params";
/// Attribute: true when the severity was inferred rather than read from an explicit level.
pub const ATTR_SEVERITY_INFERRED: &str = "log.severity_inferred";
/// Attribute: the time written in the line (unix nanoseconds), when the record has a time of its
/// own that differs from it by more than a second; a record without a time takes the line's.
pub const ATTR_PARSED_TIME: &str = "log.parsed_time";
/// Attribute: logger, tag or caller from the header (`org.apache.X`, `sshd`, `main.go:42`).
pub const ATTR_LOGGER: &str = "log.logger";
/// Attribute: thread name from a bracketed header field.
pub const ATTR_THREAD: &str = "thread.name";
/// Attribute: the second number of a header (thread id in logcat).
pub const ATTR_TID: &str = "thread.id";
/// Attribute: process id from the header.
pub const ATTR_PID: &str = "process.pid";
/// Attribute: host name from a syslog header.
pub const ATTR_HOST: &str = "host.name";
/// Attribute: a component word in the header (`CBS`, `KERNEL`).
pub const ATTR_COMPONENT: &str = "log.component";
/// Attribute: further header words, in order.
pub const ATTR_HEADER_WORDS: &str = "log.header_words";
/// Attribute: syslog priority value.
pub const ATTR_SYSLOG_PRIORITY: &str = "syslog.priority";
/// Attribute: RFC 5424 MSGID.
pub const ATTR_SYSLOG_MSGID: &str = "syslog.msgid";
/// Attribute: a duration found in the message, in milliseconds.
pub const ATTR_DURATION_MS: &str = "duration_ms";
/// Attribute: a size found in the message, in bytes.
pub const ATTR_SIZE_BYTES: &str = "size_bytes";
/// Attribute: continuation lines (stack trace) of a multi-line record.
pub const ATTR_STACKTRACE: &str = "exception.stacktrace";
/// Attribute: access-log client address.
pub const ATTR_CLIENT_ADDRESS: &str = "client.address";
/// Attribute: access-log authenticated user.
pub const ATTR_USER: &str = "user.name";
/// Attribute: HTTP method.
pub const ATTR_HTTP_METHOD: &str = "http.request.method";
/// Attribute: request target.
pub const ATTR_URL_PATH: &str = "url.path";
/// Attribute: HTTP protocol of the request line.
pub const ATTR_HTTP_PROTOCOL: &str = "network.protocol.version";
/// Attribute: HTTP response status code.
pub const ATTR_HTTP_STATUS: &str = "http.response.status_code";
/// Attribute: HTTP response body size.
pub const ATTR_HTTP_BODY_SIZE: &str = "http.response.body.size";
/// Attribute: HTTP referer.
pub const ATTR_HTTP_REFERER: &str = "http.request.header.referer";
/// Attribute: HTTP user agent.
pub const ATTR_USER_AGENT: &str = "user_agent.original";

/// The output stream a record was written to, when the collector knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// Reads the `log.iostream` attribute value (`stdout` / `stderr`).
    pub fn from_iostream(value: &str) -> Option<Stream> {
        match value {
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

/// One record to structure.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogInput<'a> {
    pub body: &'a str,
    /// OTLP severity number if the SDK set it (0 = unset → `None`).
    pub severity_number: Option<i32>,
    pub severity_text: Option<&'a str>,
    pub stream: Option<Stream>,
}

impl<'a> LogInput<'a> {
    /// A record with only a body.
    pub fn text(body: &'a str) -> LogInput<'a> {
        LogInput {
            body,
            ..LogInput::default()
        }
    }
}

/// Everything learned from one record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Structured {
    /// `json`, `logfmt`, `syslog-rfc3164`, `syslog-rfc5424`, `access-log`, `learned-header`, `plain`.
    pub format: String,
    pub timestamp_unix_nano: Option<i64>,
    pub severity: Option<Severity>,
    /// True when the severity is not from an explicit level.
    pub severity_inferred: bool,
    /// The message part after the header.
    pub message: String,
    /// The message template with `<*>` for variables.
    pub template: String,
    /// Stable across restarts and processes: a hash of the template's first text (16 hex
    /// digits), kept when the template generalises (see "Template ids" in the crate docs).
    pub template_id: String,
    pub params: Vec<String>,
    pub attributes: Vec<(String, serde_json::Value)>,
}

/// A learned template of one resource, as reported by [`LogAi::patterns`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternInfo {
    pub template_id: String,
    /// Ids that records of this template may carry from before it generalised or absorbed
    /// sibling templates (see "Template ids" in the crate docs); [`LogAi::canonical_id`] maps
    /// them to `template_id`.
    pub aliases: Vec<String>,
    pub template: String,
    pub count: u64,
    /// How many records the resource had processed when the template first appeared.
    pub first_seen: u64,
    /// How many records the resource had processed when the template was last seen.
    pub last_seen: u64,
    pub sample: String,
}

/// The one configuration of Log AI. [`Config::default`] is what every deployment uses; the
/// fields exist to bound memory, not to tune per dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Resources kept; the least recently used is forgotten beyond this.
    pub max_resources: usize,
    /// Templates kept per resource; the least recently seen tenth is evicted beyond this.
    pub max_templates_per_resource: usize,
    /// Templates kept for all resources together: each resource keeps at most its share, this
    /// divided by the number of resources (and at most `max_templates_per_resource`). A new
    /// resource makes the others give up their least recently seen templates beyond the new
    /// share, so memory stays bounded however many resources come and go.
    pub max_templates: usize,
    /// Share of a cluster's literal tokens a line must equal to join it on soft differences.
    pub similarity: f64,
    /// Distinct plain words at one position before it becomes a variable.
    pub word_variants: usize,
    /// Longer messages are cut to this many bytes for mining (the record keeps all of it).
    pub max_message_bytes: usize,
    /// Bytes of the sample record kept per template.
    pub sample_bytes: usize,
    /// Attributes extracted per record at most.
    pub max_attributes: usize,
    /// Recently masked messages remembered, for all resources together (0: none). Bounds
    /// memory, like the others: each holds a message of at most 256 bytes and its masked form.
    pub mask_memo_slots: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_resources: 1024,
            max_templates_per_resource: 10_000,
            max_templates: 100_000,
            similarity: 0.5,
            word_variants: 4,
            max_message_bytes: 4096,
            sample_bytes: 256,
            max_attributes: 32,
            mask_memo_slots: 1024,
        }
    }
}

/// Every line of every `testdata/logs/*.log` file, for tests that run code over all of them.
#[cfg(test)]
pub(crate) fn testdata_lines() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/logs");
    let mut lines: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).expect("testdata/logs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(&path).expect("log file");
            lines.extend(text.lines().map(str::to_string));
        }
    }
    assert!(lines.len() > 50, "testdata/logs read");
    lines
}
