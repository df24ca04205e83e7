// Bundles the SDK: redscope.js (script tag, IIFE), redscope.mjs (ES module), and the replay
// recorder replay.mjs, loaded by the SDK only for sessions that record.
//
//   node scripts/build.mjs [--outdir DIR]     default: ../../web/dist/sdk (served at /sdk/)
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const flag = process.argv.indexOf('--outdir');
const outdir = resolve(flag > 0 ? process.argv[flag + 1] : join(here, '..', '..', 'web', 'dist', 'sdk'));
mkdirSync(outdir, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: here,
};

await Promise.all([
  build({ ...common, entryPoints: ['src/iife.ts'], format: 'iife', outfile: join(outdir, 'redscope.js') }),
  build({ ...common, entryPoints: ['src/esm.ts'], format: 'esm', outfile: join(outdir, 'redscope.mjs') }),
  build({ ...common, entryPoints: ['src/replay/recorder.ts'], format: 'esm', outfile: join(outdir, 'replay.mjs') }),
]);
console.log(`built redscope.js, redscope.mjs, replay.mjs in ${outdir}`);
