// A live incident in the UI: this starts `redscope demo` with a bad deploy of `shipping` that
// began 10 minutes ago (inside an hour of history: its one true cause, see
// crates/redscope/src/demo.rs) and checks, in headless Debian Chromium driven by
// playwright-core, that the home page flags shipping and names the cause, that the Service
// page draws the deploy and the previous period, that the Triage page ranks the cause first
// with working trace links, and the Alerts page (rules, a firing alert, a silence created from
// it and expired).
//
//   REDSCOPE_BIN   the redscope binary, default target/debug/redscope of the repository
//   REDSCOPE_URL   use this running server instead (started with the same fault)
//   CHROMIUM       browser binary, default /usr/bin/chromium
//
// Needs the UI built into web/dist (`npm run build`). Run: `npm run test:incident`.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launchBrowser, sleep, startDemo } from './demo.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'web', 'test-artifacts');
mkdirSync(artifacts, { recursive: true });
const bin = process.env.REDSCOPE_BIN || join(root, 'target', 'debug', 'redscope');
const CAUSE = 'shipping';
const NEW_VERSION = '1.5.0';
let demo;
let browser;
let API = process.env.REDSCOPE_URL?.replace(/\/$/, '');
/** Whether the server has the alerts API (GET /api/v1/rules answers). */
let alertsApi = false;

