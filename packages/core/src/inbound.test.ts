import { describe, expect, test } from 'vitest';
import {
  assembleParts,
  concatFromSar,
  isValidMoId,
  moGroupKey,
  parseConcatUdh,
  type MoMessage,
} from './inbound.js';

describe('parseConcatUdh', () => {
  test.each([
    ['8-bit reference', '050003A70302', { ref: 0xa7, total: 3, seq: 2 }],
    ['16-bit reference', '0608041234030 1'.replace(' ', ''), { ref: 0x1234, total: 3, seq: 1 }],
    ['other element first', '0B0504158A00000003070201', { ref: 7, total: 2, seq: 1 }],
    ['bytes', [5, 0, 3, 9, 2, 2], { ref: 9, total: 2, seq: 2 }],
    ['no concatenation element', '0504040B8423F0', undefined],
    ['seq beyond total', '0500030A0204', undefined],
    ['seq zero', '0500030A0200', undefined],
    ['one part only', '0500030A0101', undefined],
    ['truncated', '05000300', undefined],
    ['not hex', 'zz', undefined],
    ['empty', '', undefined],
  ] as const)('%s', (_n, udh, out) => {
    expect(parseConcatUdh(udh as string)).toEqual(out);
  });

  test('SAR', () => {
    expect(concatFromSar(300, 3, 3)).toEqual({ ref: 300, total: 3, seq: 3 });
    expect(concatFromSar(300, 3, 4)).toBeUndefined();
  });
});

function part(seq: number, text: string, id = `id${seq}`): MoMessage {
  return {
    id,
    from: '3611',
    to: '3622',
    text,
    receivedAt: 1000 + seq,
    source: 'smpp',
    part: { ref: 7, total: 3, seq },
  };
}

describe('assembleParts', () => {
  test('parts in any order join in seq order', () => {
    for (const order of [
      [1, 2, 3],
      [3, 1, 2],
      [2, 3, 1],
      [3, 2, 1],
    ]) {
      const texts = ['Hello ', 'big ', 'world'];
      const r = assembleParts(order.map((s) => part(s, texts[s - 1]!)));
      expect(r).toEqual({
        complete: true,
        text: 'Hello big world',
        ids: ['id1', 'id2', 'id3'],
        firstReceivedAt: 1001,
      });
    }
  });

  test('incomplete, and duplicates count once', () => {
    expect(assembleParts([part(3, 'c'), part(1, 'a'), part(3, 'c', 'again')])).toEqual({
      complete: false,
      have: 2,
      total: 3,
    });
  });

  test('group key and ids', () => {
    expect(moGroupKey(part(1, 'x') as MoMessage & { part: NonNullable<MoMessage['part']> })).toBe(
      '3611|3622|7|3',
    );
    expect(isValidMoId('5jv45t5tb42bavu34drfr')).toBe(true);
    expect(isValidMoId('has space')).toBe(false);
    expect(isValidMoId('x'.repeat(41))).toBe(false);
  });
});
