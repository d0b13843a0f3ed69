import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql must be loaded once: type-graphql and Apollo import the CommonJS build,
    // Vite would otherwise hand the test files the ESM build ("another module or realm").
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // the files of a worker share its module graph: the app's modules (type-graphql, Apollo,
    // MikroORM) are imported once per worker, not once per file. Each test file sets up what
    // it uses (its apps, databases and receivers from test/support) and leaves no module
    // state behind that another reads.
    isolate: false,
    // concurrent tests each hold an app of their own (test/support/fixtures.ts): three at a
    // time keep the waits overlapped without more apps than two cores serve
    maxConcurrency: 3,
    // expect.poll waits for a state (a page's, a database's) as long as a loaded machine may
    // need, not vitest's default second
    expect: { poll: { timeout: 15_000 } },
    fileParallelism: true,
    // two files at a time (vitest's default is one fewer than the cores: one here); most
    // tests wait on receivers, timers and PostgreSQL rather than compute
    maxWorkers: 2,
  },
});
