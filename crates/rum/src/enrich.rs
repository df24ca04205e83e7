//! Enrichment at ingest: browser records (log records and spans) get what every reader
//! needs, derived once and stored beside them — the user agent as browser, OS and device
//! class, bots and test browsers flagged, the URL as a route, errors fingerprinted and their
//! stacks symbolicated — and the dialects of browser SDKs normalised into one shape.
//!
//! A record is a browser's when its resource says so (`telemetry.sdk.name` `redscope-browser`,
//! the OpenTelemetry JS web SDK's `telemetry.sdk.language` `webjs`, or browser detector
//! attributes) or when it carries `session.id` and a `browser.*` event name.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use model::{LogRow, SpanRow};
use serde_json::{Map, Value};

use crate::attrs::*;
use crate::replay::ReplayStore;
use crate::sourcemaps::SourceMaps;
use crate::{fingerprint, route, stack, useragent, vitals};

/// Counters of what enrichment did, for `/api/v1/status`.
#[derive(Debug, Default)]
pub struct EnrichStats {
    pub browser_logs: AtomicU64,
    pub browser_spans: AtomicU64,
    pub errors_fingerprinted: AtomicU64,
    pub stacks_symbolicated: AtomicU64,
    pub synthetic: AtomicU64,
}

impl EnrichStats {
    pub fn snapshot(&self) -> Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "browser_logs": get(&self.browser_logs),
            "browser_spans": get(&self.browser_spans),
            "errors_fingerprinted": get(&self.errors_fingerprinted),
            "stacks_symbolicated": get(&self.stacks_symbolicated),
            "synthetic": get(&self.synthetic),
        })
    }
}

/// What a resource says about the browser, worked out once per resource of a batch.
#[derive(Debug, Clone, Default)]
struct ResourceFacts {
    browser: bool,
    user_agent: Option<String>,
}

