//! Real user monitoring: the browser's side of the system as one model — sessions, page
//! views, Web Vitals, errors (fingerprinted, symbolicated with uploaded source maps),
//! requests joined to backend traces, custom events and funnels — whichever browser SDK sent
//! it (redscope's own, the OpenTelemetry JS web instrumentations, event-per-log-record SDKs).
//!
//! - At ingest, [`Enricher`] derives from each browser record what readers need (user agent
//!   → browser, OS, device class; bots flagged; URL → route; error fingerprint and
//!   symbolicated stack) and stores it beside the record.
//! - [`SourceMaps`]: the uploaded maps, by service, version and file.
//! - [`ReplayStore`]: session replay segments as blobs with a retention of their own.
//! - At query time, stored records become [`Event`]s, and [`sessions`], [`errors`],
//!   [`vitals`] and [`funnel`] answer over them.
//! - [`rollup`]: per-minute parts of sessions, error groups and vitals, built from the stored
//!   events by the server's rollups and merged by readers into the same answers.
//!
//! Depends on `model`, `analysis` (its sketch and distinct sample) and small crates only;
//! ingest and query depend on it.
//!
//! ```
//! assert_eq!(rum::route::template("/orders/8123"), "/orders/:id");
//! let ua = rum::useragent::parse("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1");
//! assert_eq!(ua.device.as_str(), "mobile");
//! ```

pub mod attrs;
pub mod enrich;
pub mod errors;
pub mod event;
pub mod fingerprint;
pub mod funnel;
pub mod replay;
pub mod rollup;
pub mod route;
pub mod sessions;
pub mod sourcemaps;
pub mod stack;
pub mod synthetic;
pub mod useragent;
pub mod vitals;

pub use enrich::{EnrichStats, Enricher};
pub use event::{Event, Kind};
pub use replay::ReplayStore;
pub use sourcemaps::{SourceMapError, SourceMaps};
