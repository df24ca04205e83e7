//! One browser event as the readers see it, whichever record it was stored as: a log record
//! of a browser event (`browser.page_view`, `browser.error`, custom events...) or a browser
//! span (fetch/XHR requests, the document load, a user interaction).

use serde_json::{Map, Value};

use crate::attrs::*;

/// What an event is, for sessions and timelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    PageView,
    Vital,
    Error,
    Click,
    Identify,
    Request,
    Replay,
    Custom,
}

/// A stored browser event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    pub time_ns: i64,
    /// The event name (log records), or the name given to a browser span's shape
    /// (`browser.request`, `browser.document_load`, `browser.interaction`).
    pub name: String,
    pub session_id: String,
    pub service: String,
    pub release: Option<String>,
    pub trace_id: String,
    pub span_id: String,
    /// Spans: how long it took.
    pub duration_ns: Option<i64>,
    /// The record's attributes (with what ingest derived).
    pub attrs: Map<String, Value>,
    /// Log records: the body.
    pub body: String,
}

pub const SPAN_REQUEST: &str = "browser.request";
pub const SPAN_DOCUMENT_LOAD: &str = "browser.document_load";
pub const SPAN_INTERACTION: &str = "browser.interaction";

impl Event {
    /// The event name of a browser span: requests are CLIENT spans with a URL, the document
    /// load instrumentation's root is `documentLoad`, user interactions carry `event_type`.
    pub fn span_name(
        span_name: &str,
        kind: &str,
        attrs: &Map<String, Value>,
    ) -> Option<&'static str> {
        if span_name == "documentLoad" {
            return Some(SPAN_DOCUMENT_LOAD);
        }
        if attrs.contains_key("event_type") || span_name == "click" {
            return Some(SPAN_INTERACTION);
        }
        let has_url = attrs.contains_key(URL_FULL) || attrs.contains_key("http.url");
        if kind == "CLIENT" && has_url {
            return Some(SPAN_REQUEST);
        }
        None
    }

    pub fn kind(&self) -> Kind {
        match self.name.as_str() {
            EVENT_PAGE_VIEW | SPAN_DOCUMENT_LOAD => Kind::PageView,
            EVENT_WEB_VITAL => Kind::Vital,
            EVENT_ERROR => Kind::Error,
            EVENT_CLICK | SPAN_INTERACTION => Kind::Click,
            EVENT_IDENTIFY => Kind::Identify,
            EVENT_REPLAY => Kind::Replay,
            SPAN_REQUEST => Kind::Request,
            _ => Kind::Custom,
        }
    }

    /// A string attribute (numbers and booleans as text are not strings here).
    pub fn str(&self, key: &str) -> Option<&str> {
        self.attrs
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// An attribute as text, whatever its type.
    pub fn text(&self, key: &str) -> Option<String> {
        match self.attrs.get(key)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn page_view_id(&self) -> Option<&str> {
        self.str(PAGE_VIEW_ID)
            .or_else(|| self.str("browser.page.instance_id"))
    }

    pub fn user_id(&self) -> Option<&str> {
        self.str(USER_ID).or_else(|| self.str("enduser.id"))
    }

    /// The route of the event's page (`url.template`), else its path.
    pub fn route(&self) -> Option<&str> {
        self.str(URL_TEMPLATE).or_else(|| self.str(URL_PATH))
    }

    pub fn path(&self) -> Option<&str> {
        self.str(URL_PATH)
    }

    pub fn url(&self) -> Option<&str> {
        self.str(URL_FULL)
            .or_else(|| self.str("http.url"))
            .or_else(|| self.str(URL_PATH))
    }

    pub fn fingerprint(&self) -> Option<&str> {
        self.str(FINGERPRINT)
    }

    /// An attribute for breakdowns: the record's, else the event's release or service.
    pub fn dimension(&self, key: &str) -> Option<String> {
        match key {
            "service.version" | "release" => self.release.clone(),
            "service.name" => Some(self.service.clone()),
            "route" => self.route().map(str::to_string),
            _ => self.text(key),
        }
    }

    /// Time in milliseconds since the epoch, as the API shows times of events.
    pub fn time_ms(&self) -> i64 {
        self.time_ns / 1_000_000
    }
}

/// The attributes the summaries of sessions, error groups and vitals read: parsing the
/// attributes of every event is most of the cost of reading events, and these are a few.
pub const SUMMARY_KEYS: &[&str] = &[
    SESSION_ID,
    PAGE_VIEW_ID,
    "browser.page.instance_id",
    USER_ID,
    "enduser.id",
    ANONYMOUS_ID,
    EVENT_NAME,
    URL_FULL,
    URL_PATH,
    URL_TEMPLATE,
    "http.url",
    BROWSER_NAME,
    BROWSER_VERSION,
    OS_NAME,
    OS_VERSION,
    DEVICE_TYPE,
    SYNTHETIC,
    VITAL_NAME,
    VITAL_VALUE,
    VITAL_RATING,
    EXCEPTION_TYPE,
    EXCEPTION_MESSAGE,
    EXCEPTION_STACKTRACE,
    SYMBOLICATED,
    FINGERPRINT,
    "event_type",
];

/// A JSON object of attributes, only `keys` of it when given (the other values are skipped
/// unparsed); an empty map when it is not an object.
pub fn parse_attrs<K: AsRef<str>>(text: &str, keys: Option<&[K]>) -> Map<String, Value> {
    if text.len() <= 2 {
        return Map::new();
    }
    let Some(keys) = keys else {
        return serde_json::from_str(text).unwrap_or_default();
    };
    let mut de = serde_json::Deserializer::from_str(text);
    serde::de::DeserializeSeed::deserialize(Picked(keys), &mut de).unwrap_or_default()
}

/// Deserializes the listed keys of a JSON object, skipping the other values unparsed.
struct Picked<'k, K>(&'k [K]);

impl<'de, K: AsRef<str>> serde::de::DeserializeSeed<'de> for Picked<'_, K> {
    type Value = Map<String, Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, K: AsRef<str>> serde::de::Visitor<'de> for Picked<'_, K> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of attributes")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if self.0.iter().any(|k| k.as_ref() == key) {
                out.insert(key.into_owned(), map.next_value::<Value>()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}
