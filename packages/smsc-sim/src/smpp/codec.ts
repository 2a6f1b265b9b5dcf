import {
  analyzeText,
  chooseEncoding,
  decodeGsm7Unpacked,
  decodeUcs2,
  encodeGsm7Unpacked,
  encodeUcs2,
} from '@smsfleet/core';

// Byte-level SMPP helpers of the simulator. The `smpp` library decodes short_message with its
// own tables (and loses bytes it cannot map), so submit_sm is parsed here from the raw PDU and
// decoded with packages/core: what the simulator reports is exactly what went over the wire.

export class PduFormatError extends Error {
  readonly code = 'SMPP_SIM_PDU_FORMAT';
}

/** TLV tags the simulator reads or writes. */
export const TLV = {
  sar_msg_ref_num: 0x020c,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  message_payload: 0x0424,
} as const;

export interface ConcatInfo {
  ref: number;
  total: number;
  /** 1-based part number. */
  seqNum: number;
  via: 'udh8' | 'udh16' | 'sar';
}

export interface SubmitSm {
  serviceType: string;
  sourceTon: number;
  sourceNpi: number;
  sourceAddr: string;
  destTon: number;
  destNpi: number;
  destinationAddr: string;
  esmClass: number;
  registeredDelivery: number;
  dataCoding: number;
  /** short_message, or message_payload when short_message is empty. */
  userData: Buffer;
  payloadInTlv: boolean;
  /** Every TLV by tag (the last one wins). */
  tlvs: Map<number, Buffer>;
}

/** A cursor over a PDU body that throws PduFormatError instead of reading past the end. */
class Reader {
  o = 0;
  constructor(private readonly buf: Buffer) {}
  cstring(field: string): string {
    const end = this.buf.indexOf(0, this.o);
    if (end === -1) throw new PduFormatError(`${field} is not NUL-terminated`);
    const v = this.buf.toString('latin1', this.o, end);
    this.o = end + 1;
    return v;
  }
  octet(field: string): number {
    const v = this.buf[this.o++];
    if (v === undefined) throw new PduFormatError(`PDU ends before ${field}`);
    return v;
  }
}

/**
 * Parses the body of a submit_sm (the PDU without its 16-octet header) as SMPP 3.4 / 5.0 lay it
 * out. Throws PduFormatError on a truncated or malformed body.
 */
export function parseSubmitSmBody(body: Buffer): SubmitSm {
  const r = new Reader(body);
  const serviceType = r.cstring('service_type');
  const sourceTon = r.octet('source_addr_ton');
  const sourceNpi = r.octet('source_addr_npi');
  const sourceAddr = r.cstring('source_addr');
  const destTon = r.octet('dest_addr_ton');
  const destNpi = r.octet('dest_addr_npi');
  const destinationAddr = r.cstring('destination_addr');
  const esmClass = r.octet('esm_class');
  r.octet('protocol_id');
  r.octet('priority_flag');
  r.cstring('schedule_delivery_time');
  r.cstring('validity_period');
  const registeredDelivery = r.octet('registered_delivery');
  r.octet('replace_if_present_flag');
  const dataCoding = r.octet('data_coding');
  r.octet('sm_default_msg_id');
  const smLength = r.octet('sm_length');
  let o = r.o;
  if (o + smLength > body.length) throw new PduFormatError('short_message is longer than the PDU');
  const shortMessage = body.subarray(o, o + smLength);
  o += smLength;
  const tlvs = new Map<number, Buffer>();
  while (o + 4 <= body.length) {
    const tag = body.readUInt16BE(o);
    const len = body.readUInt16BE(o + 2);
    o += 4;
    if (o + len > body.length) throw new PduFormatError(`TLV 0x${tag.toString(16)} is longer than the PDU`);
    tlvs.set(tag, body.subarray(o, o + len));
    o += len;
  }
  if (o !== body.length) throw new PduFormatError('trailing octets after the last TLV');
  const payload = tlvs.get(TLV.message_payload);
  const payloadInTlv = smLength === 0 && payload !== undefined;
  return {
    serviceType,
    sourceTon,
    sourceNpi,
    sourceAddr,
    destTon,
    destNpi,
    destinationAddr,
    esmClass,
    registeredDelivery,
    dataCoding,
    userData: payloadInTlv ? payload : shortMessage,
    payloadInTlv,
    tlvs,
  };
}

