//! A trace digest: what an agent needs from a trace of any size in a few thousand tokens —
//! the critical path, the error path with its likely origin, repeated siblings collapsed
//! (N+1 queries), key attributes only, and a collapsed outline of the tree.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::render::{Doc, Table, cell, fenced, fmt_ns};

/// The digest's share of the output: a few thousand tokens whatever the trace's size.
pub const DIGEST_BUDGET: usize = 12_000;
const CRITICAL_PATH_MAX: usize = 24;
const ERROR_PATH_MAX: usize = 12;
const REPEATED_MAX: usize = 8;
const TREE_LINES_MAX: usize = 40;

/// One span, as much as the digest uses of it.
#[derive(Debug, Clone)]
pub struct Span {
    pub span_id: String,
    pub parent_span_id: String,
    pub service: String,
    pub name: String,
    pub kind: String,
    pub start: i64,
    pub end: i64,
    pub error: bool,
    pub status_message: String,
    pub attributes: Map<String, Value>,
    pub events: Vec<Value>,
}

impl Span {
    fn from_json(v: &Value) -> Span {
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let int = |k: &str| v.get(k).and_then(Value::as_i64).unwrap_or_default();
        let start = int("start_time_unix_nano");
        Span {
            span_id: text("span_id"),
            parent_span_id: text("parent_span_id"),
            service: text("service_name"),
            name: text("name"),
            kind: text("kind"),
            start,
            end: int("end_time_unix_nano").max(start),
            error: text("status_code").eq_ignore_ascii_case("error"),
            status_message: text("status_message"),
            attributes: v
                .get("attributes")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            events: v
                .get("events")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        }
    }

    pub fn duration(&self) -> i64 {
        self.end - self.start
    }
}

/// A trace with its tree resolved. Orphans (parent not in the trace) and spans caught in a
/// parent cycle are treated as roots, so every span is reachable exactly once.
pub struct Trace {
    pub trace_id: String,
    pub spans: Vec<Span>,
    children: Vec<Vec<usize>>,
    parent: Vec<Option<usize>>,
    depth: Vec<usize>,
    roots: Vec<usize>,
}

impl Trace {
    /// From the API's `GET /api/v1/traces/{id}` answer.
    pub fn from_json(v: &Value) -> Trace {
        let mut spans: Vec<Span> = v
            .get("spans")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(Span::from_json).collect())
            .unwrap_or_default();
        spans.sort_by(|a, b| a.start.cmp(&b.start).then(a.span_id.cmp(&b.span_id)));
        let trace_id = v
            .get("trace_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Trace::new(trace_id, spans)
    }

