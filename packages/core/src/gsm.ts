/**
 * GSM 03.38 (3GPP TS 23.038) / UCS2 encoding choice, counting and concatenation splitting.
 * The rules and the worked cases live in the shared reference `gsm.md`; the vectors we test
 * against are copied into `fixtures/`.
 */

export type GsmEncoding = 'GSM7' | 'UCS2';

export interface Segment {
  /** 1-based part number (the SS octet of the UDH). */
  index: number;
  text: string;
  /** Septets (GSM7) or UTF-16 code units (UCS2) of this part. */
  units: number;
  /** GSM7: unpacked, one septet per octet (escape pairs included). UCS2: UTF-16BE. UDH not included. */
  userData: Uint8Array;
  /** Concatenation UDH, present only on multipart messages. */
  udh?: Uint8Array;
}

export interface TextAnalysis {
  encoding: GsmEncoding;
  /** SMPP data_coding: 0 (SMSC default alphabet) for GSM7, 8 for UCS2. */
  dataCoding: 0 | 8;
  unit: 'septet' | 'ucs2';
  totalUnits: number;
  segments: Segment[];
}

export interface SegmentCount {
  encoding: GsmEncoding;
  segments: number;
  units: number;
  /** Units (septets or UTF-16 units, not characters) still free in the last part. */
  charsLeftInSegment: number;
}

export interface SplitOptions {
  /** Use the 7-octet UDH with a 16-bit reference (IEI 0x08): one unit less per part. */
  ref16?: boolean;
}

export interface AnalyzeOptions extends SplitOptions {
  /** Concatenation reference; the caller keeps a rolling counter (ideally per destination). */
  reference?: number;
}

/** TT is one octet and 0 is ignored by receivers, so a message can have at most 255 parts. */
export const MAX_SEGMENTS = 255;

const ESC = 0x1b;

// Indexed by septet value; index 0x1B is ESC and has no character of its own.
const BASIC =
  '@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5' +
  '\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1b\u00c6\u00e6\u00df\u00c9' +
  ' !"#\u00a4%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '\u00a1ABCDEFGHIJKLMNO' +
  'PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7' +
  '\u00bfabcdefghijklmno' +
  'pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0';

const EXTENSION: ReadonlyArray<readonly [code: number, ch: string]> = [
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '\u20ac'],
];

// Every GSM character is in the BMP and the highest is U+20AC (euro), so a flat table indexed by
// UTF-16 unit gives an allocation-free lookup for the hot path. Value: -1 = not GSM7,
// 0..0x7F = basic septet, 0x100 | code = extension (ESC + code).
const LOOKUP_SIZE = 0x20ad;
const NOT_GSM = -1;
const EXT_FLAG = 0x100;
const LOOKUP = new Int16Array(LOOKUP_SIZE).fill(NOT_GSM);
for (let code = 0; code < 128; code++) {
  if (code !== ESC) LOOKUP[BASIC.charCodeAt(code)] = code;
}
for (const [code, ch] of EXTENSION) LOOKUP[ch.charCodeAt(0)] = EXT_FLAG | code;

// Decoding: ESC + code not in the extension table shows the basic character (TS 23.038 6.2.1.1).
const DECODE_EXT: string[] = [];
for (let code = 0; code < 128; code++) DECODE_EXT[code] = BASIC.charAt(code);
for (const [code, ch] of EXTENSION) DECODE_EXT[code] = ch;
// 1B 1B is reserved for a further table; receivers display a space until one is defined.
DECODE_EXT[ESC] = ' ';

const LIMITS = {
  GSM7: { single: 160, concat8: 153, concat16: 152 },
  UCS2: { single: 70, concat8: 67, concat16: 66 },
} as const;

function lookup(unit: number): number {
  return unit < LOOKUP_SIZE ? (LOOKUP[unit] ?? NOT_GSM) : NOT_GSM;
}

function isHighSurrogate(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}
function isLowSurrogate(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}

