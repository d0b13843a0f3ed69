/**
 * The console's build: web/ → web/dist, hashed assets under dist/assets (served with a
 * long cache by the api role). The explorer (GraphiQL and its Monaco editor with its
 * workers) is a chunk of its own, loaded when /explorer opens. Everything is bundled:
 * the page fetches nothing from another host.
 */
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import codegen from './codegen.js';

/** Regenerates the typed documents (web/src/gql) before every build, so they follow the contract and the operations. */
function typedDocuments(): Plugin {
  return {
    name: 'deskhooks-codegen',
    apply: 'build',
    async buildStart() {
      await generate(codegen, true);
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [typedDocuments(), react()],
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // the explorer chunk (Monaco) is large by nature; the console's own chunks stay small
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
    rollupOptions: {
      onwarn(warning, warn) {
        // GraphiQL's packages start modules with "use no memo" (a React Compiler hint), harmless in a bundle
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
