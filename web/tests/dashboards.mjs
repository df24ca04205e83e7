// Browser test of dashboards as code: starts its own `redscope demo` (with half an hour of
// history) whose dashboards directory holds a Perses dashboard written here and an invalid
// file, then opens the Dashboards page and the dashboards in headless Debian Chromium and
// checks that time series are drawn, stats show numbers, tables and log panels have rows from
// the demo's data, an unknown panel kind shows as unsupported, and no page logs an error.
//
//   REDSCOPE_BIN  the redscope binary, default ../target/debug/redscope
//   CHROMIUM      browser binary, default /usr/bin/chromium
//
// Needs the built UI (`npm run build`). Run: `node --test tests/dashboards.mjs`.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launchBrowser, sleep, startDemo } from './demo.mjs';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(webDir, '..');
const BIN = process.env.REDSCOPE_BIN || join(root, 'target', 'debug', 'redscope');
const artifacts = join(webDir, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });
const boards = mkdtempSync(join(tmpdir(), 'redscope-dashboards-'));
const RANGE = 'from=now-30m';
let demo;
let browser;
let API;
/** A service of the demo with error logs (its built-in dashboard's log panel has rows). */
let erring;

// A Perses dashboard as a user writes it: a time series per service, a stat, a Markdown note,
// the frontend's logs holding a word from a text variable, and a kind this UI does not draw.
const FILE = `kind: Dashboard
metadata: {name: shop-overview, project: shop}
spec:
  display: {name: Shop overview}
  duration: 30m
  variables:
    - kind: TextVariable
      spec: {name: words, value: ''}
    - kind: ListVariable
      spec:
        name: job
        defaultValue: frontend
        plugin: {kind: StaticListVariable, spec: {values: [frontend, checkout]}}
  panels:
    rate:
      kind: Panel
      spec:
        display: {name: Requests by service}
        plugin: {kind: TimeSeriesChart, spec: {}}
        queries:
          - kind: TimeSeriesQuery
            spec: {plugin: {kind: PrometheusTimeSeriesQuery, spec: {query: 'sum by (job) (rate(redscope_span_requests_total[$__rate_interval]))', seriesNameFormat: '{{job}}'}}}
    total:
      kind: Panel
      spec:
        display: {name: 'Requests of \${job}'}
        plugin: {kind: StatChart, spec: {calculation: max, format: {unit: requests/sec}}}
        queries:
          - kind: TimeSeriesQuery
            spec: {plugin: {kind: PrometheusTimeSeriesQuery, spec: {query: 'sum(rate(redscope_span_requests_total{job="$job"}[5m]))'}}}
    notes:
      kind: Panel
      spec:
        display: {name: Notes}
        plugin: {kind: Markdown, spec: {text: "## On call\\nAsk **payments** first."}}
    logs:
      kind: Panel
      spec:
        display: {name: Logs of $job}
        plugin: {kind: LogsTable, spec: {}}
        queries:
          - kind: LogQuery
            spec: {plugin: {kind: RedscopeLogQuery, spec: {service: $job, text: $words, limit: 20}}}
    gauge:
      kind: Panel
      spec:
        display: {name: A gauge}
        plugin: {kind: GaugeChart, spec: {}}
  layouts:
    - kind: Grid
      spec:
        items:
          - {x: 0, y: 0, width: 16, height: 8, content: {$ref: '#/spec/panels/rate'}}
          - {x: 16, y: 0, width: 8, height: 4, content: {$ref: '#/spec/panels/total'}}
          - {x: 16, y: 4, width: 8, height: 4, content: {$ref: '#/spec/panels/gauge'}}
          - {x: 0, y: 8, width: 8, height: 6, content: {$ref: '#/spec/panels/notes'}}
          - {x: 8, y: 8, width: 16, height: 8, content: {$ref: '#/spec/panels/logs'}}
`;

async function getJson(path) {
  const r = await fetch(`${API}${path}`);
  assert.ok(r.ok, `GET ${path}: ${r.status}`);
  return r.json();
}

