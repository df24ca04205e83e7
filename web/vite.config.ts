import { defineConfig } from 'vite';

declare const process: { env: Record<string, string | undefined> };

// The API server the dev and preview servers proxy /api to (a running `redscope demo`).
const api = process.env.REDSCOPE_API_URL || process.env.REDSCOPE_URL || 'http://127.0.0.1:28080';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 200 },
  server: { proxy: { '/api': { target: api, changeOrigin: true } } },
  preview: { proxy: { '/api': { target: api, changeOrigin: true } } },
  test: { include: ['src/**/*.test.ts'] },
} as any);
