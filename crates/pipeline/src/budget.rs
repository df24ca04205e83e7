//! Budgets: daily and monthly caps on what a signal, a service or each service stores, in
//! records or bytes (the bytes the usage explorer reports, see [`crate::size`]).
//!
//! ```toml
//! [[budget]]
//! name = "logs per service"
//! signal = "logs"
//! service = "*"             # each service its own cap; a name for one; none for the signal
//! daily_bytes = "2GB"
//! monthly_records = 500000000
//! ```
//!
//! Near and at a cap the least valuable records go first: from `debug_at` of a cap (0.9 by
//! default) debug and trace logs are shed, at the cap everything else of the budget, but never
//! an error (severity ERROR or FATAL), a span of a trace with a failed span, or a log record of
//! such a trace. Those are stored over the cap, and counted in it. Logs and metric points are
//! judged at ingest, spans when the store writes them to files (so that a trace is judged with
//! its spans in). What a budget shed is counted per service and severity, its use is written
//! as `redscope_budget_used_ratio` (the built-in `budgets` alert warns at 80%), and the
//! [`Ledger`] keeps the counts of the day and the month across rule reloads and, saved in the
//! data directory, across restarts.
//!
//! Within a batch the counts move record by record; batches admitted at the same moment each
//! start from the counts before them, so a cap can be passed by what is in flight.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use chrono::Datelike;
use model::{LogRow, MetricPointRow, MetricType, Resource, Signal, SpanRow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::rules::RuleProblem;
use crate::size::{log_bytes, point_bytes};

/// Share of a cap from which debug and trace logs are shed, unless set.
pub const DEBUG_AT: f64 = 0.9;
/// Share of a cap from which a budget shows as a warning.
pub const WARN_AT: f64 = 0.8;
/// The gauge of how much of its cap a budget used (0.8 = 80%).
pub const USED_RATIO_METRIC: &str = "redscope_budget_used_ratio";
/// The counter of records a budget shed.
pub const SHED_METRIC: &str = "redscope_budget_shed_records";
/// Services counted per signal, at most; the use of further ones is counted together under
/// [`crate::OVERFLOW_VALUE`], so that senders inventing service names cannot grow the counts
/// (and the file they are saved to) without bound.
const MAX_SERVICES: usize = 10_000;
/// Failed traces remembered for the logs and later spans that belong to them.
const FAILED_TRACES: usize = 100_000;
/// The lowest OTel severity number of an error.
const ERROR_SEVERITY: i32 = 17;
/// The highest OTel severity number of a debug record (TRACE 1–4, DEBUG 5–8).
const DEBUG_SEVERITY: i32 = 8;

/// A budget as written in the rule file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    pub name: String,
    /// `spans`, `logs` or `metrics`.
    pub signal: String,
    /// One service, `*` for each service its own cap, none for the signal as a whole.
    pub service: Option<String>,
    pub daily_records: Option<u64>,
    pub monthly_records: Option<u64>,
    /// A number of bytes, or a size such as `"500MB"` or `"2GiB"`.
    pub daily_bytes: Option<Size>,
    pub monthly_bytes: Option<Size>,
    /// Share of a cap from which debug and trace logs are shed (0 < debug_at ≤ 1).
    pub debug_at: Option<f64>,
    #[serde(default)]
    pub disabled: bool,
}

/// A size in bytes: a number, or a number with a unit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(u64),
    Text(String),
}

impl Size {
    fn bytes(&self) -> Result<u64, String> {
        match self {
            Size::Bytes(n) => Ok(*n),
            Size::Text(t) => parse_size(t),
        }
    }
}

/// `"500MB"`, `"2 GiB"`, `"1.5TB"`, `"1000"` in bytes (KB, MB, GB, TB are powers of 1000,
/// KiB, MiB, GiB, TiB of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size: use a number of bytes or e.g. \"500MB\""))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        other => {
            return Err(format!(
                "unknown size unit '{other}': use B, KB, MB, GB, TB or KiB … TiB"
            ));
        }
    };
    Ok((number * factor).round() as u64)
}

/// Which records a budget counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The signal's records of every service together.
    Signal,
    Service(String),
    /// Each service on its own, the same caps for all.
    EachService,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// The UTC day.
    Day,
    /// The UTC calendar month.
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Records,
    Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    pub period: Period,
    pub unit: Unit,
    pub limit: u64,
}

/// A checked budget.
#[derive(Debug, Clone)]
pub struct Budget {
    pub name: String,
    pub signal: Signal,
    pub scope: Scope,
    pub caps: Vec<Cap>,
    pub debug_at: f64,
}

