/**
 * GraphQL Code Generator pointed at a running server's URL (the tooling the README names):
 * it introspects /graphql — the schema is public, each field checks the caller — and
 * generates the contract's types.
 */
import { expect } from 'vitest';
import { generate } from '@graphql-codegen/cli';
import { test } from '../support/fixtures.js';

test('graphql-codegen generates the types from <server>/graphql', async ({ app }) => {
  const [output] = await generate(
    {
      schema: `${app.url}/graphql`,
      silent: true,
      generates: { 'schema-types.ts': { plugins: ['typescript'] } },
    },
    false,
  );
  expect(output.filename).toBe('schema-types.ts');
  for (const type of ['Webhook', 'Rule', 'Ticket', 'Delivery', 'Query', 'Mutation', 'Subscription']) {
    expect(output.content).toMatch(new RegExp(`^export type ${type} = \\{`, 'm'));
  }
  expect(output.content).toMatch(/^export type WebhookInput = \{/m);
});