    /// `spans` must be sorted by start time.
    pub fn new(trace_id: String, spans: Vec<Span>) -> Trace {
        let index: HashMap<&str, usize> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.span_id.as_str(), i))
            .collect();
        let mut parent: Vec<Option<usize>> = spans
            .iter()
            .map(|s| {
                index
                    .get(s.parent_span_id.as_str())
                    .copied()
                    .filter(|p| spans[*p].span_id != s.span_id)
            })
            .collect();
        // Walk down from the true roots; whatever is not reached sits in a cycle: cut it there.
        let mut depth = vec![usize::MAX; spans.len()];
        let mut children = vec![Vec::new(); spans.len()];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(i);
            }
        }
        let mut roots: Vec<usize> = (0..spans.len()).filter(|i| parent[*i].is_none()).collect();
        let mut next_root = 0;
        loop {
            while next_root < roots.len() {
                let mut stack = vec![(roots[next_root], 0usize)];
                next_root += 1;
                while let Some((i, d)) = stack.pop() {
                    if depth[i] != usize::MAX {
                        continue;
                    }
                    depth[i] = d;
                    for c in &children[i] {
                        stack.push((*c, d + 1));
                    }
                }
            }
            let Some(stray) = (0..spans.len()).find(|i| depth[*i] == usize::MAX) else {
                break;
            };
            if let Some(p) = parent[stray].take() {
                children[p].retain(|c| *c != stray);
            }
            roots.push(stray);
        }
        Trace {
            trace_id,
            spans,
            children,
            parent,
            depth,
            roots,
        }
    }

    /// The root the trace is about: a true root (no parent id) first, then the earliest.
    fn main_root(&self) -> Option<usize> {
        self.roots
            .iter()
            .copied()
            .find(|r| self.spans[*r].parent_span_id.is_empty())
            .or_else(|| self.roots.first().copied())
    }

    fn start(&self) -> i64 {
        self.spans.iter().map(|s| s.start).min().unwrap_or(0)
    }

    fn end(&self) -> i64 {
        self.spans.iter().map(|s| s.end).max().unwrap_or(0)
    }

    /// From the main root, at each span the child that ended last.
    pub fn critical_path(&self) -> Vec<usize> {
        let mut path = Vec::new();
        let mut current = self.main_root();
        while let Some(i) = current {
            path.push(i);
            current = self.children[i].iter().copied().max_by(|a, b| {
                let (sa, sb) = (&self.spans[*a], &self.spans[*b]);
                sa.end.cmp(&sb.end).then(sa.start.cmp(&sb.start))
            });
        }
        path
    }

    /// The likely origin of the errors: the deepest error span without failing descendants
    /// (earliest first among equals), then its ancestors up to the root.
    pub fn error_path(&self) -> Vec<usize> {
        let mut has_error_below = vec![false; self.spans.len()];
        for i in 0..self.spans.len() {
            if !self.spans[i].error {
                continue;
            }
            let mut p = self.parent[i];
            while let Some(x) = p {
                if has_error_below[x] {
                    break;
                }
                has_error_below[x] = true;
                p = self.parent[x];
            }
        }
        let origin = (0..self.spans.len())
            .filter(|i| self.spans[*i].error && !has_error_below[*i])
            .max_by(|a, b| {
                self.depth[*a]
                    .cmp(&self.depth[*b])
                    .then(self.spans[*b].start.cmp(&self.spans[*a].start))
            });
        let mut path = Vec::new();
        let mut current = origin;
        while let Some(i) = current {
            path.push(i);
            current = self.parent[i];
        }
        path
    }

    /// Children of one parent with the same service and name, when there are at least two.
    pub fn repeated_groups(&self) -> Vec<Group> {
        let mut out = Vec::new();
        for (p, kids) in self.children.iter().enumerate() {
            for members in group_siblings(&self.spans, kids) {
                if members.len() >= 2 {
                    out.push(Group::new(Some(p), members, &self.spans));
                }
            }
        }
        out.sort_by(|a, b| {
            b.members
                .len()
                .cmp(&a.members.len())
                .then(b.total.cmp(&a.total))
        });
        out
    }
}

/// Siblings grouped by service and name, in order of first appearance.
fn group_siblings(spans: &[Span], kids: &[usize]) -> Vec<Vec<usize>> {
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut groups: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for k in kids {
        let key = (spans[*k].service.as_str(), spans[*k].name.as_str());
        let entry = groups.entry(key).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(*k);
    }
    order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .collect()
}

/// Repeated siblings: one line for many spans.
pub struct Group {
    pub parent: Option<usize>,
    pub members: Vec<usize>,
    pub total: i64,
    pub max: i64,
    pub errors: usize,
}

impl Group {
    fn new(parent: Option<usize>, members: Vec<usize>, spans: &[Span]) -> Group {
        let total = members.iter().map(|m| spans[*m].duration()).sum();
        let max = members
            .iter()
            .map(|m| spans[*m].duration())
            .max()
            .unwrap_or(0);
        let errors = members.iter().filter(|m| spans[**m].error).count();
        Group {
            parent,
            members,
            total,
            max,
            errors,
        }
    }
}

/// The attributes worth an agent's tokens, as `key=value` (values truncated).
pub fn key_attributes(span: &Span) -> String {
    const KEYS: [&str; 9] = [
        "http.request.method",
        "http.route",
        "http.response.status_code",
        "db.system",
        "db.statement",
        "db.query.text",
        "messaging.destination.name",
        "server.address",
        "peer.service",
    ];
    let mut parts = Vec::new();
    let mut push = |k: &str, v: &Value| {
        let max = if k.contains("statement") || k.contains("query") || k.contains("message") {
            80
        } else {
            40
        };
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parts.push(format!("{k}={}", cell(&text, max)));
    };
    for k in KEYS {
        if let Some(v) = span.attributes.get(k) {
            push(k, v);
        }
    }
    for (k, v) in &span.attributes {
        if k.starts_with("rpc.") {
            push(k, v);
        }
    }
    for e in &span.events {
        let Some(attrs) = e.get("attributes").and_then(Value::as_object) else {
            continue;
        };
        for k in ["exception.type", "exception.message"] {
            if let Some(v) = attrs.get(k) {
                push(k, v);
            }
        }
        if let Some(Value::String(st)) = attrs.get("exception.stacktrace") {
            let first = st
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default();
            push("exception.stacktrace", &Value::String(first.to_string()));
        }
    }
    parts.join(" ")
}

