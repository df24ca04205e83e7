// Starting a `redscope demo` of a test's own: a free port, a data directory, waiting until it
// answers, and stopping it again.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `bin demo` with `args` (besides its ports and data directory) in `cwd` and waits until
 * `ready` (a path) answers 200. Returns its API base URL and `stop()`.
 */
export async function startDemo({ bin, cwd, args, ready = '/healthz', prefix = 'redscope-demo-' }) {
  const data = mkdtempSync(`${tmpdir()}/${prefix}`);
  const [api, http] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${api}`;
  const server = spawn(bin, ['demo', '--data', data, '--api', `127.0.0.1:${api}`, '--otlp-http', `127.0.0.1:${http}`, '--otlp-grpc', '127.0.0.1:0', ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  server.stderr.on('data', (d) => (log += d));
  const stop = async () => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(data, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (server.exitCode !== null) throw new Error(`redscope demo exited: ${log}`);
    try {
      if ((await fetch(`${url}${ready}`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) {
      await stop();
      throw new Error(`redscope demo did not start: ${log}`);
    }
    await sleep(200);
  }
  return { url, stop };
}

/** Headless Debian Chromium (or `CHROMIUM`). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}
