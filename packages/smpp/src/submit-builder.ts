import { analyzeText, chooseEncoding, encodeGsm7Unpacked, type SmppGatewayConfig } from '@smsfleet/core';

/**
 * Turns one outbound message into the submit_sm (or submit_multi) PDUs that carry it: encoding
 * chosen per message from its text (never by the smpp package), long text split by UDH (8 or
 * 16-bit reference), SAR TLVs or one message_payload. Pure: no I/O, testable against the vectors.
 */

export interface SubmitPart {
  command: 'submit_sm' | 'submit_multi';
  /** Mandatory fields by the smpp package's names; short_message is raw bytes. */
  fields: Record<string, unknown>;
  tlvs: Record<string, unknown>;
  /** Segments this PDU stands for (billing and the segments-per-second limit). */
  segments: number;
  /** Destination (for logs); the distribution list names for submit_multi. */
  dest: string;
  /** 1-based part number within its destination. */
  part: number;
}

export interface BuildResult {
  parts: SubmitPart[];
  /** data_coding used. */
  dataCoding: number;
  encoding: 'GSM7' | 'UCS2' | 'LATIN1' | 'IA5' | 'BINARY';
  /** Segments over all destinations. */
  segments: number;
}

/** The message could never be sent as configured: fail it (permanent), do not retry. */
export class SubmitBuildError extends Error {}

export interface BuildInput {
  smsid: string;
  from: string;
  to: string;
  text: string;
  /** Concatenation reference; default derived from the smsid (stable across resends). */
  reference?: number;
}

const LATIN1_SINGLE = 140;
const BINARY_SINGLE = 140;

/** Stable concatenation reference per message, so a resent part carries the same reference. */
export function concatReference(smsid: string, bits: 8 | 16): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < smsid.length; i++) {
    h ^= smsid.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return bits === 8 ? h & 0xff : h & 0xffff;
}

function udh8(ref: number, total: number, seq: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
}
function udh16(ref: number, total: number, seq: number): Buffer {
  return Buffer.from([0x06, 0x08, 0x04, (ref >> 8) & 0xff, ref & 0xff, total, seq]);
}

interface Encoded {
  dataCoding: number;
  encoding: BuildResult['encoding'];
  /** Whole text encoded (for message_payload). */
  whole: Buffer;
  /** Parts for the UDH/SAR modes (without UDH). */
  pieces: Buffer[];
}

/** Splits bytes in fixed-size pieces (Latin-1, IA5 and binary: one octet per character). */
function chunkBytes(b: Buffer, single: number, perPart: number): Buffer[] {
  if (b.length <= single) return [b];
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += perPart) out.push(b.subarray(i, i + perPart));
  return out;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

function encodeText(input: BuildInput, cfg: SmppGatewayConfig, ref16: boolean): Encoded {
  const udhLen = ref16 ? 7 : 6;
  if (cfg.isData || cfg.dataCoding === 2 || cfg.dataCoding === 4) {
    let bytes: Buffer;
    if (cfg.hexString) bytes = Buffer.from(cfg.hexString, 'hex');
    else if (/^(?:[0-9a-fA-F]{2})+$/.test(input.text)) bytes = Buffer.from(input.text, 'hex');
    else bytes = Buffer.from(input.text, 'utf8');
    const dc = cfg.dataCoding ?? 4;
    return {
      dataCoding: dc,
      encoding: 'BINARY',
      whole: bytes,
      pieces: chunkBytes(bytes, BINARY_SINGLE, BINARY_SINGLE - udhLen),
    };
  }
  const forced = cfg.dataCoding;
  const text = input.text;
  if (forced === 3 || (forced === undefined && cfg.charset === 'latin1' && !isGsm(text) && isLatin1(text))) {
    if (!isLatin1(text))
      throw new SubmitBuildError('text has characters outside Latin-1 and DataCoding=3 is forced');
    const bytes = Buffer.from(text, 'latin1');
    return {
      dataCoding: 3,
      encoding: 'LATIN1',
      whole: bytes,
      pieces: chunkBytes(bytes, LATIN1_SINGLE, LATIN1_SINGLE - udhLen),
    };
  }
  if (forced === 1) {
    if (!isAscii(text))
      throw new SubmitBuildError('text has non-ASCII characters and DataCoding=1 (IA5) is forced');
    const bytes = Buffer.from(text, 'ascii');
    return { dataCoding: 1, encoding: 'IA5', whole: bytes, pieces: chunkBytes(bytes, 160, 160 - udhLen - 1) };
  }
  const a = analyzeText(text, { ref16 });
  if (forced === 0 || (forced !== undefined && forced >= 0xf0 && (forced & 0x04) === 0)) {
    if (a.encoding !== 'GSM7')
      throw new SubmitBuildError(`text has characters outside GSM 03.38 and DataCoding=${forced} is forced`);
  }
  let dc: number = a.dataCoding;
  if (forced === 8 && a.encoding === 'GSM7') {
    // Forced UCS2 for GSM-compatible text: re-split with UCS2 limits.
    return ucs2Forced(text, ref16);
  }
  if (forced !== undefined && forced !== 8 && forced !== 0 && !(forced >= 0xf0)) {
    throw new SubmitBuildError(`DataCoding=${forced} cannot carry text (use 0, 1, 3, 8, or 2/4 with isdata)`);
  }
  if (forced !== undefined && forced >= 0xf0) dc = forced;
  const whole =
    a.encoding === 'GSM7' ? Buffer.from(encodeGsm7Unpacked(text)) : Buffer.from(text, 'utf16le').swap16();
  return {
    dataCoding: dc,
    encoding: a.encoding,
    whole,
    pieces: a.segments.map((s) => Buffer.from(s.userData)),
  };
}

