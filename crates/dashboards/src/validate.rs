//! Checks that a parsed document is a Perses dashboard this server can show, collecting every
//! problem with its JSON path (`spec.layouts[0].spec.items[2].content.$ref`).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::Issue;

/// How a layout item points at a panel.
pub const PANEL_REF_PREFIX: &str = "#/spec/panels/";

/// The width of a Perses grid.
pub const GRID_COLUMNS: u64 = 24;

/// The calculations a `StatChart` may name.
pub const STAT_CALCULATIONS: &[&str] = &[
    "first",
    "last",
    "first-number",
    "last-number",
    "mean",
    "sum",
    "min",
    "max",
];

struct Checker {
    issues: Vec<Issue>,
}

impl Checker {
    fn issue(&mut self, path: &str, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.to_string(),
            message: message.into(),
        });
    }

    fn object<'a>(
        &mut self,
        value: Option<&'a Value>,
        path: &str,
    ) -> Option<&'a Map<String, Value>> {
        match value {
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                self.issue(path, "must be an object");
                None
            }
            None => {
                self.issue(path, "is required");
                None
            }
        }
    }

    /// A string field that must be there and not be empty.
    fn string<'a>(&mut self, m: &'a Map<String, Value>, key: &str, path: &str) -> Option<&'a str> {
        let path = join(path, key);
        match m.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
            Some(Value::String(_)) => {
                self.issue(&path, "must not be empty");
                None
            }
            Some(_) => {
                self.issue(&path, "must be a string");
                None
            }
            None => {
                self.issue(&path, "is required");
                None
            }
        }
    }

    /// A string field that may be left out.
    fn optional_string(&mut self, m: &Map<String, Value>, key: &str, path: &str) {
        if let Some(v) = m.get(key)
            && !v.is_string()
        {
            self.issue(&join(path, key), "must be a string");
        }
    }

    /// The `plugin` of `parent` (at `path`): its kind, its spec if any, and the spec's path.
    fn plugin<'a>(
        &mut self,
        parent: &'a Map<String, Value>,
        path: &str,
    ) -> Option<(&'a str, Option<&'a Value>, String)> {
        let plugin_path = join(path, "plugin");
        let plugin = self.object(parent.get("plugin"), &plugin_path)?;
        let kind = self.string(plugin, "kind", &plugin_path)?;
        Some((kind, plugin.get("spec"), join(&plugin_path, "spec")))
    }

    /// `kind` must be `expected`.
    fn kind(&mut self, m: &Map<String, Value>, path: &str, expected: &[&str]) -> Option<String> {
        let kind = self.string(m, "kind", path)?.to_string();
        if !expected.contains(&kind.as_str()) {
            let names: Vec<String> = expected.iter().map(|e| format!("\"{e}\"")).collect();
            self.issue(
                &join(path, "kind"),
                format!("is \"{kind}\", expected {}", names.join(" or ")),
            );
            return None;
        }
        Some(kind)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Perses names: letters, digits, `_`, `.` and `-`, at most 75 characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 75
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A Perses duration: `30s`, `1h30m`, `7d` (units ms, s, m, h, d, w, y).
pub fn valid_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// Every problem of `document`; empty when it is a valid dashboard.
pub fn validate(document: &Value) -> Vec<Issue> {
    let mut c = Checker { issues: Vec::new() };
    let Some(root) = c.object(Some(document), "$") else {
        return c.issues;
    };
    c.kind(root, "", &["Dashboard"]);
    if let Some(meta) = c.object(root.get("metadata"), "metadata") {
        if let Some(name) = c.string(meta, "name", "metadata")
            && !valid_name(name)
        {
            c.issue(
                "metadata.name",
                format!("\"{name}\" may hold only letters, digits, '_', '.' and '-' (at most 75)"),
            );
        }
        if let Some(p) = meta.get("project").and_then(Value::as_str)
            && !valid_name(p)
        {
            c.issue(
                "metadata.project",
                format!("\"{p}\" may hold only letters, digits, '_', '.' and '-' (at most 75)"),
            );
        }
    }
    let Some(spec) = c.object(root.get("spec"), "spec") else {
        return c.issues;
    };
    spec_display(&mut c, spec);
    variables(&mut c, spec.get("variables"));
    let panel_ids = panels(&mut c, spec.get("panels"));
    layouts(&mut c, spec.get("layouts"), &panel_ids);
    c.issues
}

fn spec_display(c: &mut Checker, spec: &Map<String, Value>) {
    if let Some(display) = spec.get("display")
        && let Some(d) = c.object(Some(display), "spec.display")
    {
        c.optional_string(d, "name", "spec.display");
        c.optional_string(d, "description", "spec.display");
    }
    for key in ["duration", "refreshInterval"] {
        match spec.get(key) {
            None => {}
            Some(Value::String(s)) if valid_duration(s) => {}
            Some(v) => c.issue(
                &join("spec", key),
                format!("{v} is not a duration such as \"1h\" or \"30s\""),
            ),
        }
    }
}

fn variables(c: &mut Checker, value: Option<&Value>) {
    let Some(value) = value else { return };
    let Some(list) = value.as_array() else {
        c.issue("spec.variables", "must be a list");
        return;
    };
    let mut seen = BTreeSet::new();
    for (i, v) in list.iter().enumerate() {
        let path = format!("spec.variables[{i}]");
        let Some(m) = c.object(Some(v), &path) else {
            continue;
        };
        let kind = c.kind(m, &path, &["ListVariable", "TextVariable"]);
        let spec_path = join(&path, "spec");
        let Some(spec) = c.object(m.get("spec"), &spec_path) else {
            continue;
        };
        if let Some(name) = c.string(spec, "name", &spec_path) {
            if !valid_name(name) {
                c.issue(
                    &join(&spec_path, "name"),
                    format!("\"{name}\" is not a valid variable name"),
                );
            } else if !seen.insert(name.to_string()) {
                c.issue(
                    &join(&spec_path, "name"),
                    format!("variable \"{name}\" is defined twice"),
                );
            }
        }
        match kind.as_deref() {
            Some("TextVariable") => c.optional_string(spec, "value", &spec_path),
            Some("ListVariable") => list_variable(c, spec, &spec_path),
            _ => {}
        }
    }
}

fn list_variable(c: &mut Checker, spec: &Map<String, Value>, path: &str) {
    let Some((kind, plugin_spec, spec_path)) = c.plugin(spec, path) else {
        return;
    };
    match kind {
        "PrometheusLabelValuesVariable" => {
            if let Some(s) = c.object(plugin_spec, &spec_path) {
                c.string(s, "labelName", &spec_path);
            }
        }
        "PrometheusPromQLVariable" => {
            if let Some(s) = c.object(plugin_spec, &spec_path) {
                c.string(s, "expr", &spec_path);
                c.string(s, "labelName", &spec_path);
            }
        }
        "StaticListVariable" => {
            let Some(s) = c.object(plugin_spec, &spec_path) else {
                return;
            };
            let values_path = join(&spec_path, "values");
            match s.get("values").and_then(Value::as_array) {
                Some(values) => {
                    for (i, v) in values.iter().enumerate() {
                        let ok = v.is_string() || v.get("value").is_some_and(Value::is_string);
                        if !ok {
                            c.issue(
                                &format!("{values_path}[{i}]"),
                                "must be a string or {value, label}",
                            );
                        }
                    }
                }
                None => c.issue(&values_path, "must be a list"),
            }
        }
        // Other sources are kept and shown as having no values.
        _ => {}
    }
}

/// The ids of the panels, checking each.
fn panels(c: &mut Checker, value: Option<&Value>) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let Some(map) = c.object(value, "spec.panels") else {
        return ids;
    };
    for (id, panel) in map {
        ids.insert(id.clone());
        let path = format!("spec.panels.{id}");
        let Some(m) = c.object(Some(panel), &path) else {
            continue;
        };
        c.kind(m, &path, &["Panel"]);
        let spec_path = join(&path, "spec");
        let Some(spec) = c.object(m.get("spec"), &spec_path) else {
            continue;
        };
        let display_path = join(&spec_path, "display");
        if let Some(d) = c.object(spec.get("display"), &display_path) {
            c.string(d, "name", &display_path);
        }
        panel_plugin(c, spec, &spec_path);
        queries(c, spec.get("queries"), &join(&spec_path, "queries"));
    }
    ids
}

