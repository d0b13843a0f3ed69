/**
 * The live feed's NOTIFY payloads (eventPayloads) as a table: events in, JSON arrays out,
 * each under PostgreSQL's 8,000-byte NOTIFY limit, every event once and in order.
 */
import { describe, expect, it } from 'vitest';
import type { DeliveryEventMessage } from '../../src/domain/index.js';
import { eventPayloads } from '../../src/delivery/index.js';

const NOTIFY_LIMIT = 8000;

/** A realistic event, 135 bytes of JSON for i < 1000: uuid delivery id, webhook and ticket ids, ISO time. */
function event(i: number, over: Partial<DeliveryEventMessage> = {}): DeliveryEventMessage {
  return {
    t: 'ATTEMPTED',
    d: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    w: String(1000 + i),
    k: String(2000 + i),
    s: 'RETRYING',
    n: (i % 5) + 1,
    at: new Date(Date.UTC(2025, 0, 1, 0, 0, i % 60)).toISOString(),
    ...over,
  };
}

/** events per payload: [ + 57 × (135 + a comma) − 1 + ] = 7,753 bytes; a 58th would pass 7,800 */
const FULL = 57;

const events = (n: number, from = 0) => Array.from({ length: n }, (_, i) => event(from + i));
const size = (e: DeliveryEventMessage) => JSON.stringify(e).length;
/** An event far over the limit by itself (a long status text stands in for any big field). */
const huge = event(999, { s: 'X'.repeat(9000) as DeliveryEventMessage['s'] });

describe('eventPayloads', () => {
  it('the events of the table are 135 bytes each', () => {
    expect(new Set(events(500).map(size))).toEqual(new Set([135]));
  });

  const cases: [what: string, input: DeliveryEventMessage[], payloadLengths: number[]][] = [
    ['no event → no payload', [], []],
    ['one event → one payload', events(1), [1]],
    ['a few events → one payload', events(10), [10]],
    ['as many as fit → one payload', events(FULL), [FULL]],
    ['one more than fits → two payloads', events(FULL + 1), [FULL, 1]],
    ['a batch of 500 → nine payloads, all full but the last', events(500), [...Array<number>(8).fill(FULL), 500 - 8 * FULL]],
    ['one event over the limit by itself → a payload of its own, the others around it in theirs', [event(1), huge, event(2)], [1, 1, 1]],
    ['a huge event first and last', [huge, ...events(3), huge], [1, 3, 1]],
  ];

  it.each(cases)('%s', (_what, input, payloadLengths) => {
    const payloads = eventPayloads(input);
    const parsed = payloads.map((p) => JSON.parse(p) as DeliveryEventMessage[]);
    expect(parsed.map((p) => p.length)).toEqual(payloadLengths);
    // every event once, in order
    expect(parsed.flat()).toEqual(input);
    // under the limit; only an event over it by itself makes a payload over it
    for (const [i, p] of payloads.entries()) {
      const alone = parsed[i]!.length === 1 && size(parsed[i]![0]!) > 7800;
      if (!alone) expect(Buffer.byteLength(p), `payload ${i}`).toBeLessThan(NOTIFY_LIMIT);
    }
    // each payload but the last is full: the next event would not have fit
    for (let i = 0; i + 1 < payloads.length; i++) {
      const next = parsed[i + 1]![0]!;
      expect(Buffer.byteLength(payloads[i]!) + 1 + size(next), `payload ${i} is full`).toBeGreaterThan(7800);
    }
  });
});
