import { build as esbuild } from 'esbuild';
import { defineConfig, type Plugin } from 'vite';

declare const process: { env: Record<string, string | undefined> };

// The API server the dev and preview servers proxy /api to (a running `redscope demo`).
const api = process.env.REDSCOPE_API_URL || process.env.REDSCOPE_URL || 'http://127.0.0.1:28080';

// src/boot.ts, bundled on its own and inlined into index.html's <head> where it says
// <!--redscope-boot-->: it sends the page's first API requests while the main bundle loads.
function inlineBoot(): Plugin {
  return {
    name: 'redscope-inline-boot',
    async transformIndexHtml(html) {
      const out = await esbuild({ entryPoints: ['src/boot.ts'], bundle: true, format: 'iife', minify: true, target: 'es2022', write: false, logLevel: 'silent' });
      const code = out.outputFiles[0].text.trim().replace(/<\/(script)/gi, '<\\/$1');
      if (!html.includes('<!--redscope-boot-->')) throw new Error('index.html lacks <!--redscope-boot-->');
      return html.replace('<!--redscope-boot-->', () => `<script>${code}</script>`);
    },
  };
}

// The proxy makes the dev server's page same-origin with the API: redscope refuses API
// requests whose Origin is another site's, so the dev page's Origin is dropped on the way.
const apiProxy = {
  target: api,
  changeOrigin: true,
  configure: (proxy: any) => proxy.on('proxyReq', (req: any) => req.removeHeader('origin')),
};

export default defineConfig({
  plugins: [inlineBoot()],
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 200 },
  server: { proxy: { '/api': apiProxy } },
  preview: { proxy: { '/api': apiProxy } },
  test: { include: ['src/**/*.test.ts'] },
} as any);
