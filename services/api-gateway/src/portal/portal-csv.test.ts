import { describe, expect, test } from 'vitest';
import { parseBatchCsv } from './portal-route.js';

describe('parseBatchCsv', () => {
  test('rows without a header are to,text', () => {
    expect(parseBatchCsv('36201111111,Hello\n36202222222,"Hi, there"\n')).toEqual([
      { to: '36201111111', text: 'Hello', row: 1 },
      { to: '36202222222', text: 'Hi, there', row: 2 },
    ]);
  });

  test('a header names the columns in any order; BOM and CRLF are fine; empty lines skipped', () => {
    expect(
      parseBatchCsv('\ufeffmessage,phone\r\n"Line one\nline two",36201111111\r\n\r\nBye,36203333333\r\n'),
    ).toEqual([
      { to: '36201111111', text: 'Line one\nline two', row: 2 },
      { to: '36203333333', text: 'Bye', row: 3 },
    ]);
  });

  test('short rows give empty fields (rejected by the route), broken quoting throws', () => {
    expect(parseBatchCsv('to,text\n36201111111\n')).toEqual([{ to: '36201111111', text: '', row: 2 }]);
    expect(() => parseBatchCsv('to,text\n"unterminated,x\n')).toThrow();
  });
});
