import { describe, expect, test } from 'vitest';
import { parseReceiptText, providerIdLookupKeys, providerIdStoreKeys, receiptState } from './receipt.js';

describe('parseReceiptText', () => {
  test('standard v3.4 appendix B text', () => {
    expect(
      parseReceiptText(
        'id:0123456789 sub:001 dlvrd:001 submit date:2611271200 done date:2611271201 stat:DELIVRD err:000 text:Hello world',
      ),
    ).toEqual({
      id: '0123456789',
      stat: 'DELIVRD',
      err: '000',
      submitDate: '2611271200',
      doneDate: '2611271201',
      text: 'Hello world',
    });
  });
  test('keys in other case, reordered, 12-digit dates, missing text', () => {
    expect(
      parseReceiptText('Stat:undeliv ID:2B0E7D51 err:0A1 Submit date:261127120000 done date:261127120100'),
    ).toEqual({
      id: '2B0E7D51',
      stat: 'UNDELIV',
      err: '0A1',
      submitDate: '261127120000',
      doneDate: '261127120100',
    });
  });
  test('garbage gives an empty result', () => expect(parseReceiptText('hello there')).toEqual({}));
});

describe('receiptState', () => {
  test.each([
    ['DELIVRD', undefined, 'delivered'],
    ['UNDELIV', undefined, 'undelivered'],
    ['EXPIRED', undefined, 'expired'],
    ['REJECTD', undefined, 'rejected'],
    ['ENROUTE', undefined, undefined],
    ['delivrd', undefined, 'delivered'],
    [undefined, 2, 'delivered'],
    ['DELIVRD', 5, 'undelivered'],
    [undefined, undefined, undefined],
  ] as const)('stat %s message_state %s -> %s', (stat, ms, want) =>
    expect(receiptState(stat, ms)).toBe(want),
  );
});

describe('provider id keys', () => {
  const matches = (stored: string, receipt: string) =>
    providerIdLookupKeys(receipt).find((k) => providerIdStoreKeys(stored).includes(k));
  test('hex in the submit answer and decimal in the receipt match (reference vector)', () => {
    expect(matches('2B0E7D51', '722369873')).toBe('h722369873');
  });
  test('the same string both ways matches exactly', () => expect(matches('sim-17', 'SIM-17')).toBe('sim-17'));
  test('leading zeros and letter case do not matter', () => expect(matches('000ABC', 'abc')).toBe('abc'));
  test('an exact match is tried before the hex conversion', () => {
    expect(providerIdLookupKeys('16')[0]).toBe('16');
    expect(matches('16', '16')).toBe('16');
  });
  test('different ids do not match', () => expect(matches('sim-1', 'sim-2')).toBeUndefined());
  test('empty id has no keys', () => {
    expect(providerIdStoreKeys('  ')).toEqual([]);
    expect(providerIdLookupKeys('')).toEqual([]);
  });
});
