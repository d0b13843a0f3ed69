/**
 * The public GraphQL contract. `src/schema/contract.graphql` is schema.graphql with the
 * landed sections of schema-additions.graphql applied (LANDED_SECTIONS, plus the one
 * deliberate CHANGE a section makes to schema.graphql), and the served schema contains it:
 * graphql-js findBreakingChanges(contract, served) reports nothing.
 */
import { describe, expect, it } from 'vitest';
import { buildSchema, findBreakingChanges, lexicographicSortSchema, printSchema } from 'graphql';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildGraphQLSchema } from '../../src/resolvers/index.js';

const copy = fileURLToPath(new URL('../../src/schema/contract.graphql', import.meta.url));
const sharedDir = fileURLToPath(new URL('../../../shared/contract/', import.meta.url));

/** Sections of schema-additions.graphql that are part of the contract. */
const LANDED_SECTIONS = ['hardening', 'delivery-policy', 'timers-and-bulk'];

/** The CHANGEs to schema.graphql that landed sections make (each one marked CHANGE in the additions). */
const CHANGES: Record<string, [RegExp, string][]> = {
  hardening: [[/(type User \{[^}]*\n\s*email: String)!/, '$1']],
};

export function sectionOf(additions: string, name: string): string {
  const parts = additions.split(/^# =+ section: /m);
  const part = parts.find((p) => p.startsWith(`${name}\n`));
  if (!part) throw new Error(`schema-additions.graphql has no section "${name}"`);
  return part.slice(name.length + 1);
}

function expectedContract(schemaText: string, additions: string): string {
  let base = schemaText;
  for (const name of LANDED_SECTIONS) {
    for (const [pattern, replacement] of CHANGES[name] ?? []) {
      const changed = base.replace(pattern, replacement);
      if (changed === base) throw new Error(`the CHANGE of section "${name}" (${pattern}) no longer applies to schema.graphql`);
      base = changed;
    }
  }
  return [base, ...LANDED_SECTIONS.map((n) => sectionOf(additions, n))].join('\n');
}

const canonical = (sdl: string) => printSchema(lexicographicSortSchema(buildSchema(sdl)));

describe('GraphQL contract', () => {
  it('the served schema has no breaking change against the committed contract', async () => {
    const contract = buildSchema(readFileSync(copy, 'utf8'));
    const served = await buildGraphQLSchema();
    expect(findBreakingChanges(contract, served).map((c) => `${c.type}: ${c.description}`)).toEqual([]);
  });

  // CI always has shared/ beside the clone; a developer's checkout without it skips, CI fails.
  const hasShared = existsSync(`${sharedDir}schema.graphql`);
  it.skipIf(!hasShared && !process.env.CI)('the committed copy is shared/contract/schema.graphql with the landed sections applied (skipped: no ../shared beside this checkout)', () => {
    expect(hasShared, `${sharedDir} is missing`).toBe(true);
    const expected = expectedContract(readFileSync(`${sharedDir}schema.graphql`, 'utf8'), readFileSync(`${sharedDir}schema-additions.graphql`, 'utf8'));
    expect(canonical(readFileSync(copy, 'utf8'))).toBe(canonical(expected));
  });

  it('a CHANGE that does not apply is reported, not ignored', () => {
    expect(() => expectedContract('type Query { a: Int }', '# ==== section: hardening\n')).toThrow(/no longer applies/);
  });
});
