//! Web Vitals: the shapes they arrive in made one, their ratings (web.dev's thresholds), and
//! p75 with good / needs-improvement / poor shares per route, release, device class or browser.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::attrs::*;
use crate::event::Event;

/// Upper bounds of "good" and "needs improvement" (milliseconds; CLS unitless).
pub fn thresholds(name: &str) -> Option<(f64, f64)> {
    Some(match name {
        "LCP" => (2500.0, 4000.0),
        "INP" => (200.0, 500.0),
        "CLS" => (0.1, 0.25),
        "FCP" => (1800.0, 3000.0),
        "TTFB" => (800.0, 1800.0),
        "FID" => (100.0, 300.0),
        _ => return None,
    })
}

/// The rating of a value, as the `web-vitals` package names it.
pub fn rate(name: &str, value: f64) -> Option<&'static str> {
    let (good, poor) = thresholds(name)?;
    Some(if value <= good {
        "good"
    } else if value <= poor {
        "needs-improvement"
    } else {
        "poor"
    })
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Makes a `browser.web_vital` record say `browser.web_vital.{name,value,rating,delta,id}`,
/// whatever shape it came in: ours (those attributes), the semantic conventions' (a body map
/// of `name`, `value`, `delta`, `id`) or bare `name`/`value` attributes. Names are upper case.
pub fn normalize_event(attrs: &mut Map<String, Value>, body: &str) {
    let from_body: Map<String, Value> = if body.starts_with('{') {
        serde_json::from_str(body).unwrap_or_default()
    } else {
        Map::new()
    };
    let pick = |ours: &str, short: &str, attrs: &Map<String, Value>| -> Option<Value> {
        attrs
            .get(ours)
            .or_else(|| attrs.get(&format!("web_vital.{short}")))
            .or_else(|| attrs.get(short))
            .or_else(|| from_body.get(short))
            .cloned()
    };
    let Some(name) = pick(VITAL_NAME, "name", attrs)
        .as_ref()
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
    else {
        return;
    };
    let value = pick(VITAL_VALUE, "value", attrs).as_ref().and_then(number);
    let rating = pick(VITAL_RATING, "rating", attrs)
        .and_then(|v| v.as_str().map(str::to_string))
        .or_else(|| value.and_then(|v| rate(&name, v)).map(str::to_string));
    for (key, short) in [(VITAL_DELTA, "delta"), (VITAL_ID, "id")] {
        if let Some(v) = pick(key, short, attrs) {
            attrs.insert(key.to_string(), v);
        }
    }
    attrs.insert(VITAL_NAME.to_string(), Value::String(name));
    if let Some(v) = value.and_then(serde_json::Number::from_f64) {
        attrs.insert(VITAL_VALUE.to_string(), Value::Number(v));
    }
    if let Some(r) = rating {
        attrs.insert(VITAL_RATING.to_string(), Value::String(r));
    }
}

/// One vital of one page view (the last value reported for it).
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub name: String,
    pub value: f64,
    pub rating: Option<String>,
}

/// The vital an event reports, when it is one.
pub fn measurement(e: &Event) -> Option<Measurement> {
    if e.name != EVENT_WEB_VITAL {
        return None;
    }
    let name = e.str(VITAL_NAME)?.to_ascii_uppercase();
    let value = e.attrs.get(VITAL_VALUE).and_then(number)?;
    let rating = e
        .str(VITAL_RATING)
        .map(str::to_string)
        .or_else(|| rate(&name, value).map(str::to_string));
    Some(Measurement {
        name,
        value,
        rating,
    })
}

/// What vitals are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    None,
    Route,
    Release,
    Device,
    Browser,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "" | "none" => GroupBy::None,
            "route" | "page" => GroupBy::Route,
            "release" | "version" => GroupBy::Release,
            "device" | "device.type" => GroupBy::Device,
            "browser" | "browser.name" => GroupBy::Browser,
            _ => return None,
        })
    }

    fn key(self, e: &Event) -> String {
        let v = match self {
            GroupBy::None => return "all".to_string(),
            GroupBy::Route => e.route(),
            GroupBy::Release => e.release.as_deref(),
            GroupBy::Device => e.str(DEVICE_TYPE),
            GroupBy::Browser => e.str(BROWSER_NAME),
        };
        v.unwrap_or("(unknown)").to_string()
    }
}

