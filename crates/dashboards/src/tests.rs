#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::builtin::{red_dashboard, red_dashboard_name, red_document};
use crate::validate::{valid_duration, validate};
use crate::{Dashboard, DashboardError, Format, Library};

const CHECKOUT: &str = include_str!("../testdata/checkout.yaml");
const LATENCY: &str = include_str!("../testdata/latency.json");

fn paths(e: &DashboardError) -> Vec<String> {
    e.issues().into_iter().map(|i| i.path).collect()
}

#[test]
fn a_yaml_dashboard_parses_with_its_variables_panels_and_layout() {
    let d = Dashboard::parse(CHECKOUT, Format::Yaml, "checkout.yaml").unwrap();
    assert_eq!(d.name, "checkout-overview");
    assert_eq!(d.project, "shop");
    assert_eq!(d.display_name, "Checkout overview");
    assert_eq!(d.panel_count, 4);
    let vars = d
        .document
        .pointer("/spec/variables")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(
        vars[1]["spec"]["plugin"]["spec"]["values"][1]["label"],
        "p99"
    );
    assert_eq!(vars[2]["spec"]["value"], "timeout");
    let stat = d
        .document
        .pointer("/spec/panels/errors/spec/plugin/spec/calculation");
    assert_eq!(stat, Some(&json!("sum")));
}

#[test]
fn a_json_dashboard_parses_and_keeps_unknown_panel_kinds() {
    let d = Dashboard::parse(LATENCY, Format::Json, "latency.json").unwrap();
    assert_eq!(
        (d.project.as_str(), d.name.as_str(), d.panel_count),
        ("shop", "latency", 2)
    );
    let gauge = d.resolve_ref("#/spec/panels/gauge").unwrap();
    assert_eq!(gauge["spec"]["plugin"]["kind"], "GaugeChart");
    let format = d
        .document
        .pointer("/spec/panels/p99/spec/queries/0/spec/plugin/spec/seriesNameFormat");
    assert_eq!(format, Some(&json!("{{job}}")));
}