/**
 * GSM7 when every code point is in the strict basic or extension table, else UCS2.
 * All GSM characters are in the BMP, so any surrogate (paired or not) means UCS2; scanning
 * UTF-16 units is therefore the same as iterating by code point, without the iterator cost.
 */
export function chooseEncoding(text: string): GsmEncoding {
  for (let i = 0; i < text.length; i++) {
    if (lookup(text.charCodeAt(i)) === NOT_GSM) return 'UCS2';
  }
  return 'GSM7';
}

/** Septets of the whole text, or -1 when a character is not GSM7 (then the text is UCS2). */
function gsm7Units(text: string): number {
  let units = 0;
  for (let i = 0; i < text.length; i++) {
    const v = lookup(text.charCodeAt(i));
    if (v === NOT_GSM) return -1;
    units += v & EXT_FLAG ? 2 : 1;
  }
  return units;
}

/** Units taken by the character starting at UTF-16 index i. */
function charWeight(text: string, i: number, encoding: GsmEncoding): 1 | 2 {
  const u = text.charCodeAt(i);
  if (encoding === 'GSM7') return lookup(u) & EXT_FLAG ? 2 : 1;
  // An astral character is a surrogate pair: 2 units that must stay together. A lone surrogate
  // is sent as one unit (it is malformed, but must not break the count).
  return isHighSurrogate(u) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1;
}

/**
 * Greedy split on whole characters. Calls `onPart(start, end, units)` for each part (UTF-16
 * indices). A GSM7 extension char occupies 2 septets and 1 UTF-16 unit; an astral char occupies
 * 2 UCS2 units and 2 UTF-16 units, which is why the index step differs from the weight.
 */
function split(
  text: string,
  encoding: GsmEncoding,
  limit: number,
  onPart: (start: number, end: number, units: number) => void,
): void {
  let start = 0;
  let units = 0;
  let i = 0;
  while (i < text.length) {
    const w = charWeight(text, i, encoding);
    if (units + w > limit) {
      onPart(start, i, units);
      start = i;
      units = 0;
    }
    units += w;
    i += encoding === 'UCS2' ? w : 1;
  }
  onPart(start, text.length, units);
}

/**
 * Fast path for the API: encoding, part count and units without allocating any byte array.
 * Must agree with `analyzeText` (tested over all vectors and random strings).
 */
export function countSegments(text: string, opts: SplitOptions = {}): SegmentCount {
  const septets = gsm7Units(text);
  const encoding: GsmEncoding = septets < 0 ? 'UCS2' : 'GSM7';
  const units = septets < 0 ? text.length : septets;
  const limits = LIMITS[encoding];
  if (units <= limits.single) {
    return { encoding, segments: 1, units, charsLeftInSegment: limits.single - units };
  }
  const limit = opts.ref16 ? limits.concat16 : limits.concat8;
  let segments = 0;
  let last = 0;
  split(text, encoding, limit, (_s, _e, partUnits) => {
    segments++;
    last = partUnits;
  });
  return { encoding, segments, units, charsLeftInSegment: limit - last };
}

/** Fill bits needed after a UDH so GSM7 text starts on a septet boundary (6-octet UDH: 1). */
export function udhFillBits(udhOctets: number): number {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}

function concatUdh(ref16: boolean, reference: number, total: number, index: number): Uint8Array {
  return ref16
    ? Uint8Array.of(0x06, 0x08, 0x04, (reference >> 8) & 0xff, reference & 0xff, total, index)
    : Uint8Array.of(0x05, 0x00, 0x03, reference & 0xff, total, index);
}

/**
 * Full analysis with the parts' user data and UDHs, for the transports. An empty text is one
 * empty part (it still costs one SMS). More than 255 parts cannot be expressed in the UDH, so it
 * throws a RangeError; the API should reject such texts earlier using `countSegments`.
 */
