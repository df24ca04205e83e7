// Prints the gzipped size of each built file and fails when the main bundle (without replay)
// is over its budget.
//
//   node scripts/check-size.mjs [--outdir DIR]
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 15 * 1024;
const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const flag = process.argv.indexOf('--outdir');
const outdir = resolve(flag > 0 ? process.argv[flag + 1] : join(here, '..', '..', 'web', 'dist', 'sdk'));

let failed = false;
for (const name of ['redscope.js', 'redscope.mjs', 'replay.mjs']) {
  const raw = readFileSync(join(outdir, name));
  const gz = gzipSync(raw, { level: 9 }).length;
  const main = name.startsWith('redscope');
  const over = main && gz > BUDGET;
  failed ||= over;
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`${name.padEnd(14)} ${kb(raw.length).padStart(9)} raw ${kb(gz).padStart(9)} gzipped${main ? ` (budget ${kb(BUDGET)})` : ''}${over ? '  OVER BUDGET' : ''}`);
}
if (failed) {
  console.error('the main bundle is over its size budget');
  process.exit(1);
}