/// `service · name (client)`: the kind only where it tells a client from its server.
fn span_label(span: &Span) -> String {
    let kind = match span.kind.to_ascii_uppercase().as_str() {
        "SERVER" | "SPAN_KIND_SERVER" => " (server)",
        "CLIENT" | "SPAN_KIND_CLIENT" => " (client)",
        "PRODUCER" | "SPAN_KIND_PRODUCER" => " (producer)",
        "CONSUMER" | "SPAN_KIND_CONSUMER" => " (consumer)",
        _ => "",
    };
    format!(
        "{} · {}{kind}",
        cell(&span.service, 40),
        cell(&span.name, 80)
    )
}

/// `label · duration [· ✗ ERROR: status]`.
fn span_brief(span: &Span) -> String {
    let mut line = format!("{} · {}", span_label(span), fmt_ns(span.duration()));
    if span.error {
        line.push_str(" · ✗ ERROR");
        if !span.status_message.is_empty() {
            line.push_str(&format!(": {}", cell(&span.status_message, 120)));
        }
    }
    line
}

/// One span on one line: its brief form and its key attributes.
fn span_line(span: &Span) -> String {
    let mut line = span_brief(span);
    let attrs = key_attributes(span);
    if !attrs.is_empty() {
        line.push_str(" · ");
        line.push_str(&attrs);
    }
    line
}

/// The digest of a whole trace, within [`DIGEST_BUDGET`] characters.
pub fn digest(trace: &Trace, ui_base: &str) -> String {
    let mut doc = Doc::new(DIGEST_BUDGET);
    let Some(root) = trace.main_root() else {
        doc.line(format!("trace {} has no spans", trace.trace_id));
        return doc.finish();
    };
    let spans = &trace.spans;
    let errors = spans.iter().filter(|s| s.error).count();
    let mut per_service: BTreeMap<&str, usize> = BTreeMap::new();
    for s in spans {
        *per_service.entry(s.service.as_str()).or_default() += 1;
    }
    doc.line(format!(
        "trace {}: {} spans · {} services · {} · {} error span{}",
        trace.trace_id,
        spans.len(),
        per_service.len(),
        fmt_ns(trace.end() - trace.start()),
        errors,
        if errors == 1 { "" } else { "s" }
    ));
    let error_path = trace.error_path();
    let link = format!("{ui_base}/trace/{}", trace.trace_id);
    match error_path.first() {
        Some(origin) => doc.line(format!(
            "UI: {link} · likely error origin: {link}?span={}",
            spans[*origin].span_id
        )),
        None => doc.line(format!("UI: {link}")),
    }

    let mut body = String::new();
    let mut by_count: Vec<(&str, usize)> = per_service.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let services: Vec<String> = by_count
        .iter()
        .take(15)
        .map(|(s, n)| format!("{} ({n})", cell(s, 40)))
        .collect();
    body.push_str(&format!("root: {}\n", span_line(&spans[root])));
    body.push_str(&format!("services (spans): {}\n", services.join(", ")));
    if trace.roots.len() > 1 {
        body.push_str(&format!(
            "note: {} spans have no parent in this trace (missing or late spans)\n",
            trace.roots.len() - 1
        ));
    }

    body.push_str(&critical_path_section(trace));
    body.push_str(&error_section(trace, &error_path));
    body.push_str(&repeated_section(trace));
    let room = DIGEST_BUDGET.saturating_sub(body.len() + doc_len_estimate());
    body.push_str(&tree_section(trace, room));
    doc.line(fenced(&body));
    doc.line(
        "detail=\"full\" lists every span with ids and timings (paged); find_traces finds related traces",
    );
    doc.finish()
}

/// Room kept for the header lines and the fence around the body.
fn doc_len_estimate() -> usize {
    600
}