fn panel_plugin(c: &mut Checker, panel_spec: &Map<String, Value>, path: &str) {
    let Some((kind, plugin_spec, spec_path)) = c.plugin(panel_spec, path) else {
        return;
    };
    let Some(spec) = plugin_spec.and_then(|s| c.object(Some(s), &spec_path)) else {
        return;
    };
    match kind {
        "StatChart" => {
            if let Some(calc) = spec.get("calculation") {
                let known = calc
                    .as_str()
                    .is_some_and(|s| STAT_CALCULATIONS.contains(&s));
                if !known {
                    c.issue(
                        &join(&spec_path, "calculation"),
                        format!("{calc} is not one of {}", STAT_CALCULATIONS.join(", ")),
                    );
                }
            }
        }
        "Markdown" => {
            c.string(spec, "text", &spec_path);
        }
        _ => {}
    }
}

fn queries(c: &mut Checker, value: Option<&Value>, path: &str) {
    let Some(value) = value else { return };
    let Some(list) = value.as_array() else {
        c.issue(path, "must be a list");
        return;
    };
    for (i, q) in list.iter().enumerate() {
        let qpath = format!("{path}[{i}]");
        let Some(m) = c.object(Some(q), &qpath) else {
            continue;
        };
        c.string(m, "kind", &qpath);
        let spec_path = join(&qpath, "spec");
        let Some(spec) = c.object(m.get("spec"), &spec_path) else {
            continue;
        };
        let Some((kind, plugin_spec, pspec_path)) = c.plugin(spec, &spec_path) else {
            continue;
        };
        match kind {
            "PrometheusTimeSeriesQuery" => {
                if let Some(s) = c.object(plugin_spec, &pspec_path) {
                    c.string(s, "query", &pspec_path);
                    c.optional_string(s, "seriesNameFormat", &pspec_path);
                }
            }
            crate::LOG_QUERY_PLUGIN => {
                if let Some(s) = plugin_spec
                    && let Some(s) = c.object(Some(s), &pspec_path)
                {
                    for key in ["service", "severity", "text"] {
                        c.optional_string(s, key, &pspec_path);
                    }
                }
            }
            _ => {}
        }
    }
}