impl Budget {
    fn covers(&self, signal: Signal, service: &str) -> bool {
        self.signal == signal
            && match &self.scope {
                Scope::Service(s) => s == service,
                Scope::Signal | Scope::EachService => true,
            }
    }

    /// The key its counts are kept under: the service, or none for the whole signal.
    fn key<'a>(&self, service: &'a str) -> &'a str {
        match self.scope {
            Scope::Signal => "",
            _ => service,
        }
    }

    /// The largest share of a cap that `used` reaches.
    fn ratio(&self, used: &Used) -> f64 {
        self.caps
            .iter()
            .map(|c| used.of(c.period, c.unit) as f64 / c.limit.max(1) as f64)
            .fold(0.0, f64::max)
    }
}

/// Checks the budgets of a rule file; problems name the budget and the field.
pub fn check(specs: &[BudgetSpec]) -> Result<Vec<Budget>, Vec<RuleProblem>> {
    let mut problems = Vec::new();
    let mut budgets = Vec::new();
    let mut names = HashSet::new();
    for (i, spec) in specs.iter().enumerate() {
        let label = format!("budget #{} {}", i + 1, spec.name);
        let mut problem = |field: &str, message: String| {
            problems.push(RuleProblem {
                rule: Some(label.clone()),
                field: field.into(),
                message,
            })
        };
        if spec.name.trim().is_empty() {
            problem("name", "is required".into());
        } else if !names.insert(spec.name.clone()) {
            problem("name", "is used by an earlier budget".into());
        }
        let signal = match Signal::from_name(&spec.signal) {
            Some(signal) => Some(signal),
            None => {
                let other = &spec.signal;
                problem("signal", format!("'{other}': use spans, logs or metrics"));
                None
            }
        };
        let scope = match spec.service.as_deref().map(str::trim) {
            None => Scope::Signal,
            Some("*") => Scope::EachService,
            Some("") => {
                problem(
                    "service",
                    "is empty: leave it out for the whole signal, or use * for each service".into(),
                );
                Scope::Signal
            }
            Some(s) => Scope::Service(s.to_string()),
        };
        let mut caps = Vec::new();
        let counts = [
            ("daily_records", Period::Day, spec.daily_records),
            ("monthly_records", Period::Month, spec.monthly_records),
        ];
        for (field, period, limit) in counts {
            match limit {
                Some(0) => problem(field, "must be above 0".into()),
                Some(limit) => caps.push(Cap {
                    period,
                    unit: Unit::Records,
                    limit,
                }),
                None => {}
            }
        }
        let sizes = [
            ("daily_bytes", Period::Day, &spec.daily_bytes),
            ("monthly_bytes", Period::Month, &spec.monthly_bytes),
        ];
        for (field, period, size) in sizes {
            match size.as_ref().map(Size::bytes) {
                Some(Ok(0)) => problem(field, "must be above 0".into()),
                Some(Ok(limit)) => caps.push(Cap {
                    period,
                    unit: Unit::Bytes,
                    limit,
                }),
                Some(Err(e)) => problem(field, e),
                None => {}
            }
        }
        if spec.daily_records.is_none()
            && spec.monthly_records.is_none()
            && spec.daily_bytes.is_none()
            && spec.monthly_bytes.is_none()
        {
            problem(
                "daily_bytes",
                "a budget needs a cap: daily_records, monthly_records, daily_bytes or monthly_bytes".into(),
            );
        }
        let debug_at = spec.debug_at.unwrap_or(DEBUG_AT);
        if !(debug_at > 0.0 && debug_at <= 1.0) {
            problem("debug_at", "must be above 0 and at most 1".into());
        }
        if let Some(signal) = signal
            && !spec.disabled
        {
            budgets.push(Budget {
                name: spec.name.clone(),
                signal,
                scope,
                caps,
                debug_at,
            });
        }
    }
    if problems.is_empty() {
        Ok(budgets)
    } else {
        Err(problems)
    }
}

/// Records and bytes stored in the current day and month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Used {
    pub day_records: u64,
    pub day_bytes: u64,
    pub month_records: u64,
    pub month_bytes: u64,
}

impl Used {
    fn of(&self, period: Period, unit: Unit) -> u64 {
        match (period, unit) {
            (Period::Day, Unit::Records) => self.day_records,
            (Period::Day, Unit::Bytes) => self.day_bytes,
            (Period::Month, Unit::Records) => self.month_records,
            (Period::Month, Unit::Bytes) => self.month_bytes,
        }
    }

    fn add(&mut self, records: u64, bytes: u64) {
        self.day_records += records;
        self.day_bytes += bytes;
        self.month_records += records;
        self.month_bytes += bytes;
    }

