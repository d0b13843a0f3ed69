import type { EntityManager } from '@mikro-orm/postgresql';
import { CustomField } from '../db/index.js';
import { FORBIDDEN_SEGMENTS, type CustomFieldType, type FieldProblem } from '../domain/index.js';
import { badInput, invalidInput } from '../errors.js';
import { convertCustomFieldValue } from './custom-field-value.js';
import { checkText, TEXT_LIMITS } from './text-input.js';
import type { Actor } from './actor.js';

export interface CustomFieldInput {
  key: string;
  name: string;
  type: CustomFieldType;
  options?: string[] | null;
  /** default false */
  clientVisible?: boolean | null;
  /** default false; implies clientVisible */
  clientWritable?: boolean | null;
}

/** Who sets custom-field values: staff and the system set every field, a CLIENT only clientWritable ones. */
export type CustomFieldWriter = 'staff' | 'client';

const KEY = /^[a-z][a-z0-9_]{0,63}$/;

export async function createCustomField(em: EntityManager, input: CustomFieldInput): Promise<CustomField> {
  const problems: FieldProblem[] = [];
  checkText(problems, 'key', input.key, TEXT_LIMITS.name);
  checkText(problems, 'name', input.name, TEXT_LIMITS.name);
  (input.options ?? []).forEach((o, i) => checkText(problems, `options[${i}]`, o, TEXT_LIMITS.name));
  if (problems.length) throw invalidInput(problems);
  if (/^[a-z][a-z0-9_]*$/.test(input.key) && !KEY.test(input.key)) problems.push({ field: 'key', message: `is ${input.key.length} characters long: a key has at most 64 (it is used in tags as ticket.custom.<key>)` });
  else if (!KEY.test(input.key)) problems.push({ field: 'key', message: `"${input.key}" is not a valid key: lower-case letters, digits and _, starting with a letter, at most 64 (it is used in tags as ticket.custom.<key>)` });
  else if (FORBIDDEN_SEGMENTS.has(input.key)) problems.push({ field: 'key', message: `"${input.key}" cannot be a key: tags refuse it (it names JavaScript internals), so ticket.custom.${input.key} could never be used; choose another` });
  if (!input.name.trim()) problems.push({ field: 'name', message: 'must not be empty' });
  const options = (input.options ?? []).map((o) => o.trim());
  if (input.type === 'SELECT' && options.length === 0) problems.push({ field: 'options', message: 'a SELECT field needs at least one option' });
  if (input.type !== 'SELECT' && options.length > 0) problems.push({ field: 'options', message: `only SELECT fields take options, not ${input.type}` });
  if (options.some((o) => !o)) problems.push({ field: 'options', message: 'options must not be empty' });
  if (new Set(options).size !== options.length) problems.push({ field: 'options', message: 'options must be distinct' });
  const clientWritable = input.clientWritable ?? false;
  if (clientWritable && input.clientVisible === false) problems.push({ field: 'clientVisible', message: 'a clientWritable field is clientVisible: a CLIENT sees what it may set' });
  const clientVisible = input.clientVisible ?? clientWritable;
  if (problems.length) throw invalidInput(problems);
  if (await em.count(CustomField, { key: input.key })) throw badInput('key', `a custom field with key "${input.key}" already exists`);
  const field = em.create(CustomField, { key: input.key, name: input.name.trim(), type: input.type, options, clientVisible, clientWritable, createdAt: new Date() });
  try {
    await em.flush();
  } catch (err) {
    // a create of the same key that committed after the count above (the unique index)
    if ((err as { code?: string }).code === '23505') throw badInput('key', `a custom field with key "${input.key}" already exists`);
    throw err;
  }
  return field;
}

/** The field definitions; a CLIENT is shown the clientVisible ones only. */
export async function listCustomFields(em: EntityManager, reader: CustomFieldWriter = 'staff'): Promise<CustomField[]> {
  return em.find(CustomField, reader === 'client' ? { clientVisible: true } : {}, { orderBy: { id: 'asc' } });
}

/** What a writer may set of the custom fields (writableCustomFields). */
export interface WritableCustomFields {
  /** the fields the writer may set, by key */
  writable: Map<string, CustomField>;
  /** the keys the writer sees but may not set: a CLIENT's clientVisible fields that are not clientWritable */
  readOnly: ReadonlySet<string>;
}

/**
 * The fields the writer may set, from one read of the definitions. For a CLIENT an
 * internal field is in neither set, so setting it is refused exactly like an unknown key,
 * and errors list no internal keys.
 */
export async function writableCustomFields(em: EntityManager, writer: CustomFieldWriter = 'staff'): Promise<WritableCustomFields> {
  const fields = await em.find(CustomField, writer === 'client' ? { clientVisible: true } : {}, { orderBy: { id: 'asc' } });
  const mayWrite = (f: CustomField) => writer === 'staff' || f.clientWritable;
  return {
    writable: new Map(fields.filter(mayWrite).map((f) => [f.key, f])),
    readOnly: new Set(fields.filter((f) => !mayWrite(f)).map((f) => f.key)),
  };
}

/** The keys of the fields a CLIENT sees. */
export async function clientVisibleKeys(em: EntityManager): Promise<Set<string>> {
  const fields = await em.find(CustomField, { clientVisible: true }, { fields: ['key'] });
  return new Set(fields.map((f) => f.key));
}

/** The values a CLIENT sees: those of clientVisible fields only. */
export function clientVisibleValues(values: Record<string, unknown>, visible: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => visible.has(key)));
}

/**
 * Validates and converts custom-field values on write, against what the writer may set
 * (writableCustomFields): a read-only key is refused as such, any other key not writable is
 * unknown to the writer (an internal one included). `fieldPrefix` names the input field in
 * errors (e.g. `customFields`). A null value clears the field.
 */
export function convertCustomFieldValues({ writable: defs, readOnly }: WritableCustomFields, values: Record<string, unknown>, fieldPrefix: string): Record<string, unknown> {
  const problems: FieldProblem[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(values)) {
    if (!checkText(problems, fieldPrefix, key, TEXT_LIMITS.name)) continue;
    const def = defs.get(key);
    if (!def) {
      const choices = defs.size ? `${readOnly.has(key) ? 'writable' : 'known'}: ${[...defs.keys()].join(', ')}` : 'there are none to set';
      const what = readOnly.has(key) ? `custom field "${key}" is not writable by a CLIENT` : `unknown custom field "${key}"`;
      problems.push({ field: `${fieldPrefix}.${key}`, message: `${what} (${choices})` });
      continue;
    }
    const converted = convertCustomFieldValue({ key: def.key, type: def.type, options: def.options }, raw);
    if (converted.ok) out[key] = converted.value;
    else problems.push({ field: `${fieldPrefix}.${key}`, message: converted.error });
  }
  if (problems.length) throw invalidInput(problems);
  return out;
}

/** Custom field definitions: ADMIN creates them (the resolvers check the role), every caller lists what it may see. */
export interface CustomFieldService {
  /** The definitions the actor sees: a CLIENT the clientVisible ones only. */
  list(em: EntityManager, actor: Actor): Promise<CustomField[]>;
  create(em: EntityManager, input: CustomFieldInput): Promise<CustomField>;
  /** The keys of the fields a CLIENT sees. */
  clientVisibleKeys(em: EntityManager): Promise<Set<string>>;
}

export function createCustomFieldService(): CustomFieldService {
  return {
    list: (em, actor) => listCustomFields(em, actor.user?.role === 'CLIENT' ? 'client' : 'staff'),
    create: createCustomField,
    clientVisibleKeys,
  };
}
