import { chromium } from 'playwright-core';
const url = process.env.U || 'http://127.0.0.1:18480/service/frontend?from=now-1h';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } }); const page = await ctx.newPage(); if (process.env.L) { page.on('response', (r) => { if (r.status() >= 500) console.log('5xx'); }); page.on('console', () => {}); }
await page.goto(url.replace(/service\/frontend/, 'services')); await page.waitForTimeout(1500);
for (let i = 0; i < 6; i++) {
  await page.goto(url.replace(/service\/frontend/, 'services'), { waitUntil: 'commit' }); await page.waitForFunction(() => document.querySelector('.content > *') && !document.querySelector('.state.loading') && !document.documentElement.dataset.busy, null, { polling: 'raf', timeout: 60000 });
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(() => document.querySelector('.content > *') && !document.querySelector('.state.loading') && !document.documentElement.dataset.busy, null, { polling: 'raf', timeout: 60000 });
  const r = await page.evaluate(() => performance.getEntriesByType('resource').map(e => ({ n: e.name.replace(/^https?:\/\/[^/]+/, '').slice(0, 70), s: Math.round(e.startTime), rq: Math.round(e.requestStart), rs: Math.round(e.responseStart), re: Math.round(e.responseEnd), p: e.nextHopProtocol })));
  const nav = await page.evaluate(() => { const n = performance.getEntriesByType('navigation')[0]; return { rs: Math.round(n.responseStart), dcl: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd) }; });
  console.log(JSON.stringify(nav)); for (const e of r) console.log(e.s, e.rq, e.rs, e.re, e.n);
  console.log('---');
  await page.waitForTimeout(2500);
}
await browser.close();
