import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeText,
  countSegments,
  decodeGsm7Unpacked,
  decodeUcs2,
  encodeGsm7Unpacked,
  MAX_SEGMENTS,
  packGsm7,
  udhFillBits,
} from './gsm.js';

/** FC_NUM_RUNS=100000 for a long run; the default keeps CI fast. */
const numRuns = Number(process.env['FC_NUM_RUNS'] ?? 500);

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXT = '\f^{}\\[~]|€';

const gsmChar = fc.constantFrom(...GSM_BASIC);
const extChar = fc.constantFrom(...GSM_EXT);
const astral = fc.integer({ min: 0x10000, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp));
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u));
const bmp = fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u));

/** Texts that stay GSM7 (heavy on extension characters, which take two septets). */
const gsmText = fc
  .array(fc.oneof({ weight: 3, arbitrary: gsmChar }, { weight: 1, arbitrary: extChar }), { maxLength: 700 })
  .map((a) => a.join(''));
/** Anything a client may send: astral characters, lone surrogates, any BMP unit. */
const anyText = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: gsmChar },
      { weight: 1, arbitrary: extChar },
      { weight: 2, arbitrary: astral },
      { weight: 1, arbitrary: loneSurrogate },
      { weight: 1, arbitrary: bmp },
    ),
    { maxLength: 400 },
  )
  .map((a) => a.join(''));
const text = fc.oneof(gsmText, anyText);

const isHigh = (u: number) => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number) => u >= 0xdc00 && u <= 0xdfff;

describe('GSM/UCS2 splitter properties', () => {
  it('parts reassemble to the text, each under its limit, no split escape or surrogate pair', () => {
    fc.assert(
      fc.property(text, fc.boolean(), fc.integer({ min: 0, max: 0xffff }), (t, ref16, reference) => {
        const a = analyzeText(t, { ref16, reference });
        const segs = a.segments;
        expect(segs.map((s) => s.text).join('')).toBe(t);
        const gsm = a.encoding === 'GSM7';
        const limit = segs.length === 1 ? (gsm ? 160 : 70) : gsm ? (ref16 ? 152 : 153) : ref16 ? 66 : 67;
        let total = 0;
        segs.forEach((s, i) => {
          expect(s.index).toBe(i + 1);
          expect(s.units).toBeLessThanOrEqual(limit);
          total += s.units;
          // user data decodes back to exactly this part's text
          if (gsm) {
            expect(s.userData.length).toBe(s.units);
            expect(decodeGsm7Unpacked(s.userData)).toBe(s.text);
            // an escape (0x1B) is always followed by its code inside the same part
            const last = s.userData[s.userData.length - 1];
            if (s.userData.length > 0) expect(last === 0x1b && !escapeEnded(s.userData)).toBe(false);
          } else {
            expect(s.userData.length).toBe(2 * s.units);
            expect(decodeUcs2(s.userData)).toBe(s.text);
          }
          // a surrogate pair is never cut between parts
          const next = segs[i + 1];
          if (next && s.text.length > 0 && next.text.length > 0) {
            const endsHigh = isHigh(s.text.charCodeAt(s.text.length - 1));
            const startsLow = isLow(next.text.charCodeAt(0));
            expect(endsHigh && startsLow).toBe(false);
          }
          if (segs.length > 1) {
            const udh = s.udh!;
            expect(udh[udh.length - 2]).toBe(segs.length);
            expect(udh[udh.length - 1]).toBe(i + 1);
            if (ref16) expect((udh[3]! << 8) | udh[4]!).toBe(reference);
            else expect(udh[3]).toBe(reference & 0xff);
          } else {
            expect(s.udh).toBeUndefined();
          }
        });
        expect(total).toBe(a.totalUnits);
        // a part is only closed when the next character would not fit
        for (let i = 0; i + 1 < segs.length; i++) {
          const nextChar = firstCharUnits(segs[i + 1]!.text, gsm);
          expect(segs[i]!.units + nextChar).toBeGreaterThan(limit);
        }
      }),
      { numRuns },
    );
  });

  it('countSegments agrees with analyzeText', () => {
    fc.assert(
      fc.property(text, fc.boolean(), (t, ref16) => {
        const a = analyzeText(t, { ref16 });
        const c = countSegments(t, { ref16 });
        expect(c.encoding).toBe(a.encoding);
        expect(c.segments).toBe(a.segments.length);
        expect(c.units).toBe(a.totalUnits);
        expect(c.charsLeftInSegment).toBeGreaterThanOrEqual(0);
      }),
      { numRuns },
    );
  });

  it('more than 255 parts is a RangeError, never a silent wrap of the UDH counter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 250 * 153, max: 260 * 153 }), gsmChar, (n, ch) => {
        const t = ch.repeat(n);
        const parts = countSegments(t).segments;
        if (parts > MAX_SEGMENTS) expect(() => analyzeText(t)).toThrow(RangeError);
        else expect(analyzeText(t).segments).toHaveLength(parts);
      }),
      { numRuns: Math.min(numRuns, 30) },
    );
  });

  it('GSM7 packing keeps every septet (unpack of pack is the identity)', () => {
    fc.assert(
      fc.property(gsmText, fc.integer({ min: 0, max: 6 }), (t, fill) => {
        const septets = encodeGsm7Unpacked(t);
        const packed = packGsm7(septets, fill);
        expect(packed.length).toBe(Math.ceil((fill + 7 * septets.length) / 8));
        expect(unpack(packed, fill, septets.length)).toEqual(septets);
      }),
      { numRuns },
    );
    expect(udhFillBits(6)).toBe(1);
    expect(udhFillBits(7)).toBe(0);
  });
});

/** True when the trailing 0x1B is itself the code of an escape pair (1B 1B). */
function escapeEnded(ud: Uint8Array): boolean {
  let i = 0;
  let lastWasPairEnd = false;
  while (i < ud.length) {
    if (ud[i] === 0x1b && i + 1 < ud.length) {
      i += 2;
      lastWasPairEnd = i === ud.length;
    } else {
      lastWasPairEnd = false;
      i++;
    }
  }
  return lastWasPairEnd;
}

function firstCharUnits(t: string, gsm: boolean): number {
  if (gsm) return GSM_EXT.includes(t.charAt(0)) ? 2 : 1;
  return isHigh(t.charCodeAt(0)) && t.length > 1 && isLow(t.charCodeAt(1)) ? 2 : 1;
}

function unpack(packed: Uint8Array, fill: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const bit = fill + 7 * n;
    const k = bit >> 3;
    const word = (packed[k] ?? 0) | ((packed[k + 1] ?? 0) << 8);
    out[n] = (word >> (bit & 7)) & 0x7f;
  }
  return out;
}