/** Splits the UDH off user data when esm_class has UDHI (0x40) and finds a concatenation IE. */
export function splitUdh(
  userData: Buffer,
  esmClass: number,
): { udh: Buffer | undefined; payload: Buffer; concat: ConcatInfo | undefined } {
  if ((esmClass & 0x40) === 0 || userData.length === 0) {
    return { udh: undefined, payload: userData, concat: undefined };
  }
  const udhl = userData[0] ?? 0;
  if (1 + udhl > userData.length) throw new PduFormatError('UDH length exceeds the user data');
  const udh = userData.subarray(0, 1 + udhl);
  let concat: ConcatInfo | undefined;
  let i = 1;
  while (i + 2 <= udh.length) {
    const iei = udh[i] ?? 0;
    const len = udh[i + 1] ?? 0;
    const ie = udh.subarray(i + 2, i + 2 + len);
    if (ie.length !== len) throw new PduFormatError('UDH information element is truncated');
    if (iei === 0x00 && len === 3) {
      concat = { ref: ie[0] ?? 0, total: ie[1] ?? 0, seqNum: ie[2] ?? 0, via: 'udh8' };
    } else if (iei === 0x08 && len === 4) {
      concat = { ref: ie.readUInt16BE(0), total: ie[2] ?? 0, seqNum: ie[3] ?? 0, via: 'udh16' };
    }
    i += 2 + len;
  }
  return { udh, payload: userData.subarray(1 + udhl), concat };
}

/** SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum), when all three are present. */
export function sarConcat(tlvs: Map<number, Buffer>): ConcatInfo | undefined {
  const ref = tlvs.get(TLV.sar_msg_ref_num);
  const total = tlvs.get(TLV.sar_total_segments);
  const seq = tlvs.get(TLV.sar_segment_seqnum);
  if (ref === undefined || total === undefined || seq === undefined) return undefined;
  if (ref.length !== 2 || total.length !== 1 || seq.length !== 1) {
    throw new PduFormatError('SAR TLVs have the wrong length');
  }
  return { ref: ref.readUInt16BE(0), total: total[0] ?? 0, seqNum: seq[0] ?? 0, via: 'sar' };
}

/**
 * Decodes user data by data_coding: 0 GSM 03.38 unpacked (one septet per octet, as SMPP
 * carries it), 1 IA5/ASCII, 3 Latin-1, 8 UCS2, 0xF0-0xF7 message-class GSM7; anything else
 * (binary 2/4, unsupported national sets) as Latin-1 so no octet is lost.
 */
export function decodeUserData(dataCoding: number, bytes: Uint8Array): string {
  switch (dataCoding) {
    case 0x00:
      return decodeGsm7Unpacked(bytes);
    case 0x01: {
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b & 0x7f);
      return s;
    }
    case 0x08:
      return decodeUcs2(bytes);
    case 0x03:
      return Buffer.from(bytes).toString('latin1');
    default:
      // Data coding group 1111: bit 2 clear means the GSM default alphabet.
      if ((dataCoding & 0xf0) === 0xf0 && (dataCoding & 0x04) === 0) return decodeGsm7Unpacked(bytes);
      return Buffer.from(bytes).toString('latin1');
  }
}

/** SMPP receipt dates: YYMMDDhhmm in UTC. */
export function receiptDate(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  return (
    two(d.getUTCFullYear() % 100) +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes())
  );
}

