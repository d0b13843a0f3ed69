/**
 * The import direction of src/, checked by `npm run lint:deps` (part of `npm test`).
 *
 * Layers, top to bottom; a module imports only from its own layer or the layers below it:
 *
 *   root        src/main.ts, src/cli.ts       composition root: wires everything; only cli.ts imports main.ts
 *   http        src/http/                     express app, Apollo, graphql-ws, flow control
 *   api         src/resolvers/ | src/rest/    GraphQL resolvers and the REST subset (siblings: neither imports the other)
 *   services    src/app-services.ts           what resolvers and REST are handed
 *   schema      src/schema/                   type-graphql types, enums derived from src/domain (above the
 *                                             services, so that they never see GraphQL types)
 *   dispatcher  src/dispatcher/               rule evaluation and actions
 *   delivery    src/delivery/                 render, send, record, retry, live feed
 *   helpdesk    src/helpdesk/                 tickets, posts, users, custom fields, the event outbox
 *   templates   src/templates/                scan, compile, escape, tag catalogue, template context
 *   db          src/db/                       entities, migrations, embedded PostgreSQL, LISTEN
 *   queue       src/queue/                    what both work queues share: batch claim with a lease,
 *                                             wake/drain loop, job engine (Agenda); knows neither queue
 *   base        src/crypto/, config, log, log-redact, errors, launcher
 *   domain      src/domain/                   the shared vocabulary: plain types and const arrays
 *
 * Between folders, a module imports another folder only through its index.ts.
 */

/** [name, path pattern] from top to bottom */
const LAYERS = [
  ['root', '^src/(main|cli)\\.ts$'],
  ['http', '^src/http/'],
  ['api', '^src/(resolvers|rest)/'],
  ['services', '^src/app-services\\.ts$'],
  ['schema', '^src/schema/'],
  ['dispatcher', '^src/dispatcher/'],
  ['delivery', '^src/delivery/'],
  ['helpdesk', '^src/helpdesk/'],
  ['templates', '^src/templates/'],
  ['db', '^src/db/'],
  ['queue', '^src/queue/'],
  ['base', '^src/(crypto/|(config|log|log-redact|errors|launcher)\\.ts$)'],
  ['domain', '^src/domain/'],
];

/** One rule per layer: nothing it imports lies in a layer above it (the root has its own rule below). */
const layerRules = LAYERS.slice(2).map(([name, path], i) => {
  const above = LAYERS.slice(1, i + 2);
  return {
    name: `${name}-imports-only-below`,
    comment: `${name} (${path}) must not import ${above.map(([n]) => n).join(', ')}: they are above it`,
    severity: 'error',
    from: { path },
    to: { path: above.map(([, p]) => p) },
  };
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no module imports itself through others (entities may reference each other, as their tables do)',
      severity: 'error',
      from: { pathNot: '^src/db/entities/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'no folder imports itself through other folders',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/[^/]+' },
      to: { path: '^src/[^/]+', circular: true },
    },
    {
      name: 'composition-root',
      comment: 'main.ts wires everything and is imported by cli.ts alone; nothing imports cli.ts',
      severity: 'error',
      from: { pathNot: '^src/cli\\.ts$' },
      to: { path: '^src/(main|cli)\\.ts$' },
    },
    {
      name: 'api-siblings',
      comment: 'resolvers and rest serve the same services side by side; neither imports the other',
      severity: 'error',
      from: { path: '^src/(resolvers|rest)/' },
      to: { path: '^src/(resolvers|rest)/', pathNot: '^src/$1/' },
    },
    ...layerRules,
    {
      name: 'through-the-index',
      comment: "another folder's modules are imported through its index.ts only; inside a folder, modules import each other directly",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'through-the-index-from-src',
      comment: "the files directly in src/ import a folder through its index.ts only",
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: '^src/[^/]+/index\\.ts$' },
    },
    {
      name: 'every-module-in-a-layer',
      comment: 'a new top-level file or folder of src/ gets its place in LAYERS first',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => p) },
      to: {},
    },
    {
      name: 'every-import-in-a-layer',
      comment: 'a new top-level file or folder of src/ gets its place in LAYERS first',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: LAYERS.map(([, p]) => p) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports count: a type in the wrong layer is a dependency all the same
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js'],
    },
  },
};