    fn plus(mut self, other: &Used) -> Used {
        self.day_records += other.day_records;
        self.day_bytes += other.day_bytes;
        self.month_records += other.month_records;
        self.month_bytes += other.month_bytes;
        self
    }
}

/// How a record weighs when a budget is tight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worth {
    /// An error, or part of a failed trace: never shed.
    Kept,
    /// Debug and trace logs: shed first.
    Debug,
    Ordinary,
}

/// Why records were shed, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Shed {
    /// Debug and trace logs near the cap.
    Debug,
    /// Everything but errors at the cap.
    Capped,
}

/// The counts of the current day and month, per signal and service.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Books {
    /// Days since 1970-01-01 (UTC).
    day: i64,
    /// Months since 1970-01 (UTC).
    month: i64,
    /// (signal, service) → what was stored.
    used: BTreeMap<String, BTreeMap<String, Used>>,
    /// (budget, service or "") → records and bytes shed, by reason, since the server started
    /// counting (these are cumulative, as counters).
    shed: BTreeMap<String, BTreeMap<String, ShedCounts>>,
}

/// Records and bytes shed, by reason.
type ShedCounts = BTreeMap<Shed, (u64, u64)>;

/// Adds `used` to a service's counts (or the overflow's, past [`MAX_SERVICES`]).
fn add_used(services: &mut BTreeMap<String, Used>, service: &str, used: &Used) {
    if let Some(u) = services.get_mut(service) {
        *u = u.plus(used);
        return;
    }
    let key = if services.len() < MAX_SERVICES {
        service
    } else {
        crate::OVERFLOW_VALUE
    };
    let u = services.entry(key.to_string()).or_default();
    *u = u.plus(used);
}

fn periods(now_ns: i64) -> (i64, i64) {
    let day = now_ns.div_euclid(86_400_000_000_000);
    let date = chrono::DateTime::from_timestamp_nanos(now_ns).date_naive();
    let month = (i64::from(date.year()) - 1970) * 12 + i64::from(date.month0());
    (day, month)
}

impl Books {
    /// Starts a new day (and month) when the clock has passed into one.
    fn roll(&mut self, now_ns: i64) {
        let (day, month) = periods(now_ns);
        if day == self.day && month == self.month {
            return;
        }
        for services in self.used.values_mut() {
            for u in services.values_mut() {
                if day != self.day {
                    u.day_records = 0;
                    u.day_bytes = 0;
                }
                if month != self.month {
                    u.month_records = 0;
                    u.month_bytes = 0;
                }
            }
        }
        self.day = day;
        self.month = month;
    }

    /// What a budget's key has used: one service, or the signal's services together.
    fn used_by(&self, budget: &Budget, key: &str) -> Used {
        let Some(services) = self.used.get(budget.signal.name()) else {
            return Used::default();
        };
        if key.is_empty() {
            services.values().fold(Used::default(), |a, u| a.plus(u))
        } else {
            services.get(key).copied().unwrap_or_default()
        }
    }
}

/// Failed traces seen recently, in two generations so that memory stays bounded.
#[derive(Debug, Default)]
struct FailedTraces {
    current: HashSet<String>,
    previous: HashSet<String>,
}

impl FailedTraces {
    fn insert(&mut self, trace_id: &str) {
        if trace_id.is_empty() || self.current.contains(trace_id) {
            return;
        }
        if self.current.len() >= FAILED_TRACES / 2 {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(trace_id.to_string());
    }

    fn contains(&self, trace_id: &str) -> bool {
        !trace_id.is_empty()
            && (self.current.contains(trace_id) || self.previous.contains(trace_id))
    }
}

/// What the budgets counted: kept across rule reloads (budgets are found by name).
#[derive(Debug, Default)]
pub struct Ledger {
    books: Mutex<Books>,
    failed: Mutex<FailedTraces>,
}

/// One record (or one trace's spans of one service) to admit.
pub struct Item<'a> {
    pub service: &'a str,
    pub records: u64,
    pub bytes: u64,
    pub worth: Worth,
}

/// One batch's admission: the budgets' counts as the batch started, moved as records are
/// kept. Items of one service usually come together, so the last service's slot is tried
/// first and nothing is allocated per item.
struct Admission<'b> {
    budgets: &'b [Budget],
    signal: Signal,
    /// One per service in the batch.
    slots: Vec<Slot>,
    last: usize,
    /// (budget, key) and what it used, from the books plus what this batch kept.
    counters: Vec<(usize, String, Used)>,
    /// (counter, why) → records and bytes shed.
    shed: HashMap<(usize, Shed), (u64, u64)>,
}

struct Slot {
    service: String,
    /// What this batch kept of the service.
    kept: Used,
    /// The counters of the budgets that cover it.
    counters: Vec<usize>,
}