/** Waits until the demo's history is queryable: RED by PromQL and error logs. */
async function waitForData() {
  for (let i = 0; i < 300; i++) {
    const prom = await getJson(`/prometheus/api/v1/query?query=${encodeURIComponent('sum by (job) (increase(redscope_span_requests_total[30m]))')}`);
    const logs = await getJson(`/api/v1/logs?${RANGE}&severity_min=ERROR&limit=1`);
    if (prom.data.result.length >= 3 && logs.records.length) return logs.records[0].service_name;
    await sleep(500);
  }
  throw new Error('the demo never had RED metrics and error logs');
}

before(async () => {
  assert.ok(existsSync(join(webDir, 'dist', 'index.html')), 'the UI is built (npm run build)');
  writeFileSync(join(boards, 'shop.yaml'), FILE);
  writeFileSync(join(boards, 'broken.yaml'), 'kind: Dashboard\nmetadata: {name: broken}\nspec:\n  panels: {}\n  layouts: [{kind: Grid, spec: {items: [{x: 0, y: 0, width: 4, height: 4, content: {$ref: "#/spec/panels/gone"}}]}}]\n');
  // The demo inherits the environment: its dashboards directory is this one.
  process.env.REDSCOPE_DASHBOARDS__DIR = boards;
  process.env.REDSCOPE_SERVER__UI_DIR = join(webDir, 'dist');
  demo = await startDemo({ bin: BIN, cwd: root, args: ['--rate', '10', '--backfill', '30m'], prefix: 'redscope-dash-' });
  API = demo.url;
  erring = await waitForData();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
  rmSync(boards, { recursive: true, force: true });
});

/** A page that records console errors, uncaught exceptions and failed answers as problems. */
async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(60000);
  page.problems = [];
  page.on('console', (m) => m.type() === 'error' && page.problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => r.status() >= 400 && page.problems.push(`HTTP ${r.status()} ${r.url()}`));
  return page;
}

const panel = (page, id) => page.locator(`[data-testid="dash-panel"][data-panel="${id}"]`);

/** The drawn paths of a time series panel: each must hold lines, not just a move. A flat line
 * (a p50 far below the p99 on the same axis) has an empty bounding box, which Playwright calls
 * hidden, so the paths are awaited as attached, and their `d` is what the callers check. */
async function pathsOf(page, id) {
  const paths = panel(page, id).locator('[data-testid="ts-path"]');
  await paths.first().waitFor({ state: 'attached' });
  const ds = await paths.evaluateAll((ps) => ps.map((p) => p.getAttribute('d') ?? ''));
  return ds;
}

/** The numeric value a stat panel shows. */
async function statOf(page, id) {
  const v = panel(page, id).locator('[data-testid="stat-value"]');
  await v.waitFor();
  return { value: Number(await v.getAttribute('data-value')), text: (await v.textContent()).trim() };
}