before(async () => {
  if (!API) {
    demo = await startDemo({
      bin,
      cwd: root,
      prefix: 'redscope-incident-',
      args: ['--rate', '10', '--backfill', '60m', '--fault', 'bad_deploy@10m'],
    });
    API = demo.url;
  }
  // The history is in and judged: triage names the cause (what the pages are checked against).
  let top = null;
  for (const until = Date.now() + 300_000; Date.now() < until; ) {
    const r = await fetch(`${API}/api/v1/triage`);
    top = r.ok ? (await r.json()).candidates[0] : null;
    if (top?.service === CAUSE) break;
    await sleep(1000);
  }
  assert.equal(top?.service, CAUSE, `triage ranks ${CAUSE} first: ${JSON.stringify(top)}`);
  alertsApi = (await fetch(`${API}/api/v1/rules`)).status !== 404;
  if (alertsApi) await addFiringRule();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

const GROUP = 'incident-test';
const RULE = 'ShippingErrors';

/** A rule on shipping's error ratio, evaluated every 5 s, added through the API; waits until it fires. */
async function addFiringRule() {
  const rules = {
    groups: [
      {
        name: GROUP,
        interval: '5s',
        rules: [
          {
            alert: RULE,
            expr: `sum by (job) (rate(redscope_span_errors_total{job="${CAUSE}"}[5m])) / sum by (job) (rate(redscope_span_requests_total{job="${CAUSE}"}[5m])) > 0.05`,
            labels: { severity: 'critical', service: CAUSE },
            annotations: { summary: `${CAUSE} fails {{ $value | humanizePercentage }} of its requests` },
          },
        ],
      },
    ],
  };
  const r = await fetch(`${API}/api/v1/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rules) });
  assert.equal(r.status, 200, `POST /api/v1/rules: ${await r.text()}`);
  for (const until = Date.now() + 60_000; Date.now() < until; await sleep(1000)) {
    const { alerts } = await getJson('/api/v1/alerts?state=firing');
    if (alerts.some((a) => a.rule === RULE)) return;
  }
  assert.fail(`${RULE} did not fire within a minute`);
}

async function getJson(path) {
  const r = await fetch(`${API}${path}`);
  assert.ok(r.ok, `GET ${path}: ${r.status}`);
  return r.json();
}

/** A page that records uncaught errors, console errors and failed API answers (`allow`: regexes of expected ones). */
async function newPage(allow = []) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(60000);
  page.problems = [];
  page.allow = allow;
  const problem = (p) => page.allow.some((r) => r.test(p)) || page.problems.push(p);
  page.on('pageerror', (e) => problem(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problem(`console: ${m.text()}`));
  page.on('response', (r) => r.status() >= 400 && new URL(r.url()).pathname.startsWith('/api/') && problem(`HTTP ${r.status()} ${r.url()}`));
  return page;
}

/** Until nothing is loading and no request is in flight. */
const settled = (page) => page.waitForFunction(() => !document.querySelector('.state.loading') && !document.documentElement.dataset.busy);

/** A missing alerts API answers 404: expected, and shown as a note, while it is missing. */
const ALERTS_404 = [/HTTP 404 .*\/api\/v1\/(alerts|rules|silences)/, /console: Failed to load resource: .* 404/];

describe('a live incident (bad deploy of shipping)', () => {
  test('the home page flags the faulty service first and names the cause at the top', async () => {
    const page = await newPage(alertsApi ? [] : ALERTS_404);
    await page.goto(`${API}/services?from=now-30m`);
    const banner = page.locator('[data-testid=incident-banner]');
    await banner.waitFor();
    await settled(page);
    assert.equal(await banner.getAttribute('data-service'), CAUSE);
    const text = await banner.textContent();
    assert.match(text, new RegExp(`^\\s*${CAUSE}: .*errors`), `the banner says what is wrong: ${text}`);
    assert.match(text, new RegExp(`new version ${NEW_VERSION.replace(/\./g, '\\.')}`), text);
    assert.match(text, /since \d\d:\d\d/, `the banner says since when: ${text}`);
    const rows = await page.$$eval('[data-testid=services-table] tbody tr', (trs) =>
      trs.map((tr) => ({
        name: tr.querySelector('.svc-link').textContent.trim(),
        level: tr.querySelector('[data-testid=svc-health]').dataset.level,
        cls: tr.className,
        err: parseFloat(tr.querySelector('[data-testid=error-rate]').textContent),
        errDelta: tr.querySelector('[data-testid=error-delta]')?.textContent ?? '',
        deploy: tr.querySelector('[data-testid=svc-deploy]')?.textContent ?? '',
        triage: tr.querySelector('[data-testid=svc-triage]')?.textContent ?? '',
        alerts: tr.querySelector('[data-testid=svc-alerts]')?.textContent ?? '',
      })),
    );
    const first = rows[0];
    assert.equal(first.name, CAUSE, `the cause is listed first: ${JSON.stringify(rows)}`);
    assert.equal(first.level, 'critical');
    assert.match(first.cls, /health-critical/, 'its row is flagged');
    assert.match(first.triage, /likely cause/);
    if (alertsApi) assert.match(first.alerts, /^1 critical$/, `its firing alert: ${first.alerts}`);
    assert.match(first.deploy, new RegExp(`deployed ${NEW_VERSION.replace(/\./g, '\\.')}`), 'the deploy is marked');
    assert.match(first.errDelta, /↑ \+\d+(\.\d)? pts/, `the error ratio rose against the previous period: ${first.errDelta}`);
    // It comes first although another service shows a higher error rate over the hour (checkout
    // fails 6% of the time even when healthy): what counts is the change.
    const worse = rows.find((r) => r.name !== CAUSE && r.err > first.err);
    assert.ok(worse, `another service has a higher absolute error rate: ${JSON.stringify(rows)}`);
    // A service the deploy does not touch is not flagged.
    const calm = rows.find((r) => r.name === 'catalog');
    assert.equal(calm?.level, 'ok', `catalog is fine: ${JSON.stringify(calm)}`);
    // The banner leads to the evidence.
    await page.screenshot({ path: join(artifacts, 'incident-home.png'), fullPage: true });
    await page.click('[data-testid=banner-triage-link]');
    await page.waitForURL((u) => u.pathname === '/triage');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('the Service page draws the deploy and the previous period on its RED charts', async () => {
    const page = await newPage();
    const opened = Date.now();
    await page.goto(`${API}/service/${CAUSE}?from=now-30m`);
    const charts = page.locator('[data-testid=red-charts]');
    await charts.waitFor();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=red-charts]')?.dataset.markers) > 0);
    await settled(page);
    // One marker per chart, labelled with the new version, inside the plot.
    const markers = await page.$$eval('[data-testid=red-charts] [data-testid=deploy-marker]', (m) =>
      m.map((x) => ({ label: x.textContent, left: parseFloat(x.style.left), width: x.parentElement.clientWidth })),
    );
    assert.equal(markers.length, 2, `a deploy marker on each chart: ${JSON.stringify(markers)}`);
    // Where the API says the new version was first seen, as a share of the 30 minutes shown.
    const { deploys } = await getJson(`/api/v1/deploys?service=${CAUSE}&from=now-30m`);
    const deploy = deploys.find((d) => d.version === NEW_VERSION);
    assert.equal(deploy?.previous_version, '1.4.2', JSON.stringify(deploys));
    const share = (deploy.at_ms - (opened - 30 * 60e3)) / (30 * 60e3);
    for (const m of markers) {
      assert.equal(m.label, NEW_VERSION);
      assert.ok(Math.abs(m.left / m.width - share) < 0.05, `the marker is where the deploy happened (${share.toFixed(2)} of the way): ${JSON.stringify(m)}`);
    }
    // The previous 30 minutes are drawn dashed, with data (the history covers them).
    const prev = Number(await charts.getAttribute('data-previous-points'));
    assert.ok(prev >= 10, `the previous period has points: ${prev}`);
    const legends = await page.$$eval('[data-testid=red-charts] .u-legend .u-series .u-label', (l) => l.map((x) => x.textContent));
    assert.ok(legends.includes('requests, previous period') && legends.includes('p99, previous period'), `overlay series: ${legends}`);
    await page.screenshot({ path: join(artifacts, 'incident-service.png'), fullPage: true });
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('the Triage page ranks the true cause first, with evidence, a working trace link and entry points', async () => {
    const page = await newPage();
    await page.goto(`${API}/triage`);
    const first = page.locator('[data-testid=cause]').first();
    await first.waitFor();
    await settled(page);
    assert.equal(await first.getAttribute('data-rank'), '1');
    assert.equal(await first.getAttribute('data-service'), CAUSE);
    const evidence = await first.locator('[data-testid=cause-evidence]').textContent();
    assert.match(evidence, /error rate/, evidence);
    assert.match(evidence, new RegExp(`service\\.version ${NEW_VERSION.replace(/\./g, '\\.')}`), evidence);
    assert.ok((await first.locator('[data-testid=cause-pattern]').count()) > 0, 'the new error log pattern is shown');
    const entries = await first.locator('[data-testid=cause-entry]').allTextContents();
    assert.ok(entries.some((e) => /POST \/checkout/.test(e)), `the checkout entry point is affected: ${entries}`);
    assert.match(await first.locator('[data-testid=cause-users]').textContent(), /users|not known/);
    // Logs and traces links carry the filters.
    const logs = new URL(await first.locator('[data-testid=cause-logs-link]').getAttribute('href'), API);
    assert.equal(logs.searchParams.get('service'), CAUSE);
    const traces = new URL(await first.locator('[data-testid=cause-traces-link]').getAttribute('href'), API);
    assert.deepEqual([traces.searchParams.get('service'), traces.searchParams.get('status')], [CAUSE, 'error']);
    await page.screenshot({ path: join(artifacts, 'incident-triage.png'), fullPage: true });
    // An example trace opens, and goes through the cause.
    const link = first.locator('[data-testid=cause-trace]').first();
    const id = (await link.getAttribute('href')).split('?')[0].split('/').pop();
    await link.click();
    await page.waitForURL((u) => u.pathname === `/trace/${id}`);
    await page.locator('[data-testid=wf-row]').first().waitFor();
    const services = await page.$$eval('[data-testid=wf-row]', (r) => r.map((x) => x.textContent));
    assert.ok(services.some((t) => t.includes(CAUSE)), `the trace has spans of ${CAUSE}`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('the Alerts page shows rules and alerts, or says alerts are not configured', async () => {
    const page = await newPage(alertsApi ? [] : ALERTS_404);
    await page.goto(`${API}/alerts`);
    await page.locator('[data-testid=alerts-silences]').waitFor();
    await settled(page);
    if (!alertsApi) {
      // Each section says so; the page still works.
      assert.equal(await page.locator('[data-testid=alerts-missing]').count(), 4);
      assert.equal(await page.locator('[data-testid=error-box]').count(), 0);
      assert.equal((await page.textContent('h1')).trim(), 'Alerts');
      assert.deepEqual(page.problems, []);
      await page.context().close();
      return;
    }
    assert.equal(await page.locator('[data-testid=alerts-missing]').count(), 0);
    // The rule added for this test, in its group, with its expression and state.
    const rule = page.locator(`[data-testid=rule-group][data-group=${GROUP}] [data-testid=rule-row][data-rule=${RULE}]`);
    await rule.waitFor();
    assert.match(await rule.textContent(), /redscope_span_errors_total/);
    assert.equal(await rule.getAttribute('data-state'), 'firing');
    // The firing alert, with its severity and annotation.
    const alert = page.locator(`[data-testid=alert-row][data-rule=${RULE}]`);
    assert.equal(await alert.getAttribute('data-state'), 'firing');
    const text = await alert.textContent();
    assert.match(text, /critical/);
    assert.match(text, new RegExp(`${CAUSE} fails`));
    await page.screenshot({ path: join(artifacts, 'incident-alerts.png'), fullPage: true });
    // A silence from the alert: its labels filled in; it shows as active, then expires.
    await alert.locator('[data-testid=silence-alert]').click();
    const matchers = await page.inputValue('[data-testid=silence-matchers]');
    assert.match(matchers, new RegExp(`^alertname=${RULE}$`, 'm'));
    assert.match(matchers, new RegExp(`^service=${CAUSE}$`, 'm'));
    await page.fill('[data-testid=silence-comment]', 'rolling back shipping');
    await page.click('[data-testid=silence-submit]');
    const row = page.locator('[data-testid=silence-row]', { hasText: 'rolling back shipping' });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-state'), 'active');
    assert.match(await row.textContent(), new RegExp(`alertname=${RULE}`));
    const { silences } = await getJson('/api/v1/silences');
    const made = silences.find((x) => x.comment === 'rolling back shipping');
    assert.ok(made && made.matchers.some((m) => m.name === 'service' && m.value === CAUSE && m.is_equal && !m.is_regex), JSON.stringify(made));
    await row.locator('[data-testid=expire-silence]').click();
    await page.waitForFunction((id) => document.querySelector(`[data-testid=silence-row][data-id="${id}"]`)?.dataset.state === 'expired', made.id);
    assert.deepEqual(page.problems, []);
    // Without the admin scope the server refuses (403); the form says what the server said.
    const refusal = 'the token lacks the admin scope';
    page.allow = [/HTTP 403 .*\/api\/v1\/silences/, /console: Failed to load resource: .* 403/];
    await page.route('**/api/v1/silences', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error: { code: 'forbidden', message: refusal } }) })
        : route.continue(),
    );
    await page.click('[data-testid=new-silence]');
    await page.fill('[data-testid=silence-matchers]', `service=${CAUSE}`);
    await page.click('[data-testid=silence-submit]');
    assert.equal((await page.locator('[data-testid=silence-error]').textContent()).trim(), refusal);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