impl<'b> Admission<'b> {
    fn new(budgets: &'b [Budget], signal: Signal) -> Self {
        Admission {
            budgets,
            signal,
            slots: Vec::new(),
            last: 0,
            counters: Vec::new(),
            shed: HashMap::new(),
        }
    }

    fn slot(&mut self, books: &Books, service: &str) -> usize {
        if self
            .slots
            .get(self.last)
            .is_some_and(|s| s.service == service)
        {
            return self.last;
        }
        if let Some(i) = self.slots.iter().position(|s| s.service == service) {
            self.last = i;
            return i;
        }
        let mut counters = Vec::new();
        for (b, budget) in self.budgets.iter().enumerate() {
            if !budget.covers(self.signal, service) {
                continue;
            }
            let key = budget.key(service);
            let at = match self
                .counters
                .iter()
                .position(|(cb, k, _)| *cb == b && k == key)
            {
                Some(at) => at,
                None => {
                    self.counters
                        .push((b, key.to_string(), books.used_by(budget, key)));
                    self.counters.len() - 1
                }
            };
            counters.push(at);
        }
        self.slots.push(Slot {
            service: service.to_string(),
            kept: Used::default(),
            counters,
        });
        self.last = self.slots.len() - 1;
        self.last
    }

    fn admit(&mut self, books: &Books, item: &Item) -> bool {
        let slot = self.slot(books, item.service);
        let mut verdict = None;
        for &c in &self.slots[slot].counters {
            let (b, _, used) = &self.counters[c];
            let budget = &self.budgets[*b];
            let ratio = budget.ratio(used);
            let shed = match item.worth {
                Worth::Kept => None,
                _ if ratio >= 1.0 => Some(Shed::Capped),
                Worth::Debug if ratio >= budget.debug_at => Some(Shed::Debug),
                _ => None,
            };
            if let Some(why) = shed {
                verdict = Some((c, why));
                break;
            }
        }
        if let Some((c, why)) = verdict {
            let s = self.shed.entry((c, why)).or_default();
            s.0 += item.records;
            s.1 += item.bytes;
            return false;
        }
        let Slot { kept, counters, .. } = &mut self.slots[slot];
        for &c in counters.iter() {
            self.counters[c].2.add(item.records, item.bytes);
        }
        kept.add(item.records, item.bytes);
        true
    }
}

/// One budget's state for one service (or for its signal), as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetView {
    pub name: String,
    pub signal: &'static str,
    /// The service counted, or none for the signal as a whole.
    pub service: Option<String>,
    pub caps: Vec<CapView>,
    /// The largest share of a cap used.
    pub ratio: f64,
    /// `ok`, `warning` (from 80%), `shedding_debug` (from `debug_at`) or `capped`.
    pub state: &'static str,
    pub shed_records: u64,
    pub shed_bytes: u64,
    /// Records shed as debug near the cap, and as anything but errors at it.
    pub shed_debug_records: u64,
    pub shed_capped_records: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CapView {
    pub period: Period,
    pub unit: Unit,
    pub limit: u64,
    pub used: u64,
    pub ratio: f64,
}

impl Ledger {
    /// Remembers the traces of `rows` that have a failed span, whose logs and later spans
    /// every budget keeps.
    pub fn note_spans(&self, rows: &[SpanRow]) {
        let mut failed = None;
        for r in rows {
            if model::span_failed(&r.status_code, &r.kind, r.http_response_status_code) {
                let f = failed
                    .get_or_insert_with(|| self.failed.lock().unwrap_or_else(|p| p.into_inner()));
                f.insert(&r.trace_id);
            }
        }
    }

    /// Whether a trace had a failed span lately.
    pub fn trace_failed(&self, trace_id: &str) -> bool {
        self.failed
            .lock()
            .map(|f| f.contains(trace_id))
            .unwrap_or(false)
    }

