//! The shop's visitors as their browsers see it: every journey of the workload is a page view
//! of the visitor's session whose fetch starts the backend trace (the entry span continues the
//! fetch span, as `traceparent` makes it), with Web Vitals and now and then an error — sent in
//! the browser SDK's shapes ([`rum::synthetic`]).
//!
//! Two faults show in the browser: with [`Fault::TimeoutCascade`] the checkout page waits for
//! its quote and its LCP turns poor; with [`Fault::BadDeploy`] the site is released too
//! ([`RELEASE_BAD`]) and that release throws an error no earlier release had.

use rand::Rng;

use super::{Fault, Shop};

/// The site's release, and the one of the bad deploy.
pub const RELEASE: &str = "2.3.1";
pub const RELEASE_BAD: &str = "2.4.0";
/// Where the synthetic visitors' pages are.
const ORIGIN: &str = "https://shop.example.com";

/// The error only [`RELEASE_BAD`] throws: the new quote widget reads a field the cart lacks.
const RELEASE_ERROR: (&str, &str) = (
    "TypeError",
    "Cannot read properties of undefined (reading 'amount')",
);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Shop {
    /// The site's release for the current journey.
    pub(super) fn web_release(&self) -> &'static str {
        if self.on(Fault::BadDeploy) {
            RELEASE_BAD
        } else {
            RELEASE
        }
    }

    /// The page view of the current journey, its request being the fetch span `fetch` of the
    /// journey's trace.
    pub(super) fn browser_page_view(&mut self, fetch: &[u8]) {
        let Some(entry) = self.entry.take() else {
            return;
        };
        let path = entry.path.clone();
        let release = self.web_release();
        let start = i64::try_from(entry.start).unwrap_or(0);
        let end = i64::try_from(entry.start + entry.dur).unwrap_or(0);
        // Named after the route, as the semantic conventions allow, so that a trace list shows
        // which request of the page started the trace.
        let request = rum::synthetic::Request {
            name: format!("{} {}", entry.method, entry.route),
            trace_id: hex(&self.trace_id),
            span_id: hex(fetch),
            method: entry.method.clone(),
            path: path.clone(),
            start_ns: start - 1_500_000,
            end_ns: end + 1_500_000,
            status: entry.status,
        };
        let vitals = self.vitals(&path);
        let error = self.browser_error(&path, release);
        let agent_index = self.visitor.0.bytes().map(usize::from).sum::<usize>();
        let page = rum::synthetic::PageView {
            session_id: self.visitor.0.clone(),
            user_id: self.visitor.1.clone(),
            release: release.to_string(),
            user_agent: rum::synthetic::user_agent(agent_index).to_string(),
            origin: ORIGIN.to_string(),
            path,
            time_ns: start - 400_000_000,
            vitals,
            request: Some(request),
            error,
        };
        let page_view_id = hex(&self.id(8));
        self.visits.push(&page, &page_view_id);
    }

    /// Web Vitals of a page: mostly good; the checkout page's LCP poor while its quote hangs.
    fn vitals(&mut self, path: &str) -> Vec<(&'static str, f64)> {
        let slow_checkout = path == "/checkout" && self.on(Fault::TimeoutCascade);
        let lcp = if slow_checkout {
            4_500.0 + self.rng.random::<f64>() * 4_000.0
        } else {
            900.0 + self.rng.random::<f64>() * 1_800.0
        };
        vec![
            ("LCP", lcp),
            ("FCP", lcp * 0.55),
            ("TTFB", 120.0 + self.rng.random::<f64>() * 500.0),
            ("INP", 40.0 + self.rng.random::<f64>() * 180.0),
            ("CLS", self.rng.random::<f64>() * 0.12),
        ]
    }

    /// Now and then an old error on any release; on the bad release, the new one on the
    /// pages that show the quote widget.
    fn browser_error(&mut self, path: &str, release: &str) -> Option<rum::synthetic::BrowserError> {
        let quote_page = path == "/cart" || path == "/checkout";
        if release == RELEASE_BAD && quote_page && self.rng.random_bool(0.4) {
            let (kind, message) = RELEASE_ERROR;
            let stack = format!(
                "{kind}: {message}\n    at renderQuote ({ORIGIN}/assets/app.{release}.js:1:{})\n    at updateCart ({ORIGIN}/assets/app.{release}.js:1:880)",
                4100 + self.rng.random_range(0..20)
            );
            return Some(rum::synthetic::BrowserError {
                kind: kind.to_string(),
                message: message.to_string(),
                stack,
            });
        }
        if self.rng.random_bool(0.01) {
            return Some(rum::synthetic::BrowserError {
                kind: "ReferenceError".to_string(),
                message: "gtag is not defined".to_string(),
                stack: format!(
                    "ReferenceError: gtag is not defined\n    at track ({ORIGIN}/assets/analytics.js:1:212)"
                ),
            });
        }
        None
    }
}