#[test]
fn layout_refs_resolve_to_panels() {
    let d = Dashboard::parse(CHECKOUT, Format::Yaml, "checkout.yaml").unwrap();
    let items = d
        .document
        .pointer("/spec/layouts/0/spec/items")
        .unwrap()
        .as_array()
        .unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|i| {
            let panel = d
                .resolve_ref(i["content"]["$ref"].as_str().unwrap())
                .unwrap();
            panel["spec"]["display"]["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(names, ["Request rate", "Errors", "Notes", "Timeouts"]);
    assert!(d.resolve_ref("#/spec/panels/nope").is_none());
    assert!(d.resolve_ref("#/spec/variables/0").is_none());
}

#[test]
fn project_defaults_and_is_written_into_the_document() {
    let d = Dashboard::parse(
        "kind: Dashboard\nmetadata: {name: x}\nspec: {panels: {}}",
        Format::Yaml,
        "x.yaml",
    )
    .unwrap();
    assert_eq!(d.project, "default");
    assert_eq!(d.document["metadata"]["project"], "default");
    assert_eq!(d.display_name, "x");
}

#[test]
fn errors_name_the_file_and_the_json_path() {
    let mut doc: Value = serde_json::from_str(LATENCY).unwrap();
    doc["spec"]["panels"]["p99"]["spec"]["queries"][0]["spec"]["plugin"]["spec"]["query"] =
        json!("");
    doc["spec"]["panels"]["gauge"]["kind"] = json!("Pannel");
    doc["spec"]["layouts"][0]["spec"]["items"][1]["content"]["$ref"] =
        json!("#/spec/panels/missing");
    doc["spec"]["layouts"][0]["spec"]["items"][0]["width"] = json!(30);
    doc["spec"]["duration"] = json!("an hour");
    let e = Dashboard::from_value(doc, "dir/latency.json").unwrap_err();
    assert_eq!(
        paths(&e),
        [
            "spec.duration",
            "spec.panels.gauge.kind",
            "spec.panels.p99.spec.queries[0].spec.plugin.spec.query",
            "spec.layouts[0].spec.items[0].width",
            "spec.layouts[0].spec.items[1].content.$ref",
        ]
    );
    let text = e.to_string();
    assert!(text.starts_with("dir/latency.json: "), "{text}");
    assert!(
        text.contains("spec.panels.gauge.kind: is \"Pannel\", expected \"Panel\""),
        "{text}"
    );
    assert!(
        text.contains("no panel \"missing\" in spec.panels"),
        "{text}"
    );
}

#[test]
fn structural_errors_are_all_reported() {
    let issues = validate(
        &json!({"kind": "Dashbord", "metadata": {"name": "a b"}, "spec": {
            "variables": [{"kind": "TextVariable", "spec": {"name": "v"}}, {"kind": "ListVariable", "spec": {"name": "v", "plugin": {"kind": "StaticListVariable", "spec": {"values": [1]}}}}],
            "panels": {"s": {"kind": "Panel", "spec": {"display": {}, "plugin": {"kind": "StatChart", "spec": {"calculation": "median"}}}}},
            "layouts": [{"kind": "Grid", "spec": {"items": [{"x": -1, "y": 0, "width": 1, "height": 1, "content": {"$ref": "panels/s"}}]}}]
        }}),
    );
    let found: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        found,
        [
            "kind",
            "metadata.name",
            "spec.variables[1].spec.name",
            "spec.variables[1].spec.plugin.spec.values[0]",
            "spec.panels.s.spec.display.name",
            "spec.panels.s.spec.plugin.spec.calculation",
            "spec.layouts[0].spec.items[0].x",
            "spec.layouts[0].spec.items[0].content.$ref",
        ],
        "{issues:?}"
    );
    assert!(validate(&json!([1])).iter().any(|i| i.path == "$"));
    assert!(
        validate(&json!({"kind": "Dashboard", "metadata": {"name": "a"}}))
            .iter()
            .any(|i| i.path == "spec" && i.message == "is required")
    );
}

#[test]
fn text_that_is_not_yaml_or_json_is_a_parse_error_with_its_position() {
    let e = Dashboard::parse("kind: Dashboard\n  bad: [", Format::Yaml, "bad.yaml").unwrap_err();
    assert!(matches!(e, DashboardError::Parse { .. }));
    assert!(
        e.to_string().starts_with("bad.yaml: cannot parse YAML: "),
        "{e}"
    );
    assert!(e.to_string().contains("line"), "{e}");
    let e = Dashboard::parse("{\"kind\": ", Format::Json, "bad.json").unwrap_err();
    assert!(e.to_string().contains("cannot parse JSON"), "{e}");
}

#[test]
fn formats_follow_extensions_and_bodies() {
    assert_eq!(Format::of_path("a/b.YML".as_ref()), Some(Format::Yaml));
    assert_eq!(Format::of_path("a/b.json".as_ref()), Some(Format::Json));
    assert_eq!(Format::of_path("a/README.md".as_ref()), None);
    assert_eq!(Format::sniff("  {\"kind\":1}"), Format::Json);
    assert_eq!(Format::sniff("kind: Dashboard"), Format::Yaml);
    assert!(valid_duration("1h30m") && valid_duration("500ms") && valid_duration("7d"));
    assert!(!valid_duration("1") && !valid_duration("h") && !valid_duration("1 h"));
}

#[test]
fn the_builtin_red_dashboard_round_trips_through_the_parser() {
    let d = red_dashboard("checkout").unwrap();
    assert_eq!(
        (d.project.as_str(), d.name.as_str()),
        ("redscope", "red-checkout")
    );
    assert_eq!(d.panel_count, 8);
    let yaml = d.to_yaml().unwrap();
    let again = Dashboard::parse(&yaml, Format::Yaml, "red-checkout.yaml").unwrap();
    assert_eq!(again.document, red_document("checkout"));
    let json = serde_json::to_string_pretty(&d.document).unwrap();
    assert_eq!(Dashboard::parse(&json, Format::Json, "x.json").unwrap(), d);
    let kinds: Vec<&str> = ["requests", "requests_now", "operations", "error_logs"]
        .iter()
        .map(|p| {
            d.document["spec"]["panels"][p]["spec"]["plugin"]["kind"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        kinds,
        ["TimeSeriesChart", "StatChart", "Table", "LogsTable"]
    );
    let p99 = d
        .document
        .pointer("/spec/panels/duration/spec/queries/2/spec/plugin/spec/query")
        .unwrap();
    assert!(p99.as_str().unwrap().starts_with("histogram_quantile(0.99, sum by (le) (rate(redscope_span_duration_seconds_bucket{job=\"$service\"}"), "{p99}");
}

#[test]
fn builtin_names_are_valid_perses_names() {
    assert_eq!(red_dashboard_name("shop web/api"), "red-shop-web-api");
    let d = red_dashboard("ünïcode service:1").unwrap();
    assert!(crate::validate::valid_name(&d.name), "{}", d.name);
    assert_eq!(
        d.document["spec"]["variables"][0]["spec"]["defaultValue"],
        "ünïcode service:1"
    );
}

#[test]
fn a_directory_lists_valid_and_invalid_files_and_reloads_on_change() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("checkout.yaml"), CHECKOUT).unwrap();
    std::fs::create_dir(dir.path().join("team")).unwrap();
    std::fs::write(dir.path().join("team/latency.json"), LATENCY).unwrap();
    std::fs::write(
        dir.path().join("broken.yml"),
        "kind: Dashboard\nmetadata: {name: b}\nspec: {panels: {p: {kind: Panel}}}",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a dashboard").unwrap();
    let lib = Library::new(Some(dir.path().to_path_buf()));
    assert!(lib.refresh());
    assert!(!lib.refresh(), "nothing changed");
    let files = lib.files();
    assert_eq!(files.len(), 3);
    let broken = files
        .iter()
        .find(|f| f.path.ends_with("broken.yml"))
        .unwrap();
    let err = broken.result.as_ref().unwrap_err();
    assert_eq!(paths(err), ["spec.panels.p.spec"]);
    assert!(err.to_string().contains("broken.yml"), "{err}");
    assert!(lib.get("shop", "latency").is_some());
    assert!(lib.get("shop", "nope").is_none());

    let copy = CHECKOUT.replace("Checkout overview", "Checkout, again");
    std::fs::write(dir.path().join("team/copy.yaml"), copy).unwrap();
    assert!(lib.refresh());
    let dup = lib
        .files()
        .into_iter()
        .find(|f| f.path.ends_with("copy.yaml"))
        .unwrap();
    assert!(
        matches!(dup.result, Err(DashboardError::Duplicate { .. })),
        "{:?}",
        dup.result
    );
    assert_eq!(
        lib.get("shop", "checkout-overview").unwrap().1.display_name,
        "Checkout overview"
    );

    std::fs::remove_file(dir.path().join("team/latency.json")).unwrap();
    assert!(lib.refresh());
    assert!(lib.get("shop", "latency").is_none());
    assert_eq!(lib.stats.reloads.load(Ordering::Relaxed), 3);
}

#[test]
fn no_directory_means_no_files() {
    let lib = Library::new(None);
    assert!(!lib.refresh());
    assert!(lib.files().is_empty());
    let missing = Library::new(Some("/nonexistent/dashboards".into()));
    assert!(missing.refresh());
    assert!(missing.files().is_empty());
}

#[test]
fn saving_writes_a_new_file_or_over_the_one_that_holds_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latency.json"), LATENCY).unwrap();
    let lib = Library::new(Some(dir.path().to_path_buf()));
    lib.refresh();
    let red = red_dashboard("cart").unwrap();
    let path = lib.save(&red).unwrap();
    assert_eq!(path, dir.path().join("redscope/red-cart.yaml"));
    assert_eq!(lib.get("redscope", "red-cart").unwrap().1, red);

    let mut edited = Dashboard::parse(LATENCY, Format::Json, "x").unwrap();
    edited.document["spec"]["display"]["name"] = json!("Latency, saved");
    let path = lib.save(&edited).unwrap();
    assert_eq!(path, dir.path().join("latency.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.trim_start().starts_with('{') && text.contains("Latency, saved"),
        "{text}"
    );
    assert_eq!(
        lib.get("shop", "latency").unwrap().1.display_name,
        "Latency, saved"
    );
    assert!(Library::new(None).save(&red).is_err());
}

#[test]
fn services_are_remembered_for_a_while() {
    let lib = Library::new(None);
    assert!(
        lib.known_services(std::time::Duration::from_secs(10))
            .is_none()
    );
    lib.remember_services(vec!["cart".to_string()]);
    assert_eq!(
        lib.known_services(std::time::Duration::from_secs(10))
            .unwrap(),
        ["cart"]
    );
    assert!(lib.known_services(std::time::Duration::ZERO).is_none());
}
