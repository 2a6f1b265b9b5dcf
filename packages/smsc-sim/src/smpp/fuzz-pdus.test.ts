import { describe, expect, it } from 'vitest';
import { FUZZ_PDU_KINDS, FUZZ_SEQUENCE_BASE, fuzzPdu } from './fuzz-pdus.js';

const rand = (() => {
  let x = 1;
  return () => (x = (x * 48271) % 2147483647) / 2147483647;
})();

describe('malformed PDUs of the fuzz mode', () => {
  it.each(FUZZ_PDU_KINDS.map((k) => [k]))('%s', (kind) => {
    for (let n = 1; n <= 50; n++) {
      const b = fuzzPdu(kind, rand, n);
      expect(b.length).toBeGreaterThan(0);
      if (b.length < 16) continue; // garbage may be shorter than a header
      const len = b.readUInt32BE(0);
      switch (kind) {
        case 'short-length':
          expect(len).toBeLessThan(16);
          break;
        case 'over-max-length':
          expect(len).toBeGreaterThan(0x00ffffff);
          break;
        case 'stall-length':
          expect(len).toBeGreaterThan(b.length);
          break;
        case 'garbage':
          break;
        default:
          // Well framed: the length is the PDU's, and the sequence number can answer nothing real.
          expect(len).toBe(b.length);
          expect(b.readUInt32BE(12)).toBeGreaterThanOrEqual(FUZZ_SEQUENCE_BASE);
      }
    }
  });

  it('broken receipts never name an id a real message could have (hex or decimal)', () => {
    for (let n = 1; n <= 100; n++) {
      const text = fuzzPdu('broken-receipt', rand, n).toString('latin1');
      for (const m of text.matchAll(/id:(\S*)/g)) expect(m[1]).not.toMatch(/^[0-9a-f]+$/i);
    }
  });
});
