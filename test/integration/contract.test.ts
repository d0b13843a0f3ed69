/**
 * The served schema must contain the whole public contract: graphql-js'
 * findBreakingChanges(contract, served) reports nothing. Operations not implemented
 * yet would be listed in NOT_IMPLEMENTED; every issue has emptied its part.
 */
import { describe, expect, it } from 'vitest';
import { buildSchema, findBreakingChanges } from 'graphql';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildGraphQLSchema } from '../../src/resolvers/index.js';

const copy = fileURLToPath(new URL('../../src/schema/contract.graphql', import.meta.url));
const shared = fileURLToPath(new URL('../../../shared/contract/schema.graphql', import.meta.url));

/** Contract operations that still answer NOT_IMPLEMENTED. Empty: all are built. */
const NOT_IMPLEMENTED: string[] = [];

describe('GraphQL contract', () => {
  it('the served schema has no breaking change against the contract', async () => {
    const contract = buildSchema(readFileSync(copy, 'utf8'));
    const served = await buildGraphQLSchema();
    expect(findBreakingChanges(contract, served)).toEqual([]);
  });

  it('the committed copy equals shared/contract/schema.graphql (where shared/ is beside the checkout)', () => {
    if (!existsSync(shared)) return; // a clone without the steering folder: the copy is the contract
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });

  it('no contract operation is left NOT_IMPLEMENTED', () => {
    expect(NOT_IMPLEMENTED).toEqual([]);
  });
});
