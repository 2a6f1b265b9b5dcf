import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  analyzeText,
  chooseEncoding,
  countSegments,
  decodeGsm7Unpacked,
  decodeUcs2,
  encodeGsm7Unpacked,
  encodeUcs2,
  packGsm7,
  udhFillBits,
} from './gsm.js';

interface VectorSegment {
  index: number;
  text: string;
  septets?: number;
  ucs2_units?: number;
  user_data_hex_unpacked?: string;
  user_data_hex?: string;
  udh_hex?: string;
  fill_bits?: number;
  tp_ud_hex_packed?: string;
  tp_ud_octets_packed?: number;
}
interface VectorCase {
  id: string;
  input: string;
  encoding: 'GSM7' | 'UCS2';
  data_coding: number;
  total_units: number;
  unit: string;
  segment_count: number;
  segments: VectorSegment[];
  segment_count_with_16bit_ref: number;
  units_per_segment_with_16bit_ref: number[];
}
interface TableEntry {
  char: string;
  septet?: string;
  septets?: string;
}

// Test files may read the copied fixtures; src never does.
const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
const vectors = fixture<{ cases: VectorCase[] }>('gsm_segments.json').cases;
const table = fixture<{ basic: TableEntry[]; extension: TableEntry[] }>('gsm7_table.json');

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const REF8 = 0x42;
const REF16 = 0x1234;

describe('gsm_segments.json vectors', () => {
  it('has all 29 cases', () => expect(vectors).toHaveLength(29));

  it.each(vectors.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const a = analyzeText(c.input, { reference: REF8 });
    expect(a.encoding).toBe(c.encoding);
    expect(chooseEncoding(c.input)).toBe(c.encoding);
    expect(a.dataCoding).toBe(c.data_coding);
    expect(a.unit).toBe(c.encoding === 'GSM7' ? 'septet' : 'ucs2');
    expect(a.totalUnits).toBe(c.total_units);
    expect(a.segments).toHaveLength(c.segment_count);
    expect(a.segments.map((s) => s.text).join('')).toBe(c.input);

    c.segments.forEach((vs, i) => {
      const s = a.segments[i]!;
      expect(s.index).toBe(vs.index);
      expect(s.text).toBe(vs.text);
      expect(s.units).toBe(vs.septets ?? vs.ucs2_units);
      expect(hex(s.userData)).toBe(vs.user_data_hex_unpacked ?? vs.user_data_hex);
      expect(s.udh === undefined ? undefined : hex(s.udh)).toBe(vs.udh_hex);
      if (vs.tp_ud_hex_packed !== undefined) {
        const udh = s.udh ?? new Uint8Array(0);
        const fill = udhFillBits(udh.length);
        expect(fill).toBe(vs.fill_bits ?? 0);
        const packed = Buffer.concat([udh, packGsm7(s.userData, fill)]);
        expect(packed.toString('hex')).toBe(vs.tp_ud_hex_packed);
        expect(packed.length).toBe(vs.tp_ud_octets_packed);
      }
    });

    const a16 = analyzeText(c.input, { ref16: true, reference: REF16 });
    expect(a16.segments).toHaveLength(c.segment_count_with_16bit_ref);
    expect(a16.segments.map((s) => s.units)).toEqual(c.units_per_segment_with_16bit_ref);
    expect(a16.segments.map((s) => s.text).join('')).toBe(c.input);
    if (a16.segments.length > 1) {
      a16.segments.forEach((s, i) => {
        const total = a16.segments.length.toString(16).padStart(2, '0');
        const idx = (i + 1).toString(16).padStart(2, '0');
        expect(hex(s.udh!)).toBe(`060804${'1234'}${total}${idx}`);
      });
    } else {
      expect(a16.segments[0]!.udh).toBeUndefined();
    }

    // The fast path must agree with the full analysis, in both UDH modes.
    for (const [opts, full] of [
      [{}, a],
      [{ ref16: true }, a16],
    ] as const) {
      const n = countSegments(c.input, opts);
      expect(n.encoding).toBe(full.encoding);
      expect(n.units).toBe(full.totalUnits);
      expect(n.segments).toBe(full.segments.length);
    }
  });
});

describe('gsm7_table.json round trip', () => {
  const rows = [
    ...table.basic.map((e) => [e.char, Number(e.septet)] as const),
    ...table.extension.map((e) => [e.char, Number(e.septets)] as const),
  ];

  it('has 127 basic + 10 extension entries', () => expect(rows).toHaveLength(137));

  it.each(rows)('%j <-> 0x%s', (ch, code) => {
    const expected = code > 0xff ? [code >> 8, code & 0xff] : [code];
    const enc = encodeGsm7Unpacked(ch);
    expect([...enc]).toEqual(expected);
    expect(decodeGsm7Unpacked(enc)).toBe(ch);
    expect(chooseEncoding(ch)).toBe('GSM7');
    expect(countSegments(ch).units).toBe(expected.length);
  });

  it('round-trips the whole alphabet as one string', () => {
    const all = rows.map(([ch]) => ch).join('');
    expect(decodeGsm7Unpacked(encodeGsm7Unpacked(all))).toBe(all);
  });
});

describe('chooseEncoding traps', () => {
  it.each([
    ['`', 'UCS2'],
    ['ç', 'UCS2'],
    ['Ç', 'GSM7'],
    ['\t', 'UCS2'],
    ['\u00a0', 'UCS2'],
    ['a\u2019b', 'UCS2'],
    ['\u2026', 'UCS2'],
    ['€[]{}~^|\\\f', 'GSM7'],
    ['\u{1F600}', 'UCS2'],
    ['\ud800', 'UCS2'],
    ['', 'GSM7'],
  ] as const)('%j -> %s', (text, enc) => expect(chooseEncoding(text)).toBe(enc));
});

