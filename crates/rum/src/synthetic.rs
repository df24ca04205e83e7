//! Synthetic browser sessions as OTLP/HTTP JSON log requests, in the shape the redscope
//! browser SDK sends (one resource per page load, `event.name` attributes): for load tests and
//! benchmarks of browser ingest, deterministic for a seed.

use serde_json::{Value, json};

const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
];

const PAGES: [&str; 5] = ["/", "/products/{n}", "/cart", "/checkout", "/orders/{n}"];

const VITALS: [(&str, f64); 5] = [
    ("LCP", 2400.0),
    ("INP", 180.0),
    ("CLS", 0.08),
    ("FCP", 1500.0),
    ("TTFB", 600.0),
];

/// xorshift64*: enough randomness for shapes, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn attr(key: &str, value: Value) -> Value {
    let v = match value {
        Value::String(s) => json!({ "stringValue": s }),
        Value::Number(n) if n.is_i64() => json!({ "intValue": n.to_string() }),
        Value::Number(n) => json!({ "doubleValue": n.as_f64() }),
        Value::Bool(b) => json!({ "boolValue": b }),
        other => json!({ "stringValue": other.to_string() }),
    };
    json!({ "key": key, "value": v })
}

/// An OTLP JSON `ExportLogsServiceRequest` of about `events` browser events (whole page
/// views), dated just before `now_ns`.
pub fn logs_request(events: usize, seed: u64, now_ns: i64) -> Value {
    let mut rng = Rng(seed | 1);
    let mut resource_logs = Vec::new();
    let mut made = 0;
    while made < events {
        let session = format!("{:032x}", rng.next() as u128 * 0x9e37_79b9 + made as u128);
        let agent = AGENTS[rng.below(AGENTS.len() as u64) as usize];
        let release = format!("1.{}.0", rng.below(3));
        let mut records = Vec::new();
        let mut t = now_ns - 60_000_000_000 + rng.below(30_000_000_000) as i64;
        for _ in 0..(1 + rng.below(4)) {
            let pv = format!("{:016x}", rng.next());
            let page = PAGES[rng.below(PAGES.len() as u64) as usize]
                .replace("{n}", &rng.below(10_000).to_string());
            let base = [
                attr("session.id", json!(session)),
                attr("page_view.id", json!(pv)),
                attr("url.full", json!(format!("https://shop.example.com{page}"))),
                attr("url.path", json!(page)),
            ];
            let mut push = |t: i64, name: &str, extra: Vec<Value>| {
                let mut attributes = vec![attr("event.name", json!(name))];
                attributes.extend(base.iter().cloned());
                attributes.extend(extra);
                records.push(json!({"timeUnixNano": t.to_string(), "severityNumber": 9, "attributes": attributes}));
            };
            push(
                t,
                "browser.page_view",
                vec![attr("browser.page_view.type", json!("navigate"))],
            );
            for (name, typical) in VITALS {
                let value = typical * (0.3 + 2.0 * rng.unit());
                push(
                    t + 1_000_000_000,
                    "browser.web_vital",
                    vec![
                        attr("browser.web_vital.name", json!(name)),
                        attr("browser.web_vital.value", json!(value)),
                    ],
                );
            }
            push(
                t + 2_000_000_000,
                "browser.click",
                vec![attr("browser.click.target", json!("button#add"))],
            );
            if rng.below(20) == 0 {
                let stack = format!(
                    "TypeError: Cannot read properties of undefined (reading 'total')\n    at renderCart (https://shop.example.com/assets/app.{release}.js:1:{})\n    at https://shop.example.com/assets/vendor.js:2:77",
                    1000 + rng.below(50)
                );
                push(
                    t + 3_000_000_000,
                    "browser.error",
                    vec![attr("exception.stacktrace", json!(stack))],
                );
            } else {
                push(
                    t + 3_000_000_000,
                    "cart.item_added",
                    vec![attr("cart.items", json!(rng.below(9) as i64 + 1))],
                );
            }
            t += 5_000_000_000;
        }
        made += records.len();
        let resource = json!({"attributes": [
            attr("service.name", json!("shop-web")),
            attr("service.version", json!(release)),
            attr("telemetry.sdk.name", json!("redscope-browser")),
            attr("telemetry.sdk.language", json!("webjs")),
            attr("user_agent.original", json!(agent)),
        ]});
        resource_logs.push(json!({"resource": resource, "scopeLogs": [{"scope": {"name": "redscope-browser"}, "logRecords": records}]}));
    }
    json!({ "resourceLogs": resource_logs })
}