export function analyzeText(text: string, opts: AnalyzeOptions = {}): TextAnalysis {
  const encoding = chooseEncoding(text);
  const encode = encoding === 'GSM7' ? encodeGsm7Unpacked : encodeUcs2;
  const limits = LIMITS[encoding];
  const base = {
    encoding,
    dataCoding: encoding === 'GSM7' ? (0 as const) : (8 as const),
    unit: encoding === 'GSM7' ? ('septet' as const) : ('ucs2' as const),
  };
  const totalUnits = encoding === 'GSM7' ? gsm7Units(text) : text.length;
  if (totalUnits <= limits.single) {
    const segment: Segment = { index: 1, text, units: totalUnits, userData: encode(text) };
    return { ...base, totalUnits, segments: [segment] };
  }

  const ref16 = opts.ref16 === true;
  const parts: Array<{ text: string; units: number }> = [];
  split(text, encoding, ref16 ? limits.concat16 : limits.concat8, (start, end, units) => {
    parts.push({ text: text.slice(start, end), units });
  });
  if (parts.length > MAX_SEGMENTS) {
    throw new RangeError(`text needs ${parts.length} parts, more than ${MAX_SEGMENTS}`);
  }
  const reference = opts.reference ?? 0;
  const segments = parts.map((p, i): Segment => ({
    index: i + 1,
    text: p.text,
    units: p.units,
    userData: encode(p.text),
    udh: concatUdh(ref16, reference, parts.length, i + 1),
  }));
  return { ...base, totalUnits, segments };
}

/** GSM7 septets, one per octet (ESC 0x1B before extension codes). Throws on non-GSM text. */
export function encodeGsm7Unpacked(text: string): Uint8Array {
  const units = gsm7Units(text);
  if (units < 0) throw new RangeError('text contains characters outside the GSM 03.38 alphabet');
  const out = new Uint8Array(units);
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const v = lookup(text.charCodeAt(i));
    if (v & EXT_FLAG) {
      out[o++] = ESC;
      out[o++] = v & 0x7f;
    } else {
      out[o++] = v;
    }
  }
  return out;
}

/** Inverse of `encodeGsm7Unpacked`; tolerant of what SMSCs send (see DECODE_EXT). */
export function decodeGsm7Unpacked(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = (bytes[i] ?? 0) & 0x7f;
    if (b === ESC) {
      const next = bytes[i + 1];
      // A trailing lone ESC is shown as a space, like an unknown escape.
      out += next === undefined ? ' ' : DECODE_EXT[next & 0x7f];
      i++;
    } else {
      out += BASIC.charAt(b);
    }
  }
  return out;
}

/**
 * Packs septets LSB-first (TS 23.038 6.1.2.1) after `fillBits` zero bits. The fill bits are the
 * padding that puts the text on a septet boundary after a UDH (`udhFillBits`), so the packed
 * TP-UD is `udh + packGsm7(userData, udhFillBits(udh.length))`.
 */
export function packGsm7(septets: Uint8Array, fillBits = 0): Uint8Array {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6) {
    throw new RangeError(`fillBits must be 0..6, got ${fillBits}`);
  }
  const out = new Uint8Array(Math.ceil((fillBits + 7 * septets.length) / 8));
  for (let n = 0; n < septets.length; n++) {
    const s = (septets[n] ?? 0) & 0x7f;
    const bit = fillBits + 7 * n;
    const k = bit >> 3;
    const shift = bit & 7;
    out[k] = (out[k] ?? 0) | ((s << shift) & 0xff);
    if (shift > 1) out[k + 1] = (out[k + 1] ?? 0) | (s >> (8 - shift));
  }
  return out;
}

/** UTF-16BE, code unit by code unit (astral characters become their surrogate pair). */
export function encodeUcs2(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    out[2 * i] = u >> 8;
    out[2 * i + 1] = u & 0xff;
  }
  return out;
}

/** UTF-16BE to string. An odd trailing octet cannot be a unit and is dropped. */
export function decodeUcs2(bytes: Uint8Array): string {
  const n = bytes.length >> 1;
  const units = new Array<number>(n);
  for (let i = 0; i < n; i++) units[i] = ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0);
  // Chunked so that very long inputs do not exceed the engine's argument limit.
  let out = '';
  for (let i = 0; i < n; i += 8192) out += String.fromCharCode(...units.slice(i, i + 8192));
  return out;
}
