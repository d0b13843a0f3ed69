/**
 * graphql-codegen's client preset: typed documents for the console's operations (the
 * `graphql()` calls in web/src) from the public contract. Run by web/vite.config.ts before
 * every build and by `npm run codegen:web`.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  schema: `${root}src/schema/contract.graphql`,
  documents: [`${root}web/src/**/*.{ts,tsx}`, `!${root}web/src/gql/**`],
  generates: {
    [`${root}web/src/gql/`]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSON: 'unknown', JSONObject: 'Record<string, unknown>' },
      },
    },
  },
};

export default config;