export const RECEIPT_STATS = [
  'DELIVRD',
  'UNDELIV',
  'EXPIRED',
  'REJECTD',
  'DELETED',
  'UNKNOWN',
  'ACCEPTD',
] as const;
export type ReceiptStat = (typeof RECEIPT_STATS)[number];

/** message_state TLV values (SMPP 3.4 5.2.28) and the err: code the simulator writes. */
export const RECEIPT_STATE: Record<ReceiptStat, { messageState: number; err: string }> = {
  DELIVRD: { messageState: 2, err: '000' },
  EXPIRED: { messageState: 3, err: '003' },
  DELETED: { messageState: 4, err: '004' },
  UNDELIV: { messageState: 5, err: '001' },
  ACCEPTD: { messageState: 6, err: '000' },
  UNKNOWN: { messageState: 7, err: '007' },
  REJECTD: { messageState: 8, err: '002' },
};

/**
 * The de-facto receipt text (SMPP 3.4 appendix B). `text:` carries the first 20 characters of the
 * message, reduced to characters that are identical in ASCII and the GSM default alphabet so
 * the receipt can be sent as data_coding 0 octets unchanged.
 */
export function receiptText(p: {
  id: string;
  stat: ReceiptStat;
  submitAt: number;
  doneAt: number;
  text: string;
}): string {
  const sample = p.text.slice(0, 20).replace(/[^A-Za-z0-9 .,:;!?()+\-*/#%&'"<>=]/g, '.');
  const dlvrd = p.stat === 'DELIVRD' ? '001' : '000';
  return (
    `id:${p.id} sub:001 dlvrd:${dlvrd} submit date:${receiptDate(p.submitAt)} ` +
    `done date:${receiptDate(p.doneAt)} stat:${p.stat} err:${RECEIPT_STATE[p.stat].err} text:${sample}`
  );
}

export interface MoPart {
  dataCoding: 0 | 8;
  esmClass: number;
  /** UDH (if any) followed by the encoded text. */
  shortMessage: Buffer;
  /** 1-based part number. */
  seqNum: number;
}

/**
 * Encodes an MO text as deliver_sm parts: GSM 03.38 unpacked when every character fits, else
 * UCS2. `parts` undefined: as many as the text needs (core's splitter, 8-bit reference UDH);
 * a number: the text cut into that many nearly equal pieces (for reassembly tests).
 */
export function encodeMo(text: string, reference: number, parts?: number): MoPart[] {
  const encoding = chooseEncoding(text);
  const dataCoding: 0 | 8 = encoding === 'GSM7' ? 0 : 8;
  const encode = (t: string): Uint8Array => (encoding === 'GSM7' ? encodeGsm7Unpacked(t) : encodeUcs2(t));
  let pieces: string[];
  if (parts === undefined) {
    pieces = analyzeText(text).segments.map((s) => s.text);
  } else {
    if (!Number.isInteger(parts) || parts < 1 || parts > 255) throw new RangeError('parts must be 1..255');
    // Cut by code points so no surrogate pair is split.
    const chars = Array.from(text);
    if (chars.length < parts)
      throw new RangeError(`a text of ${chars.length} characters cannot be ${parts} parts`);
    pieces = [];
    for (let i = 0; i < parts; i++) {
      pieces.push(
        chars
          .slice(Math.floor((i * chars.length) / parts), Math.floor(((i + 1) * chars.length) / parts))
          .join(''),
      );
    }
  }
  const total = pieces.length;
  const ref = reference & 0xff;
  return pieces.map((piece, i): MoPart => {
    const body = Buffer.from(encode(piece));
    const shortMessage =
      total > 1 ? Buffer.concat([Buffer.from([0x05, 0x00, 0x03, ref, total, i + 1]), body]) : body;
    if (shortMessage.length > 254) {
      throw new RangeError(
        `part ${i + 1} needs ${shortMessage.length} octets, more than 254: use more parts`,
      );
    }
    return { dataCoding, esmClass: total > 1 ? 0x40 : 0x00, shortMessage, seqNum: i + 1 };
  });
}
