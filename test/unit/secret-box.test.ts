/**
 * src/crypto/secret-box.ts: ids derived from names with the key (the ids of rules' deliveries, src/delivery/service.ts DeliveryOrigin and originName).
 */
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { UUID_PATTERN } from '../../src/db/sql.js';
import { originName } from '../../src/delivery/service.js';

const box = createSecretBox(Buffer.alloc(32, 1));

describe('derivedId', () => {
  it('is a version 8 UUID, the same for the same name, purpose and key (another box with the key: another process)', () => {
    const id = box.derivedId('delivery', '12/3/0');
    expect(id).toMatch(UUID_PATTERN);
    expect(id[14]).toBe('8');
    expect('89ab').toContain(id[19]);
    expect(createSecretBox(Buffer.alloc(32, 1)).derivedId('delivery', '12/3/0')).toBe(id);
  });

  it('differs with the name, the purpose and the key', () => {
    const ids = [
      box.derivedId('delivery', '12/3/0'),
      box.derivedId('delivery', '12/3/1'),
      box.derivedId('delivery', '1/23/0'),
      box.derivedId('other', '12/3/0'),
      createSecretBox(Buffer.alloc(32, 2)).derivedId('delivery', '12/3/0'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('stays what it was (a known answer): a change to the derivation would give a redo after an upgrade other ids than the first handling', () => {
    expect(box.derivedId('delivery', '12@2026-12-03T10:00:00.000Z/3/0/4')).toBe('22f4381c-2e81-8f26-98e8-dfec0c696285');
  });

  it('a rule delivery’s name stays what it was: event id, event time, rule, action, webhook', () => {
    const name = originName({ eventId: '12', eventAt: new Date('2026-12-03T10:00:00Z'), ruleId: '3', action: 0, webhookId: '4' });
    expect(name).toBe('12@2026-12-03T10:00:00.000Z/3/0/4');
    expect(box.derivedId('delivery', name)).toBe('22f4381c-2e81-8f26-98e8-dfec0c696285');
  });
});
