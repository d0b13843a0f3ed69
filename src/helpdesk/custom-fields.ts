import type { EntityManager } from '@mikro-orm/postgresql';
import { CustomField } from '../db/entities/index.js';
import type { CustomFieldType } from '../delivery/types.js';
import { badInput, invalidInput, type FieldProblem } from '../errors.js';
import { convertCustomFieldValue } from './custom-field-value.js';

export interface CustomFieldInput {
  key: string;
  name: string;
  type: CustomFieldType;
  options?: string[] | null;
}

const KEY = /^[a-z][a-z0-9_]{0,63}$/;

export async function createCustomField(em: EntityManager, input: CustomFieldInput): Promise<CustomField> {
  const problems: FieldProblem[] = [];
  if (!KEY.test(input.key)) problems.push({ field: 'key', message: `"${input.key}" is not a valid key: lower-case letters, digits and _, starting with a letter (it is used in tags as ticket.custom.<key>)` });
  if (!input.name.trim()) problems.push({ field: 'name', message: 'must not be empty' });
  const options = (input.options ?? []).map((o) => o.trim());
  if (input.type === 'SELECT' && options.length === 0) problems.push({ field: 'options', message: 'a SELECT field needs at least one option' });
  if (input.type !== 'SELECT' && options.length > 0) problems.push({ field: 'options', message: `only SELECT fields take options, not ${input.type}` });
  if (options.some((o) => !o)) problems.push({ field: 'options', message: 'options must not be empty' });
  if (new Set(options).size !== options.length) problems.push({ field: 'options', message: 'options must be distinct' });
  if (problems.length) throw invalidInput(problems);
  if (await em.count(CustomField, { key: input.key })) throw badInput('key', `a custom field with key "${input.key}" already exists`);
  const field = em.create(CustomField, { key: input.key, name: input.name.trim(), type: input.type, options, createdAt: new Date() });
  await em.flush();
  return field;
}

export async function listCustomFields(em: EntityManager): Promise<CustomField[]> {
  return em.find(CustomField, {}, { orderBy: { id: 'asc' } });
}

export async function customFieldMap(em: EntityManager): Promise<Map<string, CustomField>> {
  return new Map((await listCustomFields(em)).map((f) => [f.key, f]));
}

/**
 * Validates and converts custom-field values on write. `fieldPrefix` names the input
 * field in errors (e.g. `customFields`). A null value clears the field.
 */
export function convertCustomFieldValues(
  defs: Map<string, CustomField>,
  values: Record<string, unknown>,
  fieldPrefix: string,
): Record<string, unknown> {
  const problems: FieldProblem[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(values)) {
    const def = defs.get(key);
    if (!def) {
      problems.push({ field: `${fieldPrefix}.${key}`, message: `unknown custom field "${key}"${defs.size ? ` (known: ${[...defs.keys()].join(', ')})` : ' (no custom fields are defined)'}` });
      continue;
    }
    const converted = convertCustomFieldValue({ key: def.key, type: def.type, options: def.options }, raw);
    if (converted.ok) out[key] = converted.value;
    else problems.push({ field: `${fieldPrefix}.${key}`, message: converted.error });
  }
  if (problems.length) throw invalidInput(problems);
  return out;
}
