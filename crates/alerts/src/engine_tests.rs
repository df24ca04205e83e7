#![allow(clippy::unwrap_used)]
use super::*;
use crate::view::{AlertFilter, HistoryFilter};

/// Answers each expression with what the test set, and can be slowed down.
#[derive(Default)]
struct Fake {
    values: std::sync::Mutex<HashMap<String, Vec<Found>>>,
    delay_ms: AtomicU64,
}

impl Fake {
    fn set(&self, expr: &str, found: Vec<(&str, f64)>) {
        let found = found
            .into_iter()
            .map(|(job, v)| Found {
                labels: [("job".to_string(), job.to_string())].into(),
                value: v,
                annotations: BTreeMap::new(),
            })
            .collect();
        self.values.lock().unwrap().insert(expr.to_string(), found);
    }
}

#[async_trait::async_trait]
impl Querier for Fake {
    async fn instant(&self, expr: &str, _at_ms: i64) -> Result<Vec<Found>, String> {
        let delay = self.delay_ms.load(Relaxed);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        self.values
            .lock()
            .unwrap()
            .get(expr)
            .cloned()
            .ok_or_else(|| format!("no data for {expr}"))
    }

    async fn triage(&self, _window_ms: i64, _at_ms: i64) -> Result<Vec<Found>, String> {
        Ok(Vec::new())
    }
}

const RULES: &str = "groups:\n- name: shop\n  interval: 10s\n  rules:\n  - alert: Errors\n    expr: errors\n    for: 20s\n    thresholds: {degraded: 0.05, critical: 0.2}\n";

fn open(fake: &Arc<Fake>, state: Option<PathBuf>) -> Alerts {
    let options = AlertsOptions {
        interval_ms: 10_000,
        state_path: state,
        ..AlertsOptions::default()
    };
    Alerts::open(
        options,
        Arc::clone(fake) as Arc<dyn Querier>,
        Notifier::none(),
    )
    .unwrap()
}

fn firing(a: &Alerts, now: i64) -> Vec<crate::view::AlertView> {
    let filter = AlertFilter {
        state: Some(AlertState::Firing),
        service: None,
    };
    a.alerts_view(&filter, now)
}

#[tokio::test]
async fn a_rule_added_through_the_api_fires_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = state::path_in(dir.path());
    let fake = Arc::new(Fake::default());
    fake.set("errors", vec![("payment", 0.3)]);
    let a = open(&fake, Some(path.clone()));
    assert_eq!(a.add_rules(RULES, true, 0).await.unwrap(), vec!["shop"]);
    assert!(a.rules_view().groups.is_empty(), "a dry run adds nothing");
    a.add_rules(RULES, false, 0).await.unwrap();
    assert_eq!(a.evaluate_once(0).await.events, 1);
    // Not due yet: nothing is evaluated.
    assert_eq!(a.evaluate_once(5_000).await.groups, 0);
    a.evaluate_once(10_000).await;
    assert!(firing(&a, 10_000).is_empty());
    a.evaluate_once(20_000).await;
    let f = firing(&a, 20_000);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, "critical");
    assert_eq!(f[0].service.as_deref(), Some("payment"));
    assert_eq!(f[0].active_at_ms, 0);
    let rules = a.rules_view();
    let r = &rules.groups[0].rules[0];
    assert_eq!((r.health, r.state), ("ok", AlertState::Firing));
    drop(a);

    // As after a crash: the state file is all there is.
    let b = open(&fake, Some(path));
    let f = firing(&b, 25_000);
    assert_eq!(f.len(), 1, "the firing alert is restored");
    assert_eq!(f[0].active_at_ms, 0);
    b.evaluate_once(30_000).await;
    let f = firing(&b, 30_000);
    assert_eq!(
        (f.len(), f[0].fired_at_ms),
        (1, Some(20_000)),
        "still firing, not pending again"
    );
    fake.set("errors", vec![]);
    b.evaluate_once(40_000).await;
    assert!(firing(&b, 40_000).is_empty());
    let all = HistoryFilter {
        start_ms: None,
        end_ms: None,
        rule: None,
        service: Some("payment".into()),
        limit: 100,
    };
    let h = b.history(&all);
    let to: Vec<AlertState> = h.iter().map(|e| e.to).collect();
    assert_eq!(
        to,
        vec![
            AlertState::Inactive,
            AlertState::Firing,
            AlertState::Pending
        ],
        "newest first"
    );
}

