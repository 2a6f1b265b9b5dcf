/**
 * Mobile-originated (inbound) messages: the payload of the bus subject `mo`, published by the
 * api-gateway (`smsreceive`, provider callbacks) and by SMPP receiver/transceiver binds, consumed
 * by the inbound service. Also the pure helpers for concatenated MO parts (UDH and SAR).
 */

/** Where the concatenated part sits in its message (1-based `seq`). */
export interface MoPart {
  /** Reference number shared by every part of one message (8 or 16 bit). */
  ref: number;
  total: number;
  seq: number;
}

/** One inbound message, or one part of a concatenated one. */
export interface MoMessage {
  /**
   * Unique id of this message or part: the provider's id (moMsgId, SMPP message id) when it has
   * one, else one made on receipt. Printable ASCII, at most 40 characters. Redelivery of the same
   * id is harmless (the inbox, the CDR and every action are idempotent on it).
   */
  id: string;
  /** Sender (the mobile), as received (may be empty when the CLI is hidden). */
  from: string;
  /** Our number the mobile wrote to: identifies the target user. */
  to: string;
  /** Text of this message or part (the UDH already stripped). */
  text: string;
  /** Epoch milliseconds. */
  receivedAt: number;
  source: 'http' | 'smpp';
  /** The SMS GW user whose bind delivered it (SMPP), 0 or absent otherwise. */
  gatewayId?: number;
  /** Address of the HTTP poster (empty for SMPP). */
  clientIp?: string;
  /** Present when this is one part of a concatenated message. */
  part?: MoPart;
  /** Set on a message assembled from concatenated parts: how many there were. */
  parts?: number;
  /**
   * false when the HTTP poster is outside `httpsmcallbackip`: SMS commands in it are not run (the
   * message is still delivered as chat). Absent (SMPP binds, configured by the operator) = allowed.
   */
  commandsAllowed?: boolean;
}

/** Highest id length the CDR and inbox keys hold. */
export const MO_ID_MAX_LENGTH = 40;
const MO_ID_RE = /^[\x21-\x7e]{1,40}$/;

export function isValidMoId(id: string): boolean {
  return MO_ID_RE.test(id);
}

function hexToBytes(hex: string): number[] | undefined {
  const h = hex.replace(/\s+/g, '');
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return undefined;
  const out: number[] = [];
  for (let i = 0; i < h.length; i += 2) out.push(parseInt(h.slice(i, i + 2), 16));
  return out;
}

/**
 * The concatenation information element of a User Data Header (3GPP TS 23.040 9.2.3.24.1/.8):
 * IEI 0x00 (8-bit reference) or 0x08 (16-bit reference). `udh` is the whole header including its
 * length octet, as bytes or as a hex string (Clickatell's `udh` parameter). Other elements are
 * skipped; no concatenation element, a malformed header or impossible numbers give undefined.
 */
export function parseConcatUdh(udh: Uint8Array | readonly number[] | string): MoPart | undefined {
  const bytes = typeof udh === 'string' ? hexToBytes(udh) : Array.from(udh);
  if (!bytes || bytes.length < 2) return undefined;
  const udhl = bytes[0]!;
  const end = Math.min(bytes.length, udhl + 1);
  let i = 1;
  while (i + 1 < end) {
    const iei = bytes[i]!;
    const len = bytes[i + 1]!;
    const body = bytes.slice(i + 2, i + 2 + len);
    if (body.length < len) return undefined;
    if (iei === 0x00 && len === 3) return concatPart(body[0]!, body[1]!, body[2]!);
    if (iei === 0x08 && len === 4) return concatPart(body[0]! * 256 + body[1]!, body[2]!, body[3]!);
    i += 2 + len;
  }
  return undefined;
}

/** From SMPP's SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum). */
export function concatFromSar(ref: number, total: number, seq: number): MoPart | undefined {
  return concatPart(ref, total, seq);
}

function concatPart(ref: number, total: number, seq: number): MoPart | undefined {
  if (!Number.isInteger(ref) || !Number.isInteger(total) || !Number.isInteger(seq)) return undefined;
  if (total < 1 || total > 255 || seq < 1 || seq > total || ref < 0 || ref > 0xffff) return undefined;
  // A "concatenated" message of one part is just a message.
  if (total === 1) return undefined;
  return { ref, total, seq };
}

/** Parts of one message share sender, target, reference and count. */
export function moGroupKey(m: Pick<MoMessage, 'from' | 'to'> & { part: MoPart }): string {
  return `${m.from}|${m.to}|${m.part.ref}|${m.part.total}`;
}

export type AssembleResult =
  | { complete: true; text: string; ids: string[]; firstReceivedAt: number }
  | { complete: false; have: number; total: number };

/**
 * Joins the parts of one message in `seq` order, whatever order they arrived in. A part seen twice
 * (redelivery, or the SMSC repeating itself) counts once.
 */
export function assembleParts(parts: readonly MoMessage[]): AssembleResult {
  const total = parts[0]?.part?.total ?? 0;
  const bySeq = new Map<number, MoMessage>();
  for (const p of parts) {
    if (!p.part || p.part.total !== total) continue;
    if (!bySeq.has(p.part.seq)) bySeq.set(p.part.seq, p);
  }
  if (total === 0 || bySeq.size < total) return { complete: false, have: bySeq.size, total };
  const ordered = [...bySeq.values()].sort((a, b) => a.part!.seq - b.part!.seq);
  return {
    complete: true,
    text: ordered.map((p) => p.text).join(''),
    ids: ordered.map((p) => p.id),
    firstReceivedAt: Math.min(...ordered.map((p) => p.receivedAt)),
  };
}