    /// Admits items of `signal` under `budgets`, counting what is kept; one verdict per item.
    pub fn admit<'a>(
        &self,
        budgets: &[Budget],
        signal: Signal,
        items: impl Iterator<Item = Item<'a>>,
        now_ns: i64,
    ) -> Vec<bool> {
        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        books.roll(now_ns);
        let mut a = Admission::new(budgets, signal);
        let verdicts: Vec<bool> = items.map(|item| a.admit(&books, &item)).collect();
        let services = books.used.entry(signal.name().to_string()).or_default();
        for slot in a.slots {
            add_used(services, &slot.service, &slot.kept);
        }
        for ((c, why), (records, bytes)) in a.shed {
            let (b, key, _) = &a.counters[c];
            let s = books
                .shed
                .entry(budgets[*b].name.clone())
                .or_default()
                .entry(key.clone())
                .or_default()
                .entry(why)
                .or_default();
            s.0 += records;
            s.1 += bytes;
        }
        verdicts
    }

    /// Sheds what the budgets shed of a batch of log records (errors and logs of failed
    /// traces stay), counting what stays; how many were shed.
    pub fn admit_logs(&self, budgets: &[Budget], rows: &mut Vec<LogRow>, now_ns: i64) -> u64 {
        if !budgets.iter().any(|b| b.signal == Signal::Logs) {
            let sizes = rows
                .iter()
                .map(|r| (r.resource.service_name.as_str(), log_bytes(r)));
            self.count(Signal::Logs, sizes, now_ns);
            return 0;
        }
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        let worth = |r: &LogRow| {
            if r.severity_number >= ERROR_SEVERITY || failed.contains(&r.trace_id) {
                Worth::Kept
            } else if (1..=DEBUG_SEVERITY).contains(&r.severity_number) {
                Worth::Debug
            } else {
                Worth::Ordinary
            }
        };
        let items = rows.iter().map(|r| Item {
            service: &r.resource.service_name,
            records: 1,
            bytes: log_bytes(r),
            worth: worth(r),
        });
        let keep = self.admit(budgets, Signal::Logs, items, now_ns);
        drop(failed);
        retain_by(rows, &keep)
    }

    /// Sheds what the budgets shed of a batch of metric points, counting what stays.
    pub fn admit_points(
        &self,
        budgets: &[Budget],
        rows: &mut Vec<MetricPointRow>,
        now_ns: i64,
    ) -> u64 {
        if !budgets.iter().any(|b| b.signal == Signal::Metrics) {
            let sizes = rows
                .iter()
                .map(|r| (r.resource.service_name.as_str(), point_bytes(r)));
            self.count(Signal::Metrics, sizes, now_ns);
            return 0;
        }
        let items = rows.iter().map(|r| Item {
            service: &r.resource.service_name,
            records: 1,
            bytes: point_bytes(r),
            worth: Worth::Ordinary,
        });
        let keep = self.admit(budgets, Signal::Metrics, items, now_ns);
        retain_by(rows, &keep)
    }

    /// Counts records kept without a budget to judge them (so that a budget put in force
    /// later starts from the day's and the month's use).
    fn count<'a>(&self, signal: Signal, sizes: impl Iterator<Item = (&'a str, u64)>, now_ns: i64) {
        let mut by_service: Vec<(&str, u64, u64)> = Vec::new();
        let mut last = 0;
        for (service, bytes) in sizes {
            if by_service.get(last).is_none_or(|s| s.0 != service) {
                last = match by_service.iter().position(|s| s.0 == service) {
                    Some(i) => i,
                    None => {
                        by_service.push((service, 0, 0));
                        by_service.len() - 1
                    }
                };
            }
            by_service[last].1 += 1;
            by_service[last].2 += bytes;
        }
        if by_service.is_empty() {
            return;
        }
        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        books.roll(now_ns);
        let services = books.used.entry(signal.name().to_string()).or_default();
        for (service, records, bytes) in by_service {
            let mut u = Used::default();
            u.add(records, bytes);
            add_used(services, service, &u);
        }
    }

    /// The state of every budget: one view per service a per-service budget has seen.
    pub fn view(&self, budgets: &[Budget], now_ns: i64) -> Vec<BudgetView> {
        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        books.roll(now_ns);
        let mut out = Vec::new();
        for b in budgets {
            let keys: Vec<String> = match &b.scope {
                Scope::Signal => vec![String::new()],
                Scope::Service(s) => vec![s.clone()],
                Scope::EachService => books
                    .used
                    .get(b.signal.name())
                    .map(|s| s.keys().cloned().collect())
                    .unwrap_or_default(),
            };
            for key in keys {
                out.push(view_of(&books, b, &key));
            }
        }
        out
    }

    /// The gauges of the budgets' use and the counters of what they shed, at `now_ns`.
    pub fn points(&self, budgets: &[Budget], now_ns: i64) -> Vec<MetricPointRow> {
        let mut points = Vec::new();
        for v in self.view(budgets, now_ns) {
            let labels = |extra: &[(&str, &str)]| {
                let mut m = Map::new();
                m.insert("budget".into(), Value::from(v.name.as_str()));
                m.insert("signal".into(), Value::from(v.signal));
                m.insert(
                    "service".into(),
                    Value::from(v.service.clone().unwrap_or_default()),
                );
                for (k, val) in extra {
                    m.insert((*k).into(), Value::from(*val));
                }
                Value::Object(m).to_string()
            };
            for cap in &v.caps {
                let period = match cap.period {
                    Period::Day => "day",
                    Period::Month => "month",
                };
                let unit = match cap.unit {
                    Unit::Records => "records",
                    Unit::Bytes => "bytes",
                };
                points.push(gauge(
                    USED_RATIO_METRIC,
                    labels(&[("period", period), ("unit", unit)]),
                    cap.ratio,
                    now_ns,
                ));
            }
            for (why, n) in [
                ("debug", v.shed_debug_records),
                ("capped", v.shed_capped_records),
            ] {
                let mut p = gauge(SHED_METRIC, labels(&[("reason", why)]), n as f64, now_ns);
                p.metric_type = MetricType::Sum.as_str().into();
                p.metric_name = format!("{SHED_METRIC}_total");
                p.is_monotonic = true;
                p.aggregation_temporality = 2;
                p.value_int = Some(n as i64);
                points.push(p);
            }
        }
        points
    }

    /// Saves the counts (atomically), so that a restart goes on from them.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = {
            let books = self.books.lock().unwrap_or_else(|p| p.into_inner());
            serde_json::to_string(&*books).map_err(std::io::Error::other)?
        };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }

    /// Counts saved by [`Self::save`] (none when the file does not exist; a file that does
    /// not read is reported and counting starts afresh).
    pub fn load(path: &Path) -> Ledger {
        let ledger = Ledger::default();
        match std::fs::read_to_string(path) {
            Ok(text) => match serde_json::from_str::<Books>(&text) {
                Ok(books) => *ledger.books.lock().unwrap_or_else(|p| p.into_inner()) = books,
                Err(e) => {
                    tracing::warn!(error = %e, path = %path.display(), "budget counts not read; counting starts afresh")
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "budget counts not read; counting starts afresh")
            }
        }
        ledger
    }
}

