import { describe, expect, test } from 'vitest';
import { chooseGateway } from './gateway-choice.js';

const gw = [
  { id: 4, name: 'a' },
  { id: 9, name: 'b' },
];

describe('chooseGateway', () => {
  test.each([
    [0, 'http://x', gw, 0],
    [0, '', gw, undefined],
    [1, 'http://x', gw, 4],
    [1, 'http://x', [], undefined],
    [-1, 'http://x', gw, 4],
    [-1, 'http://x', [], 0],
    [-1, '', [], undefined],
  ] as const)('smsrouting=%i smsurl=%j -> %j', (smsrouting, smsurl, gws, want) => {
    expect(chooseGateway({ smsrouting, smsurl }, [...gws])?.id).toBe(want);
  });
});