describe('packGsm7', () => {
  it.each([
    ['hellohello', 0, 'e8329bfd4697d9ec37'],
    ['', 0, ''],
    ['a', 1, 'c2'],
  ] as const)('%j fill=%d -> %s', (text, fill, out) => {
    expect(hex(packGsm7(encodeGsm7Unpacked(text), fill))).toBe(out);
  });
  it('rejects bad fill bits', () => expect(() => packGsm7(new Uint8Array(1), 7)).toThrow(RangeError));
});

describe('udhFillBits', () => {
  it.each([
    [0, 0],
    [6, 1],
    [7, 0],
  ])('%d octets -> %d bits', (octets, bits) => expect(udhFillBits(octets)).toBe(bits));
});

describe('UCS2', () => {
  it.each([
    ['Δ', '0394'],
    ['😀', 'd83dde00'],
    ['Ab', '00410062'],
  ])('%j <-> %s', (text, h) => {
    expect(hex(encodeUcs2(text))).toBe(h);
    expect(decodeUcs2(Buffer.from(h, 'hex'))).toBe(text);
  });
  it('drops an odd trailing octet', () => expect(decodeUcs2(Uint8Array.of(0, 0x41, 0))).toBe('A'));
});

describe('decodeGsm7Unpacked tolerance', () => {
  it.each([
    [[0x1b, 0x41], 'A'], // unknown escape shows the basic character
    [[0x1b, 0x1b], ' '], // reserved escape-to-another-table shows a space
    [[0x41, 0x1b], 'A '], // trailing lone ESC
  ])('%j -> %j', (bytes, text) => expect(decodeGsm7Unpacked(Uint8Array.from(bytes))).toBe(text));
  it('encodeGsm7Unpacked throws on non-GSM text', () =>
    expect(() => encodeGsm7Unpacked('ç')).toThrow(RangeError));
});

describe('analyzeText details', () => {
  it('uses reference 0 by default and masks the 8-bit reference', () => {
    expect(hex(analyzeText('a'.repeat(161)).segments[0]!.udh!)).toBe('050003000201');
    expect(hex(analyzeText('a'.repeat(161), { reference: 0x1ff }).segments[1]!.udh!)).toBe('050003ff0202');
  });
  it('treats an empty text as one empty part', () => {
    const a = analyzeText('');
    expect(a.segments).toEqual([{ index: 1, text: '', units: 0, userData: new Uint8Array(0) }]);
    expect(countSegments('')).toEqual({ encoding: 'GSM7', segments: 1, units: 0, charsLeftInSegment: 160 });
  });
  it('rejects more than 255 parts', () => {
    expect(() => analyzeText('a'.repeat(153 * 255))).not.toThrow();
    expect(() => analyzeText('a'.repeat(153 * 255 + 1))).toThrow(RangeError);
  });
  it('never ends a part with ESC or a high surrogate', () => {
    for (const text of ['{'.repeat(400), 'a' + '{'.repeat(400), '😀'.repeat(200), 'a' + '😀'.repeat(200)]) {
      for (const s of analyzeText(text).segments) {
        const last = s.userData.length;
        if (chooseEncoding(text) === 'GSM7') expect(s.userData[last - 1]).not.toBe(0x1b);
        else expect(s.userData[last - 2]! & 0xfc).not.toBe(0xd8);
      }
    }
  });
});

describe('countSegments', () => {
  it.each([
    ['a'.repeat(160), { encoding: 'GSM7', segments: 1, units: 160, charsLeftInSegment: 0 }],
    ['a'.repeat(161), { encoding: 'GSM7', segments: 2, units: 161, charsLeftInSegment: 145 }],
    ['€', { encoding: 'GSM7', segments: 1, units: 2, charsLeftInSegment: 158 }],
    ['Привет', { encoding: 'UCS2', segments: 1, units: 6, charsLeftInSegment: 64 }],
    ['ж'.repeat(71), { encoding: 'UCS2', segments: 2, units: 71, charsLeftInSegment: 63 }],
  ] as const)('%#', (text, expected) => expect(countSegments(text)).toEqual(expected));

  // Deterministic PRNG so a failure is reproducible.
  let seed = 0x2545f491;
  const rnd = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pools = [
    ['a', 'b', ' ', '€', '{', '}', '[', '\\', 'Ä', '@', '\n'],
    ['a', '€', '{', 'ж', '😀', '👍🏽', 'é', 'ç', '\ud800'],
    ['😀', 'a', '{'],
  ];

  it('agrees with analyzeText on 2000 random strings', () => {
    for (let n = 0; n < 2000; n++) {
      const pool = pools[n % pools.length]!;
      const len = rnd(420);
      let text = '';
      for (let i = 0; i < len; i++) text += pool[rnd(pool.length)];
      for (const ref16 of [false, true]) {
        const full = analyzeText(text, { ref16 });
        const fast = countSegments(text, { ref16 });
        expect(fast.encoding).toBe(full.encoding);
        expect(fast.units).toBe(full.totalUnits);
        expect(fast.segments).toBe(full.segments.length);
        const limit =
          full.segments.length === 1
            ? full.encoding === 'GSM7'
              ? 160
              : 70
            : (full.encoding === 'GSM7' ? 153 : 67) - (ref16 ? 1 : 0);
        expect(fast.charsLeftInSegment).toBe(limit - full.segments.at(-1)!.units);
        expect(full.segments.map((s) => s.text).join('')).toBe(text);
        for (const s of full.segments) expect(s.units).toBeLessThanOrEqual(limit);
      }
    }
  });
});