fn view_of(books: &Books, b: &Budget, key: &str) -> BudgetView {
    let used = books.used_by(b, key);
    let caps: Vec<CapView> = b
        .caps
        .iter()
        .map(|c| {
            let n = used.of(c.period, c.unit);
            CapView {
                period: c.period,
                unit: c.unit,
                limit: c.limit,
                used: n,
                ratio: n as f64 / c.limit.max(1) as f64,
            }
        })
        .collect();
    let ratio = b.ratio(&used);
    let state = if ratio >= 1.0 {
        "capped"
    } else if ratio >= b.debug_at {
        "shedding_debug"
    } else if ratio >= WARN_AT {
        "warning"
    } else {
        "ok"
    };
    let shed = books.shed.get(&b.name).and_then(|s| s.get(key));
    let of = |why: Shed| shed.and_then(|s| s.get(&why)).copied().unwrap_or_default();
    let (debug, capped) = (of(Shed::Debug), of(Shed::Capped));
    BudgetView {
        name: b.name.clone(),
        signal: b.signal.name(),
        service: (!key.is_empty()).then(|| key.to_string()),
        caps,
        ratio,
        state,
        shed_records: debug.0 + capped.0,
        shed_bytes: debug.1 + capped.1,
        shed_debug_records: debug.0,
        shed_capped_records: capped.0,
    }
}

fn gauge(name: &str, attributes: String, value: f64, now_ns: i64) -> MetricPointRow {
    let resource = Resource {
        service_name: "redscope".into(),
        resource_attributes: r#"{"service.name":"redscope"}"#.into(),
        scope_name: "redscope.budget".into(),
        ..Resource::default()
    };
    MetricPointRow {
        time_unix_nano: now_ns,
        start_time_unix_nano: now_ns,
        metric_name: name.to_string(),
        metric_type: MetricType::Gauge.as_str().into(),
        unit: String::new(),
        description: String::new(),
        metric_metadata: "{}".into(),
        resource,
        attributes,
        value: Some(value),
        exemplars: "[]".into(),
        ..MetricPointRow::default()
    }
}