fn layouts(c: &mut Checker, value: Option<&Value>, panel_ids: &BTreeSet<String>) {
    let Some(value) = value else { return };
    let Some(list) = value.as_array() else {
        c.issue("spec.layouts", "must be a list");
        return;
    };
    for (i, layout) in list.iter().enumerate() {
        let path = format!("spec.layouts[{i}]");
        let Some(m) = c.object(Some(layout), &path) else {
            continue;
        };
        c.kind(m, &path, &["Grid"]);
        let spec_path = join(&path, "spec");
        let Some(spec) = c.object(m.get("spec"), &spec_path) else {
            continue;
        };
        let items_path = join(&spec_path, "items");
        let Some(items) = spec.get("items").and_then(Value::as_array) else {
            c.issue(&items_path, "must be a list");
            continue;
        };
        for (j, item) in items.iter().enumerate() {
            grid_item(c, item, &format!("{items_path}[{j}]"), panel_ids);
        }
    }
}

fn grid_item(c: &mut Checker, item: &Value, path: &str, panel_ids: &BTreeSet<String>) {
    let Some(m) = c.object(Some(item), path) else {
        return;
    };
    let mut number = |key: &str, min: u64| -> Option<u64> {
        match m.get(key).and_then(Value::as_u64) {
            Some(n) if n >= min => Some(n),
            _ => {
                c.issue(
                    &join(path, key),
                    format!("must be a whole number of at least {min}"),
                );
                None
            }
        }
    };
    let x = number("x", 0);
    number("y", 0);
    let width = number("width", 1);
    number("height", 1);
    if let (Some(x), Some(w)) = (x, width)
        && x + w > GRID_COLUMNS
    {
        c.issue(
            &join(path, "width"),
            format!(
                "x + width is {}, beyond the grid's {GRID_COLUMNS} columns",
                x + w
            ),
        );
    }
    let content_path = join(path, "content");
    let Some(content) = c.object(m.get("content"), &content_path) else {
        return;
    };
    let Some(reference) = c.string(content, "$ref", &content_path) else {
        return;
    };
    let ref_path = join(&content_path, "$ref");
    match reference.strip_prefix(PANEL_REF_PREFIX) {
        Some(id) if panel_ids.contains(id) => {}
        Some(id) => c.issue(&ref_path, format!("no panel \"{id}\" in spec.panels")),
        None => c.issue(
            &ref_path,
            format!("\"{reference}\" does not start with \"{PANEL_REF_PREFIX}\""),
        ),
    }
}