function isGsm(text: string): boolean {
  return chooseEncoding(text) === 'GSM7';
}

function ucs2Forced(text: string, ref16: boolean): Encoded {
  const whole = text.length ? Buffer.from(text, 'utf16le').swap16() : Buffer.alloc(0);
  const per = ref16 ? 66 : 67;
  const pieces: Buffer[] = [];
  if (text.length <= 70) pieces.push(whole);
  else {
    let i = 0;
    while (i < text.length) {
      let end = Math.min(text.length, i + per);
      // Never cut a surrogate pair.
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
      pieces.push(Buffer.from(text.slice(i, end), 'utf16le').swap16());
      i = end;
    }
  }
  return { dataCoding: 8, encoding: 'UCS2', whole, pieces };
}

function cleanAddress(addr: string, what: string): string {
  const a = addr.trim().replace(/^\+/, '');
  if (a.length > 20) throw new SubmitBuildError(`${what} "${a}" is longer than 20 characters`);
  if (hasControlChar(a)) throw new SubmitBuildError(`${what} contains control characters`);
  return a;
}

export function buildSubmits(input: BuildInput, cfg: SmppGatewayConfig): BuildResult {
  const ref16 = cfg.concat === 'udh16';
  const enc = encodeText(input, cfg, ref16);
  const source = cleanAddress(cfg.senderAddress || input.from, 'source address');
  const dests = cfg.recipients.length ? cfg.recipients : [input.to];
  if (cfg.isData && dests.length > 1) throw new SubmitBuildError('isdata supports only one recipient');
  if (!dests[0]?.trim()) throw new SubmitBuildError('no destination number');
  const base = {
    service_type: cfg.serviceType,
    source_addr_ton: cfg.sourceTon,
    source_addr_npi: cfg.sourceNpi,
    source_addr: source,
    protocol_id: 0,
    priority_flag: cfg.priorityFlag,
    schedule_delivery_time: '',
    validity_period: cfg.validityPeriod,
    registered_delivery: cfg.registeredDelivery,
    replace_if_present_flag: 0,
    data_coding: enc.dataCoding,
    sm_default_msg_id: 0,
  };
  const targets: Array<{ dest: string; addr: Record<string, unknown>; command: SubmitPart['command'] }> =
    cfg.recipientType === 1
      ? [
          {
            dest: dests.join(';'),
            command: 'submit_multi',
            addr: { dest_address: dests.map((d) => ({ dl_name: cleanAddress(d, 'distribution list') })) },
          },
        ]
      : dests.map((d) => {
          const destination_addr = cleanAddress(d, 'destination');
          return {
            dest: destination_addr,
            command: 'submit_sm' as const,
            addr: { dest_addr_ton: cfg.destTon, dest_addr_npi: cfg.destNpi, destination_addr },
          };
        });

  const parts: SubmitPart[] = [];
  const n = enc.pieces.length;
  for (const t of targets) {
    if (cfg.concat === 'payload' && n > 1) {
      parts.push({
        command: t.command,
        fields: { ...base, ...t.addr, esm_class: 0, short_message: Buffer.alloc(0) },
        tlvs: { message_payload: enc.whole },
        segments: n,
        dest: t.dest,
        part: 1,
      });
      continue;
    }
    for (let i = 0; i < n; i++) {
      const piece = enc.pieces[i] ?? Buffer.alloc(0);
      const seq = i + 1;
      let short = piece;
      let esm = 0;
      const tlvs: Record<string, unknown> = {};
      if (n > 1) {
        if (cfg.concat === 'sar') {
          tlvs.sar_msg_ref_num = input.reference ?? concatReference(input.smsid, 16);
          tlvs.sar_total_segments = n;
          tlvs.sar_segment_seqnum = seq;
        } else {
          const udh = ref16
            ? udh16(input.reference ?? concatReference(input.smsid, 16), n, seq)
            : udh8(input.reference ?? concatReference(input.smsid, 8), n, seq);
          short = Buffer.concat([udh, piece]);
          esm = 0x40;
        }
      }
      if (short.length > 254)
        throw new SubmitBuildError(`part ${seq} is ${short.length} octets, more than 254`);
      parts.push({
        command: t.command,
        fields: { ...base, ...t.addr, esm_class: esm, short_message: short },
        tlvs,
        segments: 1,
        dest: t.dest,
        part: seq,
      });
    }
  }
  return {
    parts,
    dataCoding: enc.dataCoding,
    encoding: enc.encoding,
    segments: parts.reduce((s, p) => s + p.segments, 0),
  };
}
