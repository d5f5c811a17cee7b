import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// In development the Vite server proxies the API to a zygo started with `cargo run`.
const api = process.env.ZYGO_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/graphql/ws': { target: api.replace(/^http/, 'ws'), ws: true },
      '/graphql': api,
      '/auth': api,
      '/hooks': api,
      '/resources': api,
    },
  },
  build: {
    outDir: 'dist',
    sourcemap: true,
    // Two pages: the app, and GraphiQL bundled from npm (served by zygo at /graphiql).
    rollupOptions: { input: { app: 'index.html', graphiql: 'graphiql.html' } },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test-setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
