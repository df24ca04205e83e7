//! Evaluator tests on series held in memory (selection as the engine does it, without storage).

use super::*;
use crate::eval::{needs, selector_key};

fn labels(text: &str) -> Labels {
    // `name{a="1",b="2"}`
    let (name, rest) = text.split_once('{').unwrap_or((text, "}"));
    let mut pairs = vec![(labels::NAME.to_string(), name.to_string())];
    for kv in rest
        .trim_end_matches('}')
        .split(',')
        .filter(|s| !s.is_empty())
    {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        pairs.push((k.trim().to_string(), v.trim().trim_matches('"').to_string()));
    }
    Labels::new(pairs)
}

fn series(text: &str, samples: &[(i64, f64)]) -> Series {
    Series {
        labels: labels(text),
        samples: samples.iter().map(|(t, v)| (t * 1000, *v)).collect(),
    }
}

/// A series sampled every `every` seconds from 0 to `until`, value `f(t)`.
fn sampled(text: &str, every: i64, until: i64, f: impl Fn(i64) -> f64) -> Series {
    let samples: Vec<(i64, f64)> = (0..=until / every)
        .map(|i| (i * every, f(i * every)))
        .collect();
    series(text, &samples)
}

fn run(
    db: &[Series],
    expr: &str,
    start: i64,
    end: i64,
    step: i64,
    instant: bool,
) -> Result<QueryValue, PromError> {
    let opts = EngineOptions::default();
    let parsed = parse(expr)?;
    let times = QueryTimes {
        start: start * 1000,
        end: end * 1000,
    };
    let mut list = Vec::new();
    needs(&parsed, start * 1000, end * 1000, times, &opts, &mut list);
    let mut data = SelectorData::new();
    for need in list {
        let sets = source::matcher_sets(need.selector.name.as_deref(), &need.selector.matchers);
        let picked = db
            .iter()
            .filter(|s| sets.iter().any(|set| source::matches_all(&s.labels, set)))
            .map(|s| Series {
                labels: s.labels.clone(),
                samples: s
                    .samples
                    .iter()
                    .copied()
                    .filter(|(t, _)| *t >= need.lo && *t <= need.hi)
                    .collect(),
            })
            .collect();
        data.insert(selector_key(need.selector), picked);
    }
    let ts: Vec<i64> = if instant {
        vec![start * 1000]
    } else {
        range_times(start * 1000, end * 1000, step * 1000, 11_000)?
    };
    evaluate_loaded(&parsed, &data, &opts, times, &ts, instant)
}

fn instant(db: &[Series], expr: &str, t: i64) -> Vec<(String, f64)> {
    match run(db, expr, t, t, 1, true) {
        Ok(QueryValue::Vector(v)) => v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect(),
        Ok(QueryValue::Scalar { v, .. }) => vec![("scalar".to_string(), v)],
        other => panic!("{expr}: {other:?}"),
    }
}