/// One page view of a scripted visit, for workloads that decide what a visitor sees (the
/// demo shop): its vitals, the request it made (joined to a backend trace), an error.
#[derive(Debug, Clone, Default)]
pub struct PageView {
    pub session_id: String,
    pub user_id: Option<String>,
    /// `service.version` of the site: error groups and vitals break down by it.
    pub release: String,
    pub user_agent: String,
    /// Scheme and host, e.g. `https://shop.example.com`.
    pub origin: String,
    pub path: String,
    pub time_ns: i64,
    /// (name, value) of Web Vitals, milliseconds except CLS.
    pub vitals: Vec<(&'static str, f64)>,
    pub request: Option<Request>,
    pub error: Option<BrowserError>,
}

/// A fetch of the page: a CLIENT span whose ids the backend's entry span continues.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The span's name: the SDK's is the method, the semantic conventions also allow
    /// `{method} {url.template}`.
    pub name: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    pub method: String,
    /// Path on the page's origin.
    pub path: String,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status: i64,
}

#[derive(Debug, Clone, Default)]
pub struct BrowserError {
    pub kind: String,
    pub message: String,
    pub stack: String,
}

/// Page views as the SDK sends them: log records for events, spans for requests, one
/// resource per page view.
#[derive(Debug, Default)]
pub struct Visits {
    resource_logs: Vec<Value>,
    resource_spans: Vec<Value>,
}

impl Visits {
    pub fn is_empty(&self) -> bool {
        self.resource_logs.is_empty() && self.resource_spans.is_empty()
    }

    pub fn push(&mut self, page: &PageView, page_view_id: &str) {
        let url = format!("{}{}", page.origin, page.path);
        let mut base = vec![
            attr("session.id", json!(page.session_id)),
            attr("page_view.id", json!(page_view_id)),
            attr("url.full", json!(url)),
            attr("url.path", json!(page.path)),
        ];
        if let Some(user) = &page.user_id {
            base.push(attr("user.id", json!(user)));
            base.push(attr("enduser.id", json!(user)));
        }
        let mut records = Vec::new();
        let mut push = |t: i64, name: &str, extra: Vec<Value>| {
            let mut attributes = vec![attr("event.name", json!(name))];
            attributes.extend(base.iter().cloned());
            attributes.extend(extra);
            records.push(json!({"timeUnixNano": t.to_string(), "severityNumber": 9, "attributes": attributes}));
        };
        let t = page.time_ns;
        push(
            t,
            "browser.page_view",
            vec![attr("browser.page_view.type", json!("navigate"))],
        );
        for (name, value) in &page.vitals {
            push(
                t + 1_000_000_000,
                "browser.web_vital",
                vec![
                    attr("browser.web_vital.name", json!(name)),
                    attr("browser.web_vital.value", json!(value)),
                ],
            );
        }
        if let Some(e) = &page.error {
            push(
                t + 1_500_000_000,
                "browser.error",
                vec![
                    attr("exception.type", json!(e.kind)),
                    attr("exception.message", json!(e.message)),
                    attr("exception.stacktrace", json!(e.stack)),
                ],
            );
        }
        let resource = json!({"attributes": [
            attr("service.name", json!("shop-web")),
            attr("service.version", json!(page.release)),
            attr("deployment.environment.name", json!("demo")),
            attr("telemetry.sdk.name", json!("redscope-browser")),
            attr("telemetry.sdk.language", json!("webjs")),
            attr("user_agent.original", json!(page.user_agent)),
        ]});
        self.resource_logs.push(json!({"resource": resource, "scopeLogs": [{"scope": {"name": "redscope-browser"}, "logRecords": records}]}));
        if let Some(r) = &page.request {
            let mut attributes = base.clone();
            attributes.extend([
                attr("http.request.method", json!(r.method)),
                attr("url.full", json!(format!("{}{}", page.origin, r.path))),
                attr("http.response.status_code", json!(r.status)),
                attr("browser.request.api", json!("fetch")),
            ]);
            // The request's URL, not the page's, is what the span is about.
            attributes.retain(|a| a["key"] != "url.path");
            let mut span = json!({
                "traceId": r.trace_id, "spanId": r.span_id, "name": r.name, "kind": 3,
                "startTimeUnixNano": r.start_ns.to_string(), "endTimeUnixNano": r.end_ns.to_string(),
                "attributes": attributes,
            });
            if r.status >= 400 {
                span["status"] = json!({"code": 2});
                if let Some(a) = span["attributes"].as_array_mut() {
                    a.push(attr("error.type", json!(r.status.to_string())));
                }
            }
            self.resource_spans.push(json!({"resource": resource, "scopeSpans": [{"scope": {"name": "redscope-browser"}, "spans": [span]}]}));
        }
    }