#[tokio::test]
async fn rule_errors_are_kept_as_health_and_deleted_groups_resolve_their_alerts() {
    let fake = Arc::new(Fake::default());
    let a = open(&fake, None);
    a.add_rules(RULES, false, 0).await.unwrap();
    a.evaluate_once(0).await;
    let rules = a.rules_view();
    let r = &rules.groups[0].rules[0];
    assert_eq!(r.health, "err");
    assert_eq!(r.last_error.as_deref(), Some("no data for errors"));
    assert_eq!(r.last_evaluation_ms, Some(0));
    assert!(
        a.add_rules("groups: [{name: x, rules: [{alert: A}]}]", true, 0)
            .await
            .is_err()
    );
    assert_eq!(a.stats_json()["rejected_rule_posts"], 1);
    fake.set("errors", vec![("cart", 0.1)]);
    a.evaluate_once(10_000).await;
    assert_eq!(a.rules_view().groups[0].rules[0].health, "ok");
    assert_eq!(a.alerts_view(&AlertFilter::default(), 10_000).len(), 1);
    assert!(a.delete_group("shop", 11_000).await);
    assert!(!a.delete_group("shop", 11_000).await);
    a.evaluate_once(20_000).await;
    assert!(a.alerts_view(&AlertFilter::default(), 20_000).is_empty());
}

#[tokio::test]
async fn evaluations_never_overlap() {
    let fake = Arc::new(Fake::default());
    fake.set("errors", vec![("cart", 0.1)]);
    fake.delay_ms.store(200, Relaxed);
    let a = Arc::new(open(&fake, None));
    a.add_rules(RULES, false, 0).await.unwrap();
    let slow = tokio::spawn({
        let a = Arc::clone(&a);
        async move { a.evaluate_once(0).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(a.evaluate_once(10_000).await.skipped);
    assert!(!slow.await.unwrap().skipped);
    assert_eq!(a.stats.overlaps_skipped.load(Relaxed), 1);
}

#[tokio::test]
async fn silenced_alerts_are_shown_as_silenced() {
    let fake = Arc::new(Fake::default());
    fake.set("errors", vec![("cart", 0.1), ("payment", 0.1)]);
    let a = open(&fake, None);
    let spec = crate::silence::SilenceSpec {
        matchers: vec![crate::silence::Matcher {
            name: "service".into(),
            value: "pay.*".into(),
            is_regex: true,
            is_equal: true,
        }],
        starts_at_ms: None,
        ends_at_ms: 100_000,
        created_by: "ops".into(),
        comment: String::new(),
    };
    // The series have `job`; a templated rule label gives the alerts `service`.
    let rules = RULES.replace(
        "for: 20s",
        "for: 0s\n    labels: {service: '{{ $labels.job }}'}",
    );
    a.add_rules(&rules, false, 0).await.unwrap();
    let id = a.add_silence(spec, 0).await.unwrap();
    a.evaluate_once(0).await;
    let alerts = a.alerts_view(&AlertFilter::default(), 1_000);
    let silenced: Vec<(&str, bool)> = alerts
        .iter()
        .map(|x| (x.labels["service"].as_str(), x.silenced))
        .collect();
    assert_eq!(silenced.len(), 2);
    assert!(
        silenced.contains(&("payment", true)) && silenced.contains(&("cart", false)),
        "{silenced:?}"
    );
    assert!(a.expire_silence(&id, 2_000).await);
    assert!(
        a.alerts_view(&AlertFilter::default(), 3_000)
            .iter()
            .all(|x| !x.silenced)
    );
    assert_eq!(
        a.silences_view(3_000)[0].state,
        crate::silence::SilenceState::Expired
    );
}

#[tokio::test]
async fn the_rules_directory_is_read_again_when_a_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(Fake::default());
    fake.set("errors", vec![]);
    let options = AlertsOptions {
        rules_dir: Some(dir.path().to_path_buf()),
        ..AlertsOptions::default()
    };
    let a = Alerts::open(
        options,
        Arc::clone(&fake) as Arc<dyn Querier>,
        Notifier::none(),
    )
    .unwrap();
    a.evaluate_once(0).await;
    assert!(a.rules_view().groups.is_empty());
    std::fs::write(dir.path().join("shop.yml"), RULES).unwrap();
    a.evaluate_once(60_000).await;
    let v = a.rules_view();
    assert_eq!(v.groups.len(), 1);
    assert_eq!(v.groups[0].file.as_deref(), Some("shop.yml"));
    // A broken edit is reported and the version before stays.
    std::fs::write(
        dir.path().join("shop.yml"),
        "groups:\n- name: shop\n  rules:\n  - alert: X\n    expr: 'rate('\n",
    )
    .unwrap();
    a.evaluate_once(120_000).await;
    let v = a.rules_view();
    assert_eq!(v.groups.len(), 1);
    assert_eq!(v.groups[0].rules[0].name, "Errors");
    assert_eq!(v.errors[0].file.as_deref(), Some("shop.yml"));
    std::fs::remove_file(dir.path().join("shop.yml")).unwrap();
    a.evaluate_once(180_000).await;
    assert!(a.rules_view().groups.is_empty());
}
