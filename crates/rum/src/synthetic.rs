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
}
