/**
 * What PostgreSQL cannot store (U+0000 anywhere, lone surrogates in jsonb) becomes U+FFFD
 * on every path a receiver's answer takes: storable.ts itself, the parsed answer
 * (response.ts), the recorded outcome (outcome.ts).
 */
import { describe, expect, it } from 'vitest';
import { cutText, isStorableText, storableText, storableValue } from '../../src/delivery/storable.js';
import { answerText } from '../../src/delivery/charset.js';
import { parseResponseBody } from '../../src/delivery/response.js';
import { buildOutcome, minimalOutcome, recordingError, RECORDED_BODY_LIMIT } from '../../src/delivery/outcome.js';
import type { ClaimedDelivery } from '../../src/delivery/store.js';
import type { AttemptResult } from '../../src/delivery/types.js';

const R = '\uFFFD';

describe('storableText', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a\u0000b', `a${R}b`],
    ['\u0000\u0000', R + R],
    ['lone high \uD800 end', `lone high ${R} end`],
    ['lone low \uDC00', `lone low ${R}`],
    ['reversed \uDC00\uD800', `reversed ${R}${R}`],
    ['pair 😀 kept', 'pair 😀 kept'],
    ['\uD83D', R],
    ['U+FFFD itself \uFFFD', 'U+FFFD itself \uFFFD'],
    ['other controls \u0001\u001f\u007f stay', 'other controls \u0001\u001f\u007f stay'],
  ])('%j → %j', (input, output) => {
    expect(storableText(input)).toBe(output);
    expect(isStorableText(storableText(input))).toBe(true);
    expect(isStorableText(input)).toBe(input === output);
  });

  it('returns the same string when there is nothing to replace', () => {
    const s = 'x'.repeat(1000);
    expect(storableText(s)).toBe(s);
  });
});

describe('an answer without a charset, read as UTF-8 and made storable', () => {
  it.each([
    ['a cut two-byte sequence', [0x61, 0xc3, 0x28], `a${R}(`],
    ['0xFF', [0xff], R],
    ['NUL', [0x61, 0x00, 0x62], `a${R}b`],
    ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80], R + R + R],
    ['an overlong NUL', [0xc0, 0x80], R + R],
    ['a truncated four-byte sequence at the end', [0x61, 0xf0, 0x9f, 0x98], `a${R}`],
    ['valid UTF-8', [...Buffer.from('Привет 😀')], 'Привет 😀'],
  ])('%s', (_name, bytes, text) => {
    expect(answerText(Uint8Array.from(bytes), null)).toBe(text);
  });
});

describe('cutText', () => {
  it.each([
    ['abcdef', 3, 'abc'],
    ['ab', 3, 'ab'],
    ['a😀b', 2, 'a'], // would end between the halves of the pair
    ['a😀b', 3, 'a😀'],
    ['😀', 0, ''],
  ])('%j to %i → %j', (text, max, out) => {
    expect(cutText(text, max)).toBe(out);
  });
});

describe('storableValue', () => {
  it('replaces in strings and keys at any depth, copies, and leaves the input as it was', () => {
    const input = { 'k\u0000': ['a\u0000', { deep: ['\uD800x', 1, true, null] }], n: 1.5, ok: 'fine' };
    const snapshot = JSON.stringify(input);
    const out = storableValue(input);
    expect(out).toEqual({ [`k${R}`]: [`a${R}`, { deep: [`${R}x`, 1, true, null] }], n: 1.5, ok: 'fine' });
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(out).not.toBe(input);
  });

  it('keeps "__proto__" as an own key, and objects without a prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"x": "\\u0000"}}');
    const out = storableValue(parsed) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe(`{"__proto__":{"x":"${R}"}}`);
    const bare = Object.assign(Object.create(null), { a: '\u0000' });
    const copy = storableValue(bare);
    expect(Object.getPrototypeOf(copy)).toBeNull();
    expect(copy.a).toBe(R);
  });

  it('handles scalars, and keeps other objects as they are', () => {
    expect(storableValue('a\u0000')).toBe(`a${R}`);
    expect(storableValue(5)).toBe(5);
    expect(storableValue(null)).toBeNull();
    const date = new Date(0);
    expect(storableValue({ date }).date).toBe(date);
  });

  it('keys that become equal keep the later value', () => {
    expect(storableValue({ 'a\u0000': 1, [`a${R}`]: 2 })).toEqual({ [`a${R}`]: 2 });
  });

  it('a value nested 200,000 levels deep does not overflow the stack', () => {
    const depth = 200_000;
    const parsed = JSON.parse(`${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}`);
    let cur: unknown = storableValue(parsed);
    for (let i = 0; i < depth; i++) cur = (cur as unknown[])[0];
    expect(cur).toBe(R);
  });
});