test('the Dashboards page lists built-in, file and invalid dashboards', async () => {
  const page = await newPage();
  await page.goto(`${API}/dashboards?${RANGE}`);
  const rows = page.locator('[data-testid="dashboard-row"]');
  await rows.first().waitFor();
  const file = page.locator('[data-testid="dashboard-row"][data-name="shop-overview"]');
  await file.waitFor();
  assert.match(await file.textContent(), /Shop overview.*shop\/shop-overview.*shop\.yaml.*5/s);
  const builtin = page.locator(`[data-testid="dashboard-row"][data-source="builtin"][data-name="red-${erring}"]`);
  assert.match(await builtin.textContent(), new RegExp(`${erring} RED.*redscope/red-${erring}.*built in.*8`, 's'));
  const builtins = await page.locator('[data-testid="dashboard-row"][data-source="builtin"]').count();
  assert.ok(builtins >= 5, `a built-in dashboard per demo service, got ${builtins}`);
  const error = page.locator('[data-testid="dashboard-error"]');
  assert.match(await error.textContent(), /spec\.layouts\[0\]\.spec\.items\[0\]\.content\.\$ref.*no panel "gone"/);
  await page.screenshot({ path: join(artifacts, 'dashboards-list.png') });
  await file.locator('a').click();
  await page.waitForURL(/\/dashboards\/shop\/shop-overview/);
  await panel(page, 'rate').waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a file dashboard renders time series, stat, markdown, logs and an unsupported panel', async () => {
  const page = await newPage();
  await page.goto(`${API}/dashboards/shop/shop-overview?${RANGE}`);
  const ds = await pathsOf(page, 'rate');
  assert.ok(ds.length >= 3, `a line per service, got ${ds.length}`);
  for (const d of ds) assert.match(d, /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){5,}/, `a drawn line: ${d.slice(0, 80)}`);
  const legend = await panel(page, 'rate').locator('[data-testid="ts-legend"]').allTextContents();
  assert.ok(legend.some((l) => l.startsWith('frontend')), `series named by {{job}}: ${legend}`);
  const stat = await statOf(page, 'total');
  assert.ok(stat.value > 0 && /\/s|\/min/.test(stat.text), `requests/s of frontend: ${JSON.stringify(stat)}`);
  assert.match(await panel(page, 'total').locator('.dash-panel-head').textContent(), /Requests of frontend/);
  assert.equal((await panel(page, 'notes').locator('h2').textContent()).trim(), 'On call');
  assert.equal((await panel(page, 'notes').locator('strong').textContent()).trim(), 'payments');
  await panel(page, 'logs').locator('[data-testid="log-row"]').first().waitFor();
  const services = await panel(page, 'logs').locator('[data-testid="log-row"] td:nth-child(2)').allTextContents();
  assert.ok(services.length > 0 && services.every((s) => s === 'frontend'), `frontend's logs only: ${services}`);
  assert.equal((await panel(page, 'gauge').locator('[data-testid="panel-unsupported"]').textContent()).trim(), 'unsupported panel kind GaugeChart');

  // Another value of the list variable: the stat and the logs follow it.
  await page.locator('[data-testid="var-job"]').selectOption('checkout');
  await page.waitForURL(/var-job=checkout/);
  await panel(page, 'total').locator('.dash-panel-head', { hasText: 'Requests of checkout' }).waitFor();
  await panel(page, 'logs').locator('[data-testid="log-row"] td:nth-child(2)', { hasText: 'checkout' }).first().waitFor();
  const after = await panel(page, 'logs').locator('[data-testid="log-row"] td:nth-child(2)').allTextContents();
  assert.ok(after.every((s) => s === 'checkout'), `checkout's logs only: ${after}`);
  await page.screenshot({ path: join(artifacts, 'dashboard-file.png'), fullPage: true });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a service's built-in RED dashboard shows its rate, errors, durations, operations and error logs", async () => {
  const page = await newPage();
  // The Service page links to it.
  await page.goto(`${API}/service/${erring}?${RANGE}`);
  await page.locator('[data-testid="open-dashboard"]').click();
  await page.waitForURL(new RegExp(`/dashboards/redscope/red-${erring}\\?`));
  for (const id of ['requests', 'duration']) {
    const ds = await pathsOf(page, id);
    assert.ok(ds.length >= 1 && ds.every((d) => /L[\d.]+,[\d.]+L/.test(d)), `${id}: ${ds.map((d) => d.slice(0, 40))}`);
  }
  assert.equal((await pathsOf(page, 'duration')).length, 3, 'p50, p95 and p99');
  const rate = await statOf(page, 'requests_now');
  assert.ok(rate.value > 0, `requests/s: ${JSON.stringify(rate)}`);
  const p99 = await statOf(page, 'p99_now');
  assert.ok(p99.value > 0 && p99.value < 60 && /s$/.test(p99.text), `p99 in seconds: ${JSON.stringify(p99)}`);
  const ops = panel(page, 'operations').locator('[data-testid="table-row"]');
  await ops.first().waitFor();
  const first = await ops.first().locator('td').allTextContents();
  assert.ok(first[0].length > 0 && /\d/.test(first[1]), `an operation and its rate: ${first}`);
  const logs = panel(page, 'error_logs').locator('[data-testid="log-row"]');
  await logs.first().waitFor();
  const severities = await logs.locator('td:nth-child(3)').allTextContents();
  assert.ok(severities.length > 0 && severities.every((s) => s === 'ERROR' || s === 'FATAL'), `error logs only: ${severities}`);
  assert.equal(await page.locator('[data-testid="var-service"]').inputValue(), erring);
  await page.screenshot({ path: join(artifacts, 'dashboard-red.png'), fullPage: true });
  const exported = await fetch(`${API}/api/v1/dashboards/redscope/red-${erring}?format=yaml`);
  assert.equal(exported.status, 200);
  assert.match(await exported.text(), /kind: Dashboard[\s\S]*histogram_quantile\(0\.99/);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