fn one(db: &[Series], expr: &str, t: i64) -> f64 {
    let v = instant(db, expr, t);
    assert_eq!(v.len(), 1, "{expr}: {v:?}");
    v[0].1
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn counters() -> Vec<Series> {
    vec![
        // +1 per second, scraped every 15 s.
        sampled(
            "http_requests_total{job=\"api\",code=\"200\"}",
            15,
            3600,
            |t| t as f64,
        ),
        // +0.1 per second, with a restart at 1800 s.
        sampled(
            "http_requests_total{job=\"api\",code=\"500\"}",
            15,
            3600,
            |t| {
                if t < 1800 {
                    t as f64 * 0.1
                } else {
                    (t - 1800) as f64 * 0.1
                }
            },
        ),
        sampled(
            "http_requests_total{job=\"web\",code=\"200\"}",
            15,
            3600,
            |t| 2.0 * t as f64,
        ),
    ]
}

#[test]
fn selectors_look_back_five_minutes_and_stop_at_staleness_markers() {
    let db = vec![
        series("up{job=\"a\"}", &[(0, 1.0), (60, 1.0)]),
        series("up{job=\"b\"}", &[(0, 1.0), (30, convert::stale_nan())]),
    ];
    assert_eq!(instant(&db, "up", 20).len(), 2);
    // b's marker at 30 s ends it; a's last sample (60 s) is seen until 360 s (exclusive).
    assert_eq!(
        instant(&db, "up", 40),
        vec![("up{job=\"a\"}".to_string(), 1.0)]
    );
    assert_eq!(instant(&db, "up", 359).len(), 1);
    assert!(instant(&db, "up", 360).is_empty());
    assert_eq!(instant(&db, "up{job=~\"a|b\"}", 10).len(), 2);
    assert_eq!(instant(&db, "up{job!=\"a\"}", 10).len(), 1);
    assert_eq!(instant(&db, "up{job!~\"a.*\",job=~\".+\"}", 10).len(), 1);
    assert_eq!(instant(&db, "{__name__=\"up\", job=\"b\"}", 10).len(), 1);
}

#[test]
fn rate_increase_and_resets_on_counters() {
    let db = counters();
    let rate = one(
        &db,
        "rate(http_requests_total{code=\"200\",job=\"api\"}[5m])",
        1200,
    );
    assert!(close(rate, 1.0), "{rate}");
    let inc = one(
        &db,
        "increase(http_requests_total{code=\"500\"}[10m])",
        2100,
    );
    // Samples 1515..2100 s: 151.5 → 178.5, a restart, 0 → 30 (the 1.5 before the restart is
    // not seen): 57 over 585 s, extrapolated by the 15 s to the window's start.
    assert!(close(inc, 57.0 * 600.0 / 585.0), "{inc}");
    assert_eq!(
        one(&db, "resets(http_requests_total{code=\"500\"}[1h])", 3600),
        1.0
    );
    let irate = one(&db, "irate(http_requests_total{job=\"web\"}[1m])", 1200);
    assert!(close(irate, 2.0));
    let delta = one(&db, "delta(http_requests_total{job=\"web\"}[2m])", 1200);
    assert!(close(delta, 240.0), "{delta}");
    assert!(close(
        one(&db, "idelta(http_requests_total{job=\"web\"}[2m])", 1200),
        30.0
    ));
    let deriv = one(&db, "deriv(http_requests_total{job=\"web\"}[5m])", 1200);
    assert!(close(deriv, 2.0), "{deriv}");
    let predicted = one(
        &db,
        "predict_linear(http_requests_total{job=\"web\"}[5m], 60)",
        1200,
    );
    assert!(close(predicted, 2520.0), "{predicted}");
    assert_eq!(
        one(&db, "changes(http_requests_total{job=\"web\"}[1m])", 1200),
        3.0
    );
    // Names are dropped by functions that change the meaning of the value.
    assert!(
        instant(&db, "rate(http_requests_total[5m])", 1200)[0]
            .0
            .starts_with('{')
    );
}

#[test]
fn aggregations_group_by_and_without() {
    let db = counters();
    let by_job = instant(&db, "sum by (job) (rate(http_requests_total[5m]))", 1200);
    assert_eq!(by_job.len(), 2);
    assert!(
        close(by_job[0].1, 1.1) && close(by_job[1].1, 2.0),
        "{by_job:?}"
    );
    let without = instant(
        &db,
        "sum without (code) (rate(http_requests_total[5m]))",
        1200,
    );
    assert_eq!(without, by_job);
    assert_eq!(one(&db, "count(http_requests_total)", 1200), 3.0);
    let avg = one(&db, "avg(rate(http_requests_total[5m]))", 1200);
    assert!(close(avg, 3.1 / 3.0));
    assert!(close(
        one(&db, "max(rate(http_requests_total[5m]))", 1200),
        2.0
    ));
    assert!(close(
        one(&db, "min(rate(http_requests_total[5m]))", 1200),
        0.1
    ));
    let top = instant(&db, "topk(2, rate(http_requests_total[5m]))", 1200);
    assert_eq!(top.len(), 2);
    assert!(top[0].0.contains("web"));
    let bottom = instant(&db, "bottomk(1, rate(http_requests_total[5m]))", 1200);
    assert!(bottom[0].0.contains("500"));
    let q = one(&db, "quantile(0.5, rate(http_requests_total[5m]))", 1200);
    assert!(close(q, 1.0));
    let sd = one(&db, "stddev(vector(1) or vector(3))", 0);
    assert!(
        close(sd, 0.0),
        "or keeps only the left vector(): same labels"
    );
    let cv = instant(
        &db,
        "count_values(\"value\", round(rate(http_requests_total[5m])))",
        1200,
    );
    assert_eq!(cv.len(), 3, "{cv:?}");
    assert_eq!(one(&db, "group(http_requests_total)", 1200), 1.0);
    assert!(close(
        one(&db, "stdvar(http_requests_total{code=\"200\"})", 1200),
        360_000.0
    ));
}

#[test]
fn binary_operators_match_vectors() {
    let db = vec![
        series("errors{job=\"a\",code=\"500\"}", &[(0, 2.0)]),
        series("errors{job=\"b\",code=\"500\"}", &[(0, 1.0)]),
        series("requests{job=\"a\"}", &[(0, 10.0)]),
        series("requests{job=\"b\"}", &[(0, 4.0)]),
        series("info{job=\"a\",version=\"1.2\"}", &[(0, 1.0)]),
    ];
    let ratio = instant(&db, "errors / ignoring(code) requests", 10);
    // One-to-one matching drops the ignored labels.
    assert_eq!(
        ratio,
        vec![
            ("{job=\"a\"}".to_string(), 0.2),
            ("{job=\"b\"}".to_string(), 0.25)
        ]
    );
    let on = instant(&db, "errors / on(job) requests", 10);
    assert_eq!(on[0].0, "{job=\"a\"}");
    let joined = instant(&db, "requests * on(job) group_left(version) info", 10);
    assert_eq!(
        joined,
        vec![("{job=\"a\", version=\"1.2\"}".to_string(), 10.0)]
    );
    let right = instant(&db, "info * on(job) group_right(version) requests", 10);
    assert_eq!(right[0].0, "{job=\"a\", version=\"1.2\"}");
    // Comparisons filter and keep the name; `bool` answers 0 or 1.
    assert_eq!(
        instant(&db, "requests > 5", 10),
        vec![("requests{job=\"a\"}".to_string(), 10.0)]
    );
    assert_eq!(instant(&db, "5 < requests", 10).len(), 1);
    assert_eq!(instant(&db, "requests > bool 5", 10).len(), 2);
    assert_eq!(one(&db, "2 > bool 1", 0), 1.0);
    assert_eq!(one(&db, "2 ^ 3 % 5", 0), 3.0);
    assert_eq!(instant(&db, "requests and on(job) errors > 1", 10).len(), 1);
    assert_eq!(
        instant(&db, "requests unless on(job) errors > 1", 10).len(),
        1
    );
    assert_eq!(instant(&db, "requests or info", 10).len(), 3);
    assert!(matches!(
        run(&db, "requests + on() errors", 10, 10, 1, true),
        Err(PromError::Execution(_))
    ));
    assert_eq!(instant(&db, "-requests", 10)[0].1, -10.0);
}

#[test]
fn offset_at_and_subqueries() {
    let db = counters();
    let now = one(&db, "http_requests_total{job=\"web\"}", 1200);
    let before = one(&db, "http_requests_total{job=\"web\"} offset 10m", 1200);
    assert_eq!(now - before, 1200.0);
    assert_eq!(
        one(&db, "http_requests_total{job=\"web\"} @ 600", 1200),
        1200.0
    );
    let r = one(
        &db,
        "rate(http_requests_total{job=\"web\"}[5m] offset 5m)",
        1200,
    );
    assert!(close(r, 2.0));
    let sub = one(
        &db,
        "max_over_time(rate(http_requests_total{code=\"500\"}[1m])[10m:1m])",
        2100,
    );
    assert!(close(sub, 0.1), "{sub}");
    let counted = one(
        &db,
        "count_over_time(http_requests_total{job=\"web\"}[5m:1m])",
        1200,
    );
    assert_eq!(counted, 5.0);
    // In a range query, @ pins every step to one time.
    let Ok(QueryValue::Matrix(m)) = run(
        &db,
        "http_requests_total{job=\"web\"} @ 600",
        900,
        1200,
        60,
        false,
    ) else {
        panic!("range");
    };
    assert!(m[0].samples.iter().all(|s| s.1 == 1200.0));
    assert_eq!(m[0].samples.len(), 6);
}

#[test]
fn over_time_functions() {
    let db = vec![series("g", &[(0, 1.0), (10, 5.0), (20, 3.0), (30, 3.0)])];
    let at = 30;
    assert_eq!(one(&db, "avg_over_time(g[1m])", at), 3.0);
    assert_eq!(one(&db, "min_over_time(g[1m])", at), 1.0);
    assert_eq!(one(&db, "max_over_time(g[1m])", at), 5.0);
    assert_eq!(one(&db, "sum_over_time(g[1m])", at), 12.0);
    assert_eq!(one(&db, "count_over_time(g[1m])", at), 4.0);
    assert_eq!(one(&db, "last_over_time(g[1m])", at), 3.0);
    assert_eq!(one(&db, "present_over_time(g[1m])", at), 1.0);
    assert_eq!(one(&db, "quantile_over_time(0.5, g[1m])", at), 3.0);
    assert!(close(one(&db, "stdvar_over_time(g[1m])", at), 2.0));
    assert!(close(one(&db, "stddev_over_time(g[1m])", at), 2f64.sqrt()));
    assert_eq!(one(&db, "changes(g[1m])", at), 2.0);
    // The window is left-open: at 40 s a 30 s window holds 20 and 30 only.
    assert_eq!(one(&db, "count_over_time(g[30s])", 40), 2.0);
    assert!(instant(&db, "absent_over_time(g[1m])", at).is_empty());
    assert_eq!(
        instant(&db, "absent_over_time(nothing{job=\"x\"}[1m])", at),
        vec![("{job=\"x\"}".to_string(), 1.0)]
    );
    assert_eq!(
        instant(&db, "absent(nothing{job=\"x\",a=~\"b\"})", at),
        vec![("{job=\"x\"}".to_string(), 1.0)]
    );
    assert!(instant(&db, "absent(g)", at).is_empty());
    let hw = one(&db, "double_exponential_smoothing(g[1m], 0.5, 0.5)", at);
    assert!(hw.is_finite());
}

#[test]
fn instant_functions_and_labels() {
    let db = vec![
        series("v{a=\"x-1\",b=\"y\"}", &[(0, -2.5)]),
        series("v{a=\"z-2\",b=\"w\"}", &[(0, 4.0)]),
    ];
    let t = 10;
    let abs = instant(&db, "abs(v)", t);
    assert_eq!(abs.iter().map(|x| x.1).collect::<Vec<_>>(), vec![2.5, 4.0]);
    assert_eq!(instant(&db, "ceil(v)", t)[0].1, -2.0);
    assert_eq!(instant(&db, "floor(v)", t)[0].1, -3.0);
    assert_eq!(instant(&db, "round(v)", t)[0].1, -2.0);
    assert_eq!(instant(&db, "round(v, 2)", t)[1].1, 4.0);
    assert_eq!(
        instant(&db, "clamp(v, -1, 1)", t)
            .iter()
            .map(|x| x.1)
            .collect::<Vec<_>>(),
        vec![-1.0, 1.0]
    );
    assert_eq!(instant(&db, "clamp_min(v, 0)", t)[0].1, 0.0);
    assert_eq!(instant(&db, "clamp_max(v, 0)", t)[1].1, 0.0);
    assert!(instant(&db, "clamp(v, 1, -1)", t).is_empty());
    assert_eq!(instant(&db, "sqrt(v)", t)[1].1, 2.0);
    assert_eq!(instant(&db, "exp(v * 0)", t)[0].1, 1.0);
    assert_eq!(instant(&db, "ln(v)", t)[1].1, 4f64.ln());
    assert_eq!(instant(&db, "log2(v)", t)[1].1, 2.0);
    assert_eq!(instant(&db, "log10(v)", t)[1].1, 4f64.log10());
    assert_eq!(one(&db, "scalar(v{b=\"w\"})", t), 4.0);
    assert!(one(&db, "scalar(v)", t).is_nan());
    assert_eq!(one(&db, "time()", t), 10.0);
    assert_eq!(instant(&db, "timestamp(v)", t)[0].1, 0.0);
    assert_eq!(
        instant(&db, "vector(time())", t),
        vec![("{}".to_string(), 10.0)]
    );
    let sorted = instant(&db, "sort_desc(v)", t);
    assert_eq!(sorted[0].1, 4.0);
    assert_eq!(instant(&db, "sort(v)", t)[0].1, -2.5);
    let replaced = instant(
        &db,
        "label_replace(v, \"k\", \"$1\", \"a\", \"(.*)-.*\")",
        t,
    );
    assert_eq!(replaced[0].0, "v{a=\"x-1\", b=\"y\", k=\"x\"}");
    let joined = instant(&db, "label_join(v, \"k\", \":\", \"a\", \"b\")", t);
    assert_eq!(joined[1].0, "v{a=\"z-2\", b=\"w\", k=\"z-2:w\"}");
    assert_eq!(one(&db, "year(vector(0))", t), 1970.0);
    assert_eq!(one(&db, "days_in_month(vector(0))", t), 31.0);
}

#[test]
fn histogram_quantile_over_buckets() {
    let bucket = |le: &str, v: f64| {
        series(
            &format!("lat_bucket{{job=\"a\",le=\"{le}\"}}"),
            &[(0, 0.0), (60, v)],
        )
    };
    let db = vec![
        bucket("0.1", 50.0),
        bucket("0.5", 90.0),
        bucket("1", 100.0),
        bucket("+Inf", 100.0),
    ];
    let p50 = one(&db, "histogram_quantile(0.5, rate(lat_bucket[2m]))", 60);
    assert!(close(p50, 0.1), "{p50}");
    let p90 = one(
        &db,
        "histogram_quantile(0.9, sum by (le) (rate(lat_bucket[2m])))",
        60,
    );
    assert!(close(p90, 0.5), "{p90}");
    let p99 = one(&db, "histogram_quantile(0.99, lat_bucket)", 60);
    assert!(close(p99, 0.95), "{p99}");
}

#[test]
fn range_queries_answer_a_matrix_per_step() {
    let db = counters();
    let Ok(QueryValue::Matrix(m)) = run(
        &db,
        "sum(rate(http_requests_total[5m]))",
        600,
        1200,
        60,
        false,
    ) else {
        panic!("matrix");
    };
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].samples.len(), 11);
    assert!(m[0].samples.iter().all(|s| close(s.1, 3.1)));
    let Ok(QueryValue::Matrix(scalar)) = run(&db, "time()", 0, 120, 60, false) else {
        panic!("scalar matrix");
    };
    assert_eq!(
        scalar[0].samples,
        vec![(0, 0.0), (60_000, 60.0), (120_000, 120.0)]
    );
    assert!(matches!(
        run(&db, "\"text\"", 0, 60, 60, false),
        Err(PromError::BadData(_))
    ));
    assert!(matches!(
        run(&db, "up", 0, 60, 0, false),
        Err(PromError::BadData(_))
    ));
    assert!(matches!(
        run(&db, "sum(", 0, 60, 60, false),
        Err(PromError::BadData(_))
    ));
    let Ok(QueryValue::Matrix(raw)) = run(
        &db,
        "http_requests_total{job=\"web\"}[1m]",
        600,
        600,
        1,
        true,
    ) else {
        panic!("range vector");
    };
    assert_eq!(raw[0].samples.len(), 4);
}