describe('parseResponseBody: every string of the parsed answer is storable', () => {
  it.each([
    ['JSON \\u0000 and lone surrogate escapes', 'application/json', '{"a":"x\\u0000y","b":["\\ud800"],"\\u0000":"k","c":"\\udc00\\ud83d\\ude00"}', { a: `x${R}y`, b: [R], [R]: 'k', c: `${R}😀` }],
    ['a raw NUL inside a JSON string', 'application/json', '{"a":"x\u0000y"}', { a: `x${R}y` }],
    ['XML text and attributes', 'text/xml', '<r a="\u0000"><v>1\u00002</v></r>', { r: { '@_a': R, v: `1${R}2` } }],
    ['form %00 and a percent-encoded surrogate', 'application/x-www-form-urlencoded', 'a=1%002&b=%ED%A0%80&%00=k', { a: `1${R}2`, b: R + R + R, [R]: 'k' }],
  ])('%s', (_name, type, body, value) => {
    const parsed = parseResponseBody(body, type);
    expect(parsed.note).toBeUndefined();
    expect(parsed.value).toEqual(value);
  });

  it('text, and a body that does not parse: the text and the note are storable', () => {
    const text = parseResponseBody('a\u0000', 'text/plain');
    expect(text).toMatchObject({ kind: 'text', value: `a${R}` });
    expect(isStorableText(text.note!)).toBe(true);
    const broken = parseResponseBody('{"a": \u0000\uD800', 'application/json');
    expect(broken.kind).toBe('text');
    expect(broken.value).toBe(`{"a": ${R}${R}`);
    expect(isStorableText(broken.note!)).toBe(true);
  });
});

describe('recorded outcomes', () => {
  const delivery: ClaimedDelivery = {
    id: '00000000-0000-4000-8000-000000000001', webhookId: '1', webhookName: 'W', ticketId: '1', status: 'PENDING',
    request: { method: 'POST', url: 'http://127.0.0.1/', headers: {}, body: null }, authSealed: null,
    attemptCount: 0, firstAttemptAt: null, lastError: null, needsProcessing: false,
  };
  const result = (over: Partial<AttemptResult>): AttemptResult => ({
    startedAt: new Date(1000), durationMs: 5, statusCode: 200, error: null, errorClass: 'none',
    responseBody: 'ok', responseContentType: 'text/plain', responseTruncated: false, ...over,
  });

  it('the recorded body and errors are storable; the body is cut without splitting a pair', () => {
    const body = `${'x'.repeat(RECORDED_BODY_LIMIT - 1)}😀tail`;
    const o = buildOutcome(delivery, result({ responseBody: body, statusCode: 500, error: 'HTTP 500 \u0000', errorClass: 'http_status' }), { kind: 'retry', at: new Date(2000) }, new Date(1500));
    expect(o.attempt!.responseBody).toBe('x'.repeat(RECORDED_BODY_LIMIT - 1));
    expect(o.attempt!.error).toBe(`HTTP 500 ${R}`);
    expect(o.update.lastError).toBe(`HTTP 500 ${R}`);
    const nul = buildOutcome(delivery, result({ responseBody: 'accepted\u0000' }), { kind: 'succeeded' }, new Date(1500));
    expect(nul.attempt!.responseBody).toBe(`accepted${R}`);
  });

  it('minimalOutcome keeps the decision and attempt number, drops the body, and says why', () => {
    const o = buildOutcome(delivery, result({ responseBody: 'big body' }), { kind: 'succeeded' }, new Date(1500));
    const m = minimalOutcome(o, new Error(`refused \u0000 ${'y'.repeat(1000)}`));
    expect(m.attempt).toMatchObject({ number: 1, statusCode: 200, responseBody: null });
    expect(m.attempt!.error).toMatch(new RegExp(`^outcome could not be recorded: (Error: )?refused ${R} y+$`));
    expect(m.attempt!.error!.length).toBeLessThan(600);
    expect(m.update).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1, note: m.attempt!.error });
    expect(m.events).toEqual(o.events);
    expect(minimalOutcome(o, 'x', false).attempt).toBeNull();
  });
});

describe('recordingError', () => {
  it('a database error through MikroORM: PostgreSQL\'s message and the statement\'s shape, never the values nor the detail', () => {
    const err = Object.assign(new Error(`insert into "delivery_attempts" ("response_body") values ('secret - body') - invalid byte sequence for encoding "UTF8": 0x00`), {
      code: '22021',
      detail: 'Failing row contains (secret - body)',
    });
    const text = recordingError(err);
    expect(text).toMatch(/invalid byte sequence for encoding "UTF8"/);
    expect(text).not.toMatch(/secret/);
    expect(recordingError('x\u0000')).not.toMatch(/\u0000/);
  });
});