/// p75 and rating shares of one vital in one group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VitalStats {
    pub name: String,
    pub count: u64,
    pub p75: f64,
    pub good: f64,
    pub needs_improvement: f64,
    pub poor: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VitalsGroup {
    pub key: String,
    pub vitals: Vec<VitalStats>,
}

/// The 75th percentile, nearest rank (the value at or below which three quarters lie).
pub fn p75(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = (values.len() * 3).div_ceil(4).max(1);
    values[rank - 1]
}

/// Vitals per group: the last value of each vital per page view (`page_view.id`, else the
/// event itself), then p75 and shares. Groups with the most measurements first.
pub fn aggregate(events: &[Event], group_by: GroupBy) -> Vec<VitalsGroup> {
    // (page view, vital) → (time, group, measurement), keeping the latest.
    let mut last: BTreeMap<(String, String), (i64, String, Measurement)> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let Some(m) = measurement(e) else { continue };
        let view = match e.page_view_id() {
            Some(id) => format!("{}\u{0}{id}", e.session_id),
            None => format!("#{i}"),
        };
        let key = (view, m.name.clone());
        let group = group_by.key(e);
        match last.get(&key) {
            Some((t, _, _)) if *t > e.time_ns => {}
            _ => {
                last.insert(key, (e.time_ns, group, m));
            }
        }
    }
    let mut groups: BTreeMap<String, BTreeMap<String, Vec<Measurement>>> = BTreeMap::new();
    for (_, (_, group, m)) in last {
        groups
            .entry(group)
            .or_default()
            .entry(m.name.clone())
            .or_default()
            .push(m);
    }
    let mut out: Vec<VitalsGroup> = groups
        .into_iter()
        .map(|(key, by_name)| VitalsGroup {
            key,
            vitals: by_name.into_iter().map(|(n, ms)| stats(n, &ms)).collect(),
        })
        .collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.vitals.iter().map(|v| v.count).sum::<u64>()));
    out
}

fn stats(name: String, ms: &[Measurement]) -> VitalStats {
    let mut values: Vec<f64> = ms.iter().map(|m| m.value).collect();
    let count = ms.len() as u64;
    let share = |r: &str| {
        let n = ms.iter().filter(|m| m.rating.as_deref() == Some(r)).count();
        round4(n as f64 / ms.len().max(1) as f64)
    };
    VitalStats {
        p75: p75(&mut values),
        count,
        good: share("good"),
        needs_improvement: share("needs-improvement"),
        poor: share("poor"),
        name,
    }
}

pub(crate) fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semantic_convention_body_becomes_attributes() {
        let mut attrs = Map::new();
        normalize_event(
            &mut attrs,
            r#"{"name":"lcp","value":3100.5,"delta":10,"id":"v4-1"}"#,
        );
        assert_eq!(attrs[VITAL_NAME], "LCP");
        assert_eq!(attrs[VITAL_VALUE], 3100.5);
        assert_eq!(attrs[VITAL_RATING], "needs-improvement");
        assert_eq!(attrs[VITAL_ID], "v4-1");
        let mut ours = Map::new();
        ours.insert(VITAL_NAME.into(), "CLS".into());
        ours.insert(VITAL_VALUE.into(), 0.3.into());
        ours.insert(VITAL_RATING.into(), "poor".into());
        normalize_event(&mut ours, "");
        assert_eq!(ours[VITAL_RATING], "poor");
    }

    #[test]
    fn p75_is_nearest_rank() {
        assert_eq!(p75(&mut [4.0, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(p75(&mut [1.0]), 1.0);
        assert_eq!(p75(&mut [5.0, 1.0, 2.0, 3.0, 4.0]), 4.0);
        assert_eq!(p75(&mut []), 0.0);
    }

    #[test]
    fn ratings_follow_the_thresholds() {
        assert_eq!(rate("LCP", 2500.0), Some("good"));
        assert_eq!(rate("INP", 300.0), Some("needs-improvement"));
        assert_eq!(rate("CLS", 0.3), Some("poor"));
        assert_eq!(rate("XYZ", 1.0), None);
    }
}