fn resource_facts(resource_attributes: &str) -> ResourceFacts {
    if resource_attributes.len() <= 2 {
        return ResourceFacts::default();
    }
    let map: Map<String, Value> = serde_json::from_str(resource_attributes).unwrap_or_default();
    let sdk = text(&map, "telemetry.sdk.name");
    let language = text(&map, "telemetry.sdk.language");
    let browser = sdk.is_some_and(|s| BROWSER_SDKS.contains(&s))
        || language == Some("webjs")
        || map.contains_key("browser.platform")
        || map.contains_key("browser.brands")
        || map.contains_key("browser.language");
    ResourceFacts {
        browser,
        user_agent: USER_AGENT_KEYS
            .iter()
            .find_map(|k| text(&map, k))
            .map(str::to_string),
    }
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Parsed user agents of one batch (a batch mostly holds a few).
#[derive(Default)]
struct Agents(HashMap<String, Arc<useragent::UserAgent>>);

impl Agents {
    fn get(&mut self, ua: &str) -> Arc<useragent::UserAgent> {
        if let Some(hit) = self.0.get(ua) {
            return Arc::clone(hit);
        }
        let parsed = Arc::new(useragent::parse(ua));
        if self.0.len() < 1024 {
            self.0.insert(ua.to_string(), Arc::clone(&parsed));
        }
        parsed
    }
}

/// Enriches browser records; one per process, shared by every ingest thread.
#[derive(Debug, Default)]
pub struct Enricher {
    sourcemaps: Option<Arc<SourceMaps>>,
    replay: Option<Arc<ReplayStore>>,
    pub stats: EnrichStats,
}

impl Enricher {
    pub fn new(sourcemaps: Option<Arc<SourceMaps>>) -> Enricher {
        Enricher {
            sourcemaps,
            replay: None,
            stats: EnrichStats::default(),
        }
    }

    /// Moves replay segment bodies into `store` (the record keeps the key in `replay.blob`).
    pub fn with_replay(mut self, store: Arc<ReplayStore>) -> Enricher {
        self.replay = Some(store);
        self
    }

    pub fn replay(&self) -> Option<&Arc<ReplayStore>> {
        self.replay.as_ref()
    }

    pub fn sourcemaps(&self) -> Option<&Arc<SourceMaps>> {
        self.sourcemaps.as_ref()
    }

    /// Enriches the browser log records among `rows`; returns which rows were a browser's.
    pub fn enrich_logs(&self, rows: &mut [LogRow]) -> Vec<bool> {
        let mut agents = Agents::default();
        let mut last: Option<(*const model::Resource, ResourceFacts)> = None;
        let mut browser = Vec::with_capacity(rows.len());
        for row in rows.iter_mut() {
            let ptr = Arc::as_ptr(&row.resource);
            let facts = match &last {
                Some((p, f)) if *p == ptr => f.clone(),
                _ => {
                    let f = resource_facts(&row.resource.resource_attributes);
                    last = Some((ptr, f.clone()));
                    f
                }
            };
            let is_browser = self.enrich_log(row, &facts, &mut agents);
            browser.push(is_browser);
        }
        browser
    }

    fn enrich_log(&self, row: &mut LogRow, facts: &ResourceFacts, agents: &mut Agents) -> bool {
        // A backend's log record is told apart without parsing its attributes.
        if !facts.browser
            && !row.event_name.starts_with("browser.")
            && !row.attributes.contains("\"session.id\"")
        {
            return false;
        }
        let mut attrs: Map<String, Value> = match row.attributes.as_str() {
            "" | "{}" => Map::new(),
            t => serde_json::from_str(t).unwrap_or_default(),
        };
        if row.event_name.is_empty()
            && let Some(name) = text(&attrs, EVENT_NAME)
        {
            row.event_name = name.to_string();
        }
        let browser_event =
            row.event_name.starts_with("browser.") && attrs.contains_key(SESSION_ID);
        if !facts.browser && !browser_event {
            return false;
        }
        self.stats.browser_logs.fetch_add(1, Ordering::Relaxed);
        if row.event_name == EVENT_REPLAY {
            // Replay segments are blobs: nothing to derive; the body goes to the replay store.
            self.store_replay(row, attrs);
            return true;
        }
        self.add_client(&mut attrs, facts, agents);
        add_route(&mut attrs);
        if row.event_name == EVENT_WEB_VITAL {
            vitals::normalize_event(&mut attrs, &row.body);
        }
        let is_error = row.event_name == EVENT_ERROR
            || attrs.contains_key(EXCEPTION_STACKTRACE)
            || attrs.contains_key(EXCEPTION_TYPE);
        if is_error {
            if row.event_name.is_empty() {
                row.event_name = EVENT_ERROR.to_string();
            }
            self.add_error(&mut attrs, row);
        }
        row.attributes = serde_json::to_string(&attrs).unwrap_or_else(|_| "{}".to_string());
        true
    }

    /// Writes a replay segment's body to the replay store and keeps its key in the record;
    /// without a store, or when writing fails (counted), the body stays in the record.
    fn store_replay(&self, row: &mut LogRow, mut attrs: Map<String, Value>) {
        let Some(store) = &self.replay else {
            return;
        };
        if row.body.is_empty() {
            return;
        }
        let session = text(&attrs, SESSION_ID).unwrap_or("").to_string();
        match store.put(model::now_unix_nano(), &session, row.body.as_bytes()) {
            Ok(key) => {
                attrs.insert(REPLAY_BLOB.to_string(), Value::String(key));
                attrs.insert(REPLAY_BYTES.to_string(), Value::from(row.body.len() as u64));
                row.body = String::new();
                row.body_type = "empty".to_string();
                row.attributes = serde_json::to_string(&attrs).unwrap_or_else(|_| "{}".to_string());
            }
            Err(e) => {
                store.stats.store_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "could not store a replay segment: kept in its record");
            }
        }
    }

    /// Browser spans (document load, fetch/XHR, user interaction) get the client's facts and
    /// their URL's route.
    pub fn enrich_spans(&self, rows: &mut [SpanRow]) {
        let mut agents = Agents::default();
        let mut last: Option<(String, ResourceFacts)> = None;
        for row in rows.iter_mut() {
            let facts = match &last {
                Some((text, f)) if *text == row.resource.resource_attributes => f.clone(),
                _ => {
                    let f = resource_facts(&row.resource.resource_attributes);
                    last = Some((row.resource.resource_attributes.clone(), f.clone()));
                    f
                }
            };
            if !facts.browser {
                continue;
            }
            self.stats.browser_spans.fetch_add(1, Ordering::Relaxed);
            let mut attrs: Map<String, Value> =
                serde_json::from_str(&row.attributes).unwrap_or_default();
            self.add_client(&mut attrs, &facts, &mut agents);
            add_route(&mut attrs);
            if row.session_id.is_none() {
                row.session_id = text(&attrs, SESSION_ID).map(str::to_string);
            }
            if row.url_full.is_none() {
                row.url_full = text(&attrs, "http.url").map(str::to_string);
            }
            row.attributes = serde_json::to_string(&attrs).unwrap_or_else(|_| "{}".to_string());
        }
    }

    /// Browser, OS, device class and the synthetic flag from the user agent.
    fn add_client(
        &self,
        attrs: &mut Map<String, Value>,
        facts: &ResourceFacts,
        agents: &mut Agents,
    ) {
        let ua = USER_AGENT_KEYS
            .iter()
            .find_map(|k| text(attrs, k))
            .map(str::to_string)
            .or_else(|| facts.user_agent.clone());
        let Some(ua) = ua else {
            return;
        };
        let parsed = agents.get(&ua);
        let mut fill = |key: &str, value: Option<&str>| {
            if let Some(v) = value
                && !attrs.contains_key(key)
            {
                attrs.insert(key.to_string(), Value::String(v.to_string()));
            }
        };
        fill(BROWSER_NAME, parsed.browser_name.as_deref());
        fill(BROWSER_VERSION, parsed.browser_version.as_deref());
        fill(OS_NAME, parsed.os_name.as_deref());
        fill(OS_VERSION, parsed.os_version.as_deref());
        fill(DEVICE_TYPE, Some(parsed.device.as_str()));
        if let Some(s) = parsed.synthetic {
            self.stats.synthetic.fetch_add(1, Ordering::Relaxed);
            attrs.insert(SYNTHETIC.to_string(), Value::String(s.as_str().to_string()));
        }
    }

    /// Type and message filled in, the stack symbolicated (the sent one kept) and the
    /// fingerprint.
    fn add_error(&self, attrs: &mut Map<String, Value>, row: &LogRow) {
        let stack_text = text(attrs, EXCEPTION_STACKTRACE).unwrap_or("").to_string();
        let header = stack::header(&stack_text).unwrap_or("");
        let (header_type, header_message) = match header.split_once(": ") {
            Some((t, m)) if !t.contains(' ') => (Some(t), Some(m)),
            _ => (None, None),
        };
        let kind = text(attrs, EXCEPTION_TYPE)
            .or(header_type)
            .unwrap_or("Error")
            .to_string();
        let body = (row.body_type == "string").then_some(row.body.as_str());
        let message = text(attrs, EXCEPTION_MESSAGE)
            .or(header_message)
            .or(body)
            .unwrap_or("")
            .to_string();
        attrs
            .entry(EXCEPTION_TYPE)
            .or_insert_with(|| Value::String(kind.clone()));
        attrs
            .entry(EXCEPTION_MESSAGE)
            .or_insert_with(|| Value::String(message.clone()));
        let mut frames = stack::parse(&stack_text);
        let version = row.resource.service_version.as_deref().unwrap_or("");
        if let Some(maps) = &self.sourcemaps
            && !frames.is_empty()
            && let Some(mapped) = maps.symbolicate(&row.resource.service_name, version, &frames)
        {
            self.stats
                .stacks_symbolicated
                .fetch_add(1, Ordering::Relaxed);
            let head = if header.is_empty() {
                format!("{kind}: {message}")
            } else {
                header.to_string()
            };
            attrs.insert(
                EXCEPTION_STACKTRACE_ORIGINAL.to_string(),
                Value::String(stack_text.clone()),
            );
            attrs.insert(
                EXCEPTION_STACKTRACE.to_string(),
                Value::String(stack::format(&head, &mapped)),
            );
            attrs.insert(SYMBOLICATED.to_string(), Value::Bool(true));
            frames = mapped;
        }
        let page = PAGE_URL_KEYS.iter().find_map(|k| text(attrs, k));
        let origin = page.and_then(fingerprint::origin_of).map(str::to_string);
        // Symbolicated frames name original sources, which are the app's own by definition.
        let origin = if attrs.contains_key(SYMBOLICATED) {
            None
        } else {
            origin
        };
        let id = fingerprint::fingerprint(&kind, &message, &frames, origin.as_deref());
        attrs.insert(FINGERPRINT.to_string(), Value::String(id));
        self.stats
            .errors_fingerprinted
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// `url.template` (and `url.path`) from the record's URL, unless the client sent them.
fn add_route(attrs: &mut Map<String, Value>) {
    if attrs.contains_key(URL_TEMPLATE) {
        return;
    }
    let Some(url) = URL_KEYS.iter().find_map(|k| text(attrs, k)) else {
        return;
    };
    let path = route::path_of(url).to_string();
    let template = route::template(&path);
    attrs.entry(URL_PATH).or_insert_with(|| Value::String(path));
    attrs.insert(URL_TEMPLATE.to_string(), Value::String(template));
}

#[cfg(test)]
mod tests;
