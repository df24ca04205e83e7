// Browser cost of loading each page: wall time from navigation to all data shown, and the CPU
// time all Chromium processes used for it (utime + stime from /proc, Linux only).
//
//   REDSCOPE_URL=http://127.0.0.1:8080 LOADS=8 node scripts/page-cost.mjs
//
// Run against a `redscope demo` with an hour of history; prints one line per page with the
// median over LOADS loads.
import { readFileSync, readdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const UI = process.env.REDSCOPE_URL || 'http://127.0.0.1:8080';
const LOADS = Number(process.env.LOADS || 8);
const PAGES = (process.env.PAGES || '/services,/service/frontend,/traces,/logs,/map,/metrics').split(',');
const TICKS = 100; // clock ticks per second (getconf CLK_TCK)

function chromiumCpuMs() {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!/chrom/i.test(stat.slice(stat.indexOf('(') + 1, close))) continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* the process ended */
    }
  }
  return (ticks * 1000) / TICKS;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
const settled = () =>
  page.waitForFunction(() => !document.querySelector('.state.loading') && !document.documentElement.dataset.busy, null, { timeout: 60000 });
await page.goto(`${UI}/services?from=now-1h`);
await settled();
for (const path of PAGES) {
  const wall = [];
  const cpu = [];
  for (let i = 0; i < LOADS; i++) {
    const c0 = chromiumCpuMs();
    const t0 = Date.now();
    await page.goto(`${UI}${path}${path.includes('?') ? '&' : '?'}from=now-1h`);
    await page.waitForSelector('.content > *');
    await settled();
    wall.push(Date.now() - t0);
    cpu.push(chromiumCpuMs() - c0);
  }
  console.log(`${path.padEnd(20)} wall ${median(wall)} ms, Chromium CPU ${median(cpu)} ms (median of ${LOADS})`);
}
await browser.close();
