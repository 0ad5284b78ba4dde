import { defineConfig, type ProxyOptions } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/** Where `vite dev` and `vite preview` send /api (REST and websockets): the API's default address. */
const apiTarget = process.env.IOMMU_LAB_API ?? 'http://127.0.0.1:4100';
const proxy: Record<string, ProxyOptions> = {
  '/api': {
    target: apiTarget,
    ws: true,
    changeOrigin: true,
    // The API opens websockets only for its own origin: a page served by this dev server speaks for it
    // as the API's origin. Pages of any other origin keep theirs, and the API refuses them.
    configure: (server) =>
      server.on('proxyReqWs', (proxyReq, request) => {
        const origin = request.headers.origin;
        if (origin && URL.canParse(origin) && new URL(origin).host === request.headers.host)
          proxyReq.setHeader('origin', new URL(apiTarget).origin);
      }),
  },
};

export default defineConfig({
  plugins: [svelte()],
  // Relative asset URLs: the API serves dist at `/`, but nothing here depends on it.
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
  server: { host: '127.0.0.1', port: 5173, proxy },
  preview: { host: '127.0.0.1', port: 4173, proxy },
});
