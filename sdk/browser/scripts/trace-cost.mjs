// The SDK's main-thread cost before the page's `load`, from Chromium's trace: the test shop
// (tests/site/, resources answering after 100 ms) loaded LOADS times without and with the SDK
// (script tag snippet, replay off), each in a fresh context.
//
//   node scripts/trace-cost.mjs [--outdir DIR]    LOADS=8 by default; builds into DIR first
//
// Prints medians: the renderer main thread's busy time (RunTask) from navigation start to the
// load mark, the evaluation of redscope.js (its compilation on the main thread and `init`), and
// of the page's inline scripts (the snippet is one of them). Whole-page timings on a busy machine vary by tens of
// milliseconds from one load to the next; these figures say what the SDK itself costs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { collector, site } from '../tests/site/server.mjs';
import { snippet } from '../tests/site/snippet.mjs';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'redscope-trace-'));
const sdkDir = join(work, 'sdk');
const b = spawnSync(process.execPath, [join(here, 'scripts', 'build.mjs'), '--outdir', sdkDir], { encoding: 'utf8' });
if (b.status !== 0) throw new Error(b.stderr);
const LOADS = Number(process.env.LOADS || 8);
const col = await collector();
const shop = await site(sdkDir, (q, sdkUrl) => (q.get('sdk') === '1' ? snippet({ endpoint: col.url, serviceName: 'trace', flushIntervalMs: 500 }, `${sdkUrl}/sdk/redscope.js`) : ''), 100);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figures = { without: { busy: [], load: [], sdk: [], inline: [] }, with: { busy: [], load: [], sdk: [], inline: [] } };
const traceFile = join(work, 'trace.json');
for (let i = 0; i < LOADS; i++) {
  for (const which of i % 2 ? ['with', 'without'] : ['without', 'with']) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await browser.startTracing(page, { path: traceFile, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'loading', 'v8'] });
    await page.goto(`${shop.url}/?sdk=${which === 'with' ? 1 : 0}`, { waitUntil: 'load' });
    await browser.stopTracing();
    const events = JSON.parse(readFileSync(traceFile, 'utf8')).traceEvents;
    const parse = events.find((e) => e.name === 'ParseHTML' && JSON.stringify(e.args || {}).includes(shop.url));
    const mainThread = (e) => e.pid === parse.pid && e.tid === parse.tid && e.ph === 'X';
    const inPage = (name) => events.filter((e) => e.name === name && e.pid === parse.pid);
    const t0 = (inPage('navigationStart').find((e) => JSON.stringify(e.args).includes(shop.url)) || inPage('navigationStart')[0]).ts;
    const t1 = inPage('MarkLoad').pop().ts;
    const f = figures[which];
    let busy = 0;
    let sdk = 0;
    let inline = 0;
    for (const e of events) {
      if (!mainThread(e) || e.ts < t0 || e.ts > t1) continue;
      if (e.name === 'RunTask') busy += e.dur / 1000;
      // EvaluateScript holds the compilation done on the main thread and the run (init).
      if (e.name === 'EvaluateScript') {
        const url = (e.args && e.args.data && (e.args.data.url || e.args.data.fileName)) || '';
        if (url.includes('/sdk/redscope.js')) sdk += e.dur / 1000;
        else if (url.includes('?sdk=')) inline += e.dur / 1000;
      }
    }
    f.busy.push(busy);
    f.load.push((t1 - t0) / 1000);
    f.sdk.push(sdk);
    f.inline.push(inline);
    await ctx.close();
  }
}
const ms = (x) => `${x.toFixed(1)} ms`;
for (const [which, f] of Object.entries(figures)) {
  console.log(
    `${which.padEnd(7)} the SDK: load ${ms(median(f.load))}, main thread busy before load ${ms(median(f.busy))}, ` +
      `redscope.js evaluation ${ms(median(f.sdk))}, inline scripts ${ms(median(f.inline))} (median of ${LOADS})`,
  );
}
await browser.close();
col.close();
shop.close();
rmSync(work, { recursive: true, force: true });