    /// The OTLP JSON `ExportLogsServiceRequest` and `ExportTraceServiceRequest` of what was
    /// pushed, emptying it.
    pub fn take(&mut self) -> (Value, Value) {
        let logs = json!({ "resourceLogs": std::mem::take(&mut self.resource_logs) });
        let traces = json!({ "resourceSpans": std::mem::take(&mut self.resource_spans) });
        (logs, traces)
    }
}

/// A user agent of the mix the generator uses, by index (wraps).
pub fn user_agent(i: usize) -> &'static str {
    AGENTS[i % AGENTS.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_hold_about_the_events_asked_for() {
        let r = logs_request(100, 7, 1_800_000_000_000_000_000);
        let n: usize = r["resourceLogs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|rl| rl["scopeLogs"][0]["logRecords"].as_array().unwrap().len())
            .sum();
        assert!((100..130).contains(&n), "{n}");
        assert_eq!(r, logs_request(100, 7, 1_800_000_000_000_000_000));
    }

    #[test]
    fn a_page_view_with_a_request_sends_its_events_and_the_span_the_backend_continues() {
        let mut visits = Visits::default();
        let page = PageView {
            session_id: "s1".into(),
            release: "2.4.0".into(),
            user_agent: user_agent(0).into(),
            origin: "https://shop.example.com".into(),
            path: "/checkout".into(),
            time_ns: 1_000,
            vitals: vec![("LCP", 5200.0)],
            request: Some(Request {
                name: "POST /api/checkout".into(),
                trace_id: "ab".repeat(16),
                span_id: "cd".repeat(8),
                method: "POST".into(),
                path: "/api/checkout".into(),
                start_ns: 2_000,
                end_ns: 3_000,
                status: 504,
            }),
            error: Some(BrowserError {
                kind: "TypeError".into(),
                message: "x is undefined".into(),
                stack: "TypeError: x is undefined\n    at f (https://shop.example.com/app.js:1:2)"
                    .into(),
            }),
            ..PageView::default()
        };
        visits.push(&page, "pv1");
        let (logs, traces) = visits.take();
        assert!(visits.is_empty());
        let records = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
            .as_array()
            .unwrap();
        assert_eq!(records.len(), 3, "page view, one vital, the error");
        let span = &traces["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "ab".repeat(16));
        assert_eq!(span["kind"], 3);
        assert_eq!(span["status"]["code"], 2);
        let version = &traces["resourceSpans"][0]["resource"]["attributes"][1];
        assert_eq!(version["value"]["stringValue"], "2.4.0");
    }
}
