//! The attribute and event names RUM reads and writes, in one place.

/// Resource `telemetry.sdk.name` values of browser SDKs.
pub const BROWSER_SDKS: &[&str] = &["redscope-browser", "opentelemetry-web"];

pub const EVENT_NAME: &str = "event.name";
pub const EVENT_PAGE_VIEW: &str = "browser.page_view";
pub const EVENT_WEB_VITAL: &str = "browser.web_vital";
pub const EVENT_ERROR: &str = "browser.error";
pub const EVENT_CLICK: &str = "browser.click";
pub const EVENT_IDENTIFY: &str = "browser.identify";
pub const EVENT_REPLAY: &str = "browser.replay_segment";
/// Where a replay segment's body went in the replay store (written at ingest).
pub const REPLAY_BLOB: &str = "replay.blob";
/// The size of that body.
pub const REPLAY_BYTES: &str = "replay.blob.bytes";

pub const SESSION_ID: &str = "session.id";
pub const PAGE_VIEW_ID: &str = "page_view.id";
pub const USER_ID: &str = "user.id";
/// The browser's own id for its user before (and without) `identify`.
pub const ANONYMOUS_ID: &str = "user.anonymous_id";

/// Where the user agent may be: ours and the semantic conventions', then older spellings
/// (the fetch instrumentation's `http.user_agent`, the old browser detector's).
pub const USER_AGENT_KEYS: &[&str] = &[
    "user_agent.original",
    "http.user_agent",
    "browser.user_agent",
];

/// Where the URL of a record may be, the path first.
pub const URL_KEYS: &[&str] = &["url.path", "url.full", "http.url", "page.url"];
/// Absolute URLs of the page, for its origin.
pub const PAGE_URL_KEYS: &[&str] = &["url.full", "http.url", "page.url"];
pub const URL_PATH: &str = "url.path";
pub const URL_FULL: &str = "url.full";
/// The route of the URL (`/orders/:id`), written at ingest.
pub const URL_TEMPLATE: &str = "url.template";

pub const BROWSER_NAME: &str = "browser.name";
pub const BROWSER_VERSION: &str = "browser.version";
pub const OS_NAME: &str = "os.name";
pub const OS_VERSION: &str = "os.version";
pub const DEVICE_TYPE: &str = "device.type";
/// `bot` or `test` for clients that are not people (semantic conventions).
pub const SYNTHETIC: &str = "user_agent.synthetic.type";

pub const VITAL_NAME: &str = "browser.web_vital.name";
pub const VITAL_VALUE: &str = "browser.web_vital.value";
pub const VITAL_RATING: &str = "browser.web_vital.rating";
pub const VITAL_DELTA: &str = "browser.web_vital.delta";
pub const VITAL_ID: &str = "browser.web_vital.id";

pub const EXCEPTION_TYPE: &str = "exception.type";
pub const EXCEPTION_MESSAGE: &str = "exception.message";
pub const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";
/// The stack as the browser sent it, when `exception.stacktrace` was symbolicated.
pub const EXCEPTION_STACKTRACE_ORIGINAL: &str = "exception.stacktrace.original";
/// `true` when the stack was symbolicated with an uploaded source map.
pub const SYMBOLICATED: &str = "exception.symbolicated";
/// The error group (16 hex digits), written at ingest.
pub const FINGERPRINT: &str = "exception.fingerprint";
