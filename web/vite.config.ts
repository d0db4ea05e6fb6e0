import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * Vite build of the web console. JSX is compiled by esbuild (no @vitejs/plugin-react: it does not install here).
 * `--mode fixtures` builds a copy that can show the dev fixtures (for screenshots); the production build cannot,
 * because `import.meta.env.VITE_FIXTURES` is then statically false and the fixture chunk is dropped.
 */
export default defineConfig(({ mode }) => ({
  root: import.meta.dirname,
  base: '/',
  esbuild: { jsx: 'automatic' },
  define: {
    'import.meta.env.VITE_FIXTURES': JSON.stringify(mode === 'fixtures' || mode === 'development' ? '1' : ''),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: false,
    // Libraries change less often than the app: separate files keep them cached across console releases.
    rollupOptions: {
      output: {
        manualChunks: { react: ['react', 'react-dom', 'react-dom/client'], echarts: ['echarts/core', 'echarts/charts', 'echarts/components', 'echarts/renderers'] },
      },
    },
  },
  server: {
    // The web app imports the shared contract types from ../src/record/.
    fs: { allow: [resolve(import.meta.dirname, '..')] },
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/auth': 'http://127.0.0.1:8080',
      '/admin': 'http://127.0.0.1:8080',
      '/fhir': 'http://127.0.0.1:8080',
    },
  },
}));