fn critical_path_section(trace: &Trace) -> String {
    let path = trace.critical_path();
    let total = (trace.end() - trace.start()).max(1);
    let mut out = format!(
        "\n## critical path ({} spans; at each span the child that finished last)\n",
        path.len()
    );
    let shown: Vec<(usize, usize)> = if path.len() > CRITICAL_PATH_MAX {
        let half = CRITICAL_PATH_MAX / 2;
        path.iter()
            .copied()
            .enumerate()
            .filter(|(n, _)| *n < half || *n >= path.len() - half)
            .collect()
    } else {
        path.iter().copied().enumerate().collect()
    };
    let mut previous = None;
    for (n, i) in shown {
        if previous.is_some_and(|p: usize| n > p + 1) {
            out.push_str(&format!(
                "… {} more steps …\n",
                n - previous.unwrap_or(0) - 1
            ));
        }
        previous = Some(n);
        let span = &trace.spans[i];
        let share = span.duration() as f64 / total as f64 * 100.0;
        // Brief: the attributes are in the tree and at the error origin.
        out.push_str(&format!(
            "{}. {} · {share:.0}% of trace",
            n + 1,
            span_brief(span)
        ));
        if let Some(p) = trace.parent[i] {
            let same = trace.children[p]
                .iter()
                .filter(|c| {
                    trace.spans[**c].service == span.service && trace.spans[**c].name == span.name
                })
                .count();
            if same > 1 {
                out.push_str(&format!(" · last of {same} identical siblings"));
            }
        }
        out.push('\n');
    }
    out
}

fn error_section(trace: &Trace, path: &[usize]) -> String {
    let errors = trace.spans.iter().filter(|s| s.error).count();
    if path.is_empty() {
        return "\n## errors\nno span has error status\n".to_string();
    }
    let mut out = format!(
        "\n## error path ({} error spans; likely origin first, then its callers up to the root)\n",
        errors
    );
    for (n, i) in path.iter().take(ERROR_PATH_MAX).enumerate() {
        let span = &trace.spans[*i];
        // The origin in full; its callers briefly (their details are in the critical path
        // or the tree).
        let line = if n == 0 {
            format!("origin: {}", span_line(span))
        } else {
            format!(
                "caller: {} · {}{}",
                span_label(span),
                fmt_ns(span.duration()),
                if span.error { " · ✗" } else { "" }
            )
        };
        out.push_str(&format!("{line} · span_id={}\n", cell(&span.span_id, 32)));
    }
    if path.len() > ERROR_PATH_MAX {
        out.push_str(&format!(
            "… {} more callers up to the root\n",
            path.len() - ERROR_PATH_MAX
        ));
    }
    // Other failing spans, grouped, so a second independent failure is not missed.
    let on_path: std::collections::HashSet<usize> = path.iter().copied().collect();
    let mut others: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, s) in trace.spans.iter().enumerate() {
        if s.error && !on_path.contains(&i) {
            *others
                .entry((s.service.clone(), s.name.clone()))
                .or_default() += 1;
        }
    }
    if !others.is_empty() {
        let mut list: Vec<((String, String), usize)> = others.into_iter().collect();
        list.sort_by_key(|entry| std::cmp::Reverse(entry.1));
        let shown: Vec<String> = list
            .iter()
            .take(6)
            .map(|((svc, name), n)| format!("{} · {} ×{n}", cell(svc, 30), cell(name, 60)))
            .collect();
        out.push_str(&format!(
            "other error spans: {}{}\n",
            shown.join("; "),
            if list.len() > 6 { "; …" } else { "" }
        ));
    }
    out
}

fn repeated_section(trace: &Trace) -> String {
    let groups: Vec<Group> = trace
        .repeated_groups()
        .into_iter()
        .filter(|g| g.members.len() >= 3)
        .collect();
    if groups.is_empty() {
        return String::new();
    }
    let mut table = Table::new(&[
        "parent", "service", "span", "count", "total", "max", "errors", "example",
    ]);
    for g in groups.iter().take(REPEATED_MAX) {
        let first = &trace.spans[g.members[0]];
        let parent = g
            .parent
            .map(|p| {
                let s = &trace.spans[p];
                format!("{} · {}", cell(&s.service, 30), cell(&s.name, 50))
            })
            .unwrap_or_default();
        table.row(vec![
            parent,
            cell(&first.service, 30),
            cell(&first.name, 60),
            g.members.len().to_string(),
            fmt_ns(g.total),
            fmt_ns(g.max),
            g.errors.to_string(),
            key_attributes(first),
        ]);
    }
    let (text, _) = table.render(usize::MAX);
    let mut out = format!(
        "\n## repeated siblings ({} groups; many identical calls under one parent — an N+1 pattern when large)\n",
        groups.len()
    );
    out.push_str(&text);
    if groups.len() > REPEATED_MAX {
        out.push_str(&format!(
            "… {} smaller groups not shown\n",
            groups.len() - REPEATED_MAX
        ));
    }
    out
}