/// Keeps the rows whose verdict is `true`; how many left.
fn retain_by<T>(rows: &mut Vec<T>, keep: &[bool]) -> u64 {
    let before = rows.len();
    let mut i = 0;
    rows.retain(|_| {
        let k = keep.get(i).copied().unwrap_or(true);
        i += 1;
        k
    });
    (before - rows.len()) as u64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;

    /// 2026-12-03 12:00 UTC.
    const NOON: i64 = 1_796_299_200_000_000_000;
    const DAY: i64 = 86_400_000_000_000;

    fn budgets(text: &str) -> Vec<Budget> {
        crate::rules::parse_all(text).unwrap().budgets
    }

    /// A log record of exactly 100 bytes as [`log_bytes`] counts them.
    fn log(service: &str, severity: i32, trace_id: &str) -> LogRow {
        let mut r = LogRow {
            resource: Arc::new(Resource {
                service_name: service.into(),
                ..Resource::default()
            }),
            severity_number: severity,
            trace_id: trace_id.into(),
            ..LogRow::default()
        };
        r.body = "x".repeat(100 - log_bytes(&r) as usize);
        r
    }

    fn severities(rows: &[LogRow]) -> Vec<i32> {
        rows.iter().map(|r| r.severity_number).collect()
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("2 GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("1.5kb"), Ok(1500));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(
            parse_size("5 parsecs")
                .unwrap_err()
                .contains("unknown size unit")
        );
    }

    #[test]
    fn a_bad_budget_is_refused_naming_budget_and_field() {
        let text = "[[budget]]\nname = \"b\"\nsignal = \"logz\"\ndaily_bytes = \"5 furlongs\"\n\n[[budget]]\nname = \"c\"\nsignal = \"logs\"\n\n[[budget]]\nname = \"c\"\nsignal = \"spans\"\ndaily_records = 0\ndebug_at = 1.5\n";
        let e = crate::rules::parse_all(text).unwrap_err();
        let found: Vec<(String, String)> = e
            .problems()
            .iter()
            .map(|p| (p.rule.clone().unwrap_or_default(), p.field.clone()))
            .collect();
        for want in [
            ("budget #1 b", "signal"),
            ("budget #1 b", "daily_bytes"),
            ("budget #2 c", "daily_bytes"),
            ("budget #3 c", "name"),
            ("budget #3 c", "daily_records"),
            ("budget #3 c", "debug_at"),
        ] {
            assert!(
                found.iter().any(|(r, f)| (r.as_str(), f.as_str()) == want),
                "{want:?} not in {found:?}"
            );
        }
    }

    #[test]
    fn near_the_cap_debug_goes_first_then_all_but_errors() {
        // 1,000 bytes a day: ten records of 100 bytes.
        let b = budgets("[[budget]]\nname = \"logs\"\nsignal = \"logs\"\ndaily_bytes = 1000\n");
        let ledger = Ledger::default();
        // Eight info records: 80%, all kept.
        let mut rows: Vec<LogRow> = (0..8).map(|_| log("cart", 9, "")).collect();
        assert_eq!(ledger.admit_logs(&b, &mut rows, NOON), 0);
        assert_eq!(ledger.view(&b, NOON)[0].state, "warning");
        // One more info (90%): from now on debug is shed, info still kept.
        let mut rows = vec![log("cart", 9, ""), log("cart", 5, ""), log("cart", 1, "")];
        assert_eq!(ledger.admit_logs(&b, &mut rows, NOON), 2);
        assert_eq!(severities(&rows), [9]);
        assert_eq!(ledger.view(&b, NOON)[0].state, "shedding_debug");
        // At 90% info and warn still fit, until the cap; then only errors.
        let mut rows = vec![
            log("cart", 13, ""),
            log("cart", 9, ""),
            log("cart", 17, ""),
            log("cart", 21, ""),
            log("cart", 5, ""),
        ];
        ledger.admit_logs(&b, &mut rows, NOON);
        assert_eq!(severities(&rows), [13, 17, 21]);
        let v = &ledger.view(&b, NOON)[0];
        assert_eq!(v.state, "capped");
        assert_eq!(
            v.caps[0].used, 1200,
            "errors are stored over the cap, and counted"
        );
        assert_eq!((v.shed_debug_records, v.shed_capped_records), (2, 2));
        assert_eq!((v.shed_records, v.shed_bytes), (4, 400));
        // The next day starts afresh.
        let mut rows = vec![log("cart", 5, "")];
        assert_eq!(ledger.admit_logs(&b, &mut rows, NOON + DAY), 0);
        assert_eq!(ledger.view(&b, NOON + DAY)[0].caps[0].used, 100);
    }

    #[test]
    fn logs_of_a_failed_trace_are_kept_over_the_cap() {
        let b = budgets("[[budget]]\nname = \"logs\"\nsignal = \"logs\"\ndaily_records = 1\n");
        let ledger = Ledger::default();
        let failed = SpanRow {
            trace_id: "t-failed".into(),
            status_code: model::StatusCode::Error.as_str().into(),
            ..SpanRow::default()
        };
        let answered_500 = SpanRow {
            trace_id: "t-500".into(),
            kind: model::SpanKind::Server.as_str().into(),
            http_response_status_code: Some(503),
            ..SpanRow::default()
        };
        ledger.note_spans(&[failed, answered_500, SpanRow::default()]);
        let mut rows = vec![
            log("cart", 9, ""),
            log("cart", 9, "t-ok"),
            log("cart", 9, "t-failed"),
            log("cart", 5, "t-500"),
        ];
        ledger.admit_logs(&b, &mut rows, NOON);
        let traces: Vec<&str> = rows.iter().map(|r| r.trace_id.as_str()).collect();
        assert_eq!(traces, ["", "t-failed", "t-500"]);
    }

    #[test]
    fn a_cap_per_service_counts_each_service_on_its_own() {
        let b = budgets(
            "[[budget]]\nname = \"each\"\nsignal = \"logs\"\nservice = \"*\"\ndaily_records = 2\n\n[[budget]]\nname = \"cart only\"\nsignal = \"logs\"\nservice = \"cart\"\nmonthly_records = 100\n",
        );
        let ledger = Ledger::default();
        let mut rows: Vec<LogRow> = ["cart", "cart", "cart", "web", "web", "web", "web"]
            .iter()
            .map(|s| log(s, 9, ""))
            .collect();
        assert_eq!(ledger.admit_logs(&b, &mut rows, NOON), 3);
        let views = ledger.view(&b, NOON);
        let of = |name: &str, service: &str| {
            views
                .iter()
                .find(|v| v.name == name && v.service.as_deref() == Some(service))
                .unwrap()
                .clone()
        };
        assert_eq!(of("each", "cart").shed_capped_records, 1);
        assert_eq!(of("each", "web").shed_capped_records, 2);
        assert_eq!(of("cart only", "cart").caps[0].used, 2);
        assert_eq!(of("cart only", "cart").state, "ok");
        // Metric points of other budgets' signals are only counted.
        let mut points = vec![MetricPointRow::default(); 3];
        assert_eq!(ledger.admit_points(&b, &mut points, NOON), 0);
    }

    #[test]
    fn invented_service_names_do_not_grow_the_counts_without_bound() {
        let ledger = Ledger::default();
        let names: Vec<String> = (0..MAX_SERVICES + 50).map(|i| format!("svc-{i}")).collect();
        let mut rows: Vec<LogRow> = names.iter().map(|n| log(n, 9, "")).collect();
        ledger.admit_logs(&[], &mut rows, NOON);
        let books = ledger.books.lock().unwrap();
        let logs = &books.used["logs"];
        assert_eq!(logs.len(), MAX_SERVICES + 1);
        assert_eq!(logs[crate::OVERFLOW_VALUE].day_records, 50);
    }

    #[test]
    fn spans_of_failed_traces_pass_a_full_budget() {
        let b = budgets("[[budget]]\nname = \"spans\"\nsignal = \"spans\"\nmonthly_records = 3\n");
        let ledger = Ledger::default();
        let item = |records, worth| Item {
            service: "cart",
            records,
            bytes: 10,
            worth,
        };
        let kept = ledger.admit(
            &b,
            Signal::Spans,
            [
                item(2, Worth::Ordinary),
                item(2, Worth::Ordinary),
                item(5, Worth::Kept),
                item(1, Worth::Ordinary),
            ]
            .into_iter(),
            NOON,
        );
        assert_eq!(kept, [true, true, true, false]);
        assert_eq!(ledger.view(&b, NOON)[0].caps[0].used, 9);
    }

    #[test]
    fn counts_survive_a_restart_and_become_gauges() {
        let b = budgets(
            "[[budget]]\nname = \"logs\"\nsignal = \"logs\"\ndaily_records = 4\nmonthly_bytes = \"1KB\"\n",
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("budgets.json");
        let ledger = Ledger::default();
        let mut rows: Vec<LogRow> = (0..3).map(|_| log("cart", 9, "")).collect();
        ledger.admit_logs(&b, &mut rows, NOON);
        ledger.save(&path).unwrap();
        let again = Ledger::load(&path);
        let v = &again.view(&b, NOON)[0];
        assert_eq!((v.caps[0].used, v.caps[1].used), (3, 300));
        let points = again.points(&b, NOON);
        let ratios: Vec<(String, f64)> = points
            .iter()
            .filter(|p| p.metric_name == USED_RATIO_METRIC)
            .map(|p| (p.attributes.clone(), p.value.unwrap()))
            .collect();
        assert_eq!(ratios.len(), 2);
        assert!(
            ratios
                .iter()
                .any(|(a, r)| a.contains(r#""period":"day""#) && *r == 0.75)
        );
        assert!(
            ratios
                .iter()
                .any(|(a, r)| a.contains(r#""unit":"bytes""#) && *r == 0.3)
        );
        assert!(
            points
                .iter()
                .any(|p| p.metric_name == format!("{SHED_METRIC}_total"))
        );
        // A file that does not read starts afresh instead of stopping the server.
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(Ledger::load(&path).view(&b, NOON)[0].caps[0].used, 0);
    }
}
