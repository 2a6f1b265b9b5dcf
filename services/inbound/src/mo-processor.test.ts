import { describe, expect, test } from 'vitest';
import { assembledId, deliveryFor, stableMoId } from './mo-processor.js';

describe('deliveryFor (smsreceive_route)', () => {
  const full = { email: 'a@example.test', chatEndpoint: 'sip:a@example.test' };
  const mailOnly = { email: 'a@example.test', chatEndpoint: '' };
  const nothing = { email: '', chatEndpoint: '' };
  test.each([
    [0, full, false, false],
    [1, mailOnly, true, false],
    [2, mailOnly, false, true],
    [2, nothing, true, false], // no address: kept in the inbox, never lost
    [3, full, true, false], // has a chat endpoint: chat
    [3, mailOnly, false, true], // no chat endpoint: email
    [3, nothing, true, false],
    [4, mailOnly, true, true],
    [4, nothing, true, false],
  ])('route %i, user %j -> chat %s, email %s', (route, user, chat, email) => {
    expect(deliveryFor(route, user)).toMatchObject({ chat, email });
  });
});

describe('message ids', () => {
  test('valid ids stay, others are hashed to a stable key', () => {
    expect(stableMoId('5jv45t5tb42bavu34drfr')).toBe('5jv45t5tb42bavu34drfr');
    const long = 'x'.repeat(80);
    expect(stableMoId(long)).toBe(stableMoId(long));
    expect(stableMoId(long)).toMatch(/^h[0-9a-f]{39}$/);
    expect(stableMoId('with space')).not.toBe(stableMoId('with_space'));
  });
  test('an assembled message has the same id whatever the redelivery', () => {
    expect(assembledId(['a', 'b', 'c'])).toBe(assembledId(['a', 'b', 'c']));
    expect(assembledId(['a', 'b', 'c'])).not.toBe(assembledId(['a', 'b', 'd']));
    expect(assembledId(['a'])).toHaveLength(40);
  });
});