/// The tree outline, identical siblings on one line, cut at a line and character budget.
fn tree_section(trace: &Trace, room: usize) -> String {
    let mut out = String::from("\n## span tree (identical siblings collapsed)\n");
    let mut lines = 0usize;
    let mut covered = 0usize;
    let mut below_collapsed = 0usize;
    let mut roots = trace.roots.clone();
    roots.sort_by_key(|r| trace.spans[*r].start);
    let mut frontier: Vec<(usize, Vec<usize>)> = group_siblings(&trace.spans, &roots)
        .into_iter()
        .rev()
        .map(|g| (0, g))
        .collect();
    let mut cut = false;
    while let Some((depth, members)) = frontier.pop() {
        let indent = "  ".repeat(depth.min(12));
        let line = if members.len() == 1 {
            format!("{indent}- {}\n", span_line(&trace.spans[members[0]]))
        } else {
            let g = Group::new(None, members.clone(), &trace.spans);
            let first = &trace.spans[members[0]];
            format!(
                "{indent}- ×{} {} · total {} · max {}{} · {}\n",
                members.len(),
                span_label(first),
                fmt_ns(g.total),
                fmt_ns(g.max),
                if g.errors > 0 {
                    format!(" · ✗ {} errors", g.errors)
                } else {
                    String::new()
                },
                key_attributes(first)
            )
        };
        if lines >= TREE_LINES_MAX || out.len() + line.len() > room {
            cut = true;
            break;
        }
        out.push_str(&line);
        lines += 1;
        covered += members.len();
        if members.len() == 1 {
            let kids = &trace.children[members[0]];
            for g in group_siblings(&trace.spans, kids).into_iter().rev() {
                frontier.push((depth + 1, g));
            }
        } else {
            // Descendants of collapsed spans are summarised by count only.
            let below: usize = members.iter().map(|m| subtree_size(trace, *m) - 1).sum();
            covered += below;
            below_collapsed += below;
        }
    }
    if below_collapsed > 0 && !cut {
        out.push_str(&format!(
            "({below_collapsed} spans below collapsed siblings are counted, not listed)\n"
        ));
    }
    if cut {
        out.push_str(&format!(
            "… tree cut to stay within the output budget: {} of {} spans outlined; use detail=\"full\" for all\n",
            covered,
            trace.spans.len()
        ));
    }
    out
}

fn subtree_size(trace: &Trace, i: usize) -> usize {
    let mut n = 0;
    let mut stack = vec![i];
    while let Some(x) = stack.pop() {
        n += 1;
        stack.extend(trace.children[x].iter().copied());
    }
    n
}

/// Every span as a table row, from `offset`, at most `limit` rows.
pub fn full(trace: &Trace, offset: usize, limit: usize, budget: usize) -> (String, Option<usize>) {
    let t0 = trace.start();
    let mut table = Table::new(&[
        "#",
        "start",
        "duration",
        "depth",
        "service",
        "name",
        "kind",
        "status",
        "span_id",
        "parent",
        "attributes",
    ]);
    for (n, s) in trace.spans.iter().enumerate().skip(offset).take(limit) {
        let depth = trace.depth.get(n).copied().unwrap_or(0);
        table.row(vec![
            n.to_string(),
            format!("+{}", fmt_ns(s.start - t0)),
            fmt_ns(s.duration()),
            depth.to_string(),
            cell(&s.service, 30),
            cell(&s.name, 60),
            cell(&s.kind, 10),
            if s.error {
                format!("ERROR {}", cell(&s.status_message, 60))
            } else {
                "ok".to_string()
            },
            s.span_id.clone(),
            s.parent_span_id.clone(),
            cell(&key_attributes(s), 120),
        ]);
    }
    let mut doc = Doc::new(budget);
    let shown = doc.table(&table, 0);
    let next = offset + shown;
    (doc.finish(), (next < trace.spans.len()).then_some(next))
}

#[cfg(test)]
mod tests;
