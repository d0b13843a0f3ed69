/** What a delivery shows beyond its columns (src/delivery/view.ts), as a table. */
import { describe, expect, it } from 'vitest';
import { deliveryView } from '../../src/delivery/view.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../src/domain/index.js';

const at = new Date('2030-01-01T00:00:00Z');

describe('deliveryView', () => {
  it.each(DELIVERY_STATUSES.map((s) => [s, s === 'PENDING' || s === 'RETRYING'] as const))('%s: the next attempt is shown: %s', (status, shown) => {
    expect(deliveryView({ status, nextAttemptAt: at, notes: [], lastError: null }).nextAttemptAt).toEqual(shown ? at : null);
  });

  const cases: [DeliveryStatus, string[], string | null, string[]][] = [
    ['FAILED', ['a note'], 'HTTP 503', ['a note', 'HTTP 503']],
    ['FAILED', ['HTTP 503'], 'HTTP 503', ['HTTP 503']],
    ['FAILED', [], null, []],
    ['RETRYING', ['a note'], 'HTTP 503', ['a note']],
    ['SUCCEEDED', [], 'HTTP 503', []],
    ['CANCELLED', [], 'timeout', []],
  ];
  it.each(cases)('%s with notes %j and last error %j shows notes %j', (status, notes, lastError, shown) => {
    expect(deliveryView({ status, nextAttemptAt: null, notes, lastError }).notes).toEqual(shown);
  });

  it('does not change the notes it is given', () => {
    const notes = ['a note'];
    deliveryView({ status: 'FAILED', nextAttemptAt: null, notes, lastError: 'boom' });
    expect(notes).toEqual(['a note']);
  });
});
