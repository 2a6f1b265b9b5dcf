import { randomBytes } from 'node:crypto';
import {
  concatFromSar,
  decodeGsm7Unpacked,
  decodeUcs2,
  parseConcatUdh,
  parseReceiptText,
  type MoMessage,
  type ReceiptEvent,
} from '@smsfleet/core';
import { field, type Pdu } from './smpp-lib.js';

/**
 * A deliver_sm (or data_sm) from the SMSC, turned into what the fleet consumes: a delivery receipt
 * (published on `receipt`) or a mobile-originated message (published on `mo`).
 */
export type DeliverEvent = { kind: 'receipt'; receipt: ReceiptEvent } | { kind: 'mo'; mo: MoMessage };

const RECEIPT_TYPES = new Set([0x04, 0x08, 0x10, 0x20]);

function bytesOf(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'latin1');
  return Buffer.alloc(0);
}

/** Text of user data by data_coding (reference smpp.md §5, inbound rules). */
export function decodeUserData(data: Buffer, dataCoding: number): string {
  const dc = dataCoding & 0xff;
  if (dc === 8) return decodeUcs2(data);
  if (dc === 3) return data.toString('latin1');
  if (dc === 1) return data.toString('ascii');
  if (dc === 2 || dc === 4 || (dc >= 0xf0 && (dc & 0x04) !== 0)) return data.toString('hex');
  // 0 and the GSM DCS groups: GSM 03.38, one septet per octet.
  return decodeGsm7Unpacked(data);
}

let moCounter = 0;

export function parseDeliver(pdu: Pdu, gatewayId: number): DeliverEvent {
  const now = Date.now();
  const esm = Number(pdu.esm_class ?? 0);
  const dc = Number(pdu.data_coding ?? 0);
  let data = bytesOf(pdu.short_message);
  if (data.length === 0 && pdu.message_payload !== undefined) data = bytesOf(pdu.message_payload);
  let udh: Buffer | undefined;
  if (esm & 0x40 && data.length > 0) {
    const len = (data[0] ?? 0) + 1;
    udh = data.subarray(0, len);
    data = data.subarray(len);
  }
  const from = field(pdu, 'source_addr');
  const to = field(pdu, 'destination_addr');
  const receiptedId = typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id : undefined;
  if (RECEIPT_TYPES.has(esm & 0x3c) || receiptedId !== undefined) {
    // Receipt text is ASCII in practice; decode it so a GSM-coded one still reads.
    const text = dc === 8 ? decodeUcs2(data) : data.toString('latin1');
    const f = parseReceiptText(text);
    const receipt: ReceiptEvent = {
      gatewayId,
      providerMessageId: receiptedId ?? f.id ?? '',
      receivedAt: now,
      source: 'smpp',
      raw: text.slice(0, 300),
    };
    const ms = pdu.message_state;
    if (typeof ms === 'number') receipt.messageState = ms;
    if (f.stat) receipt.stat = f.stat;
    if (f.err) receipt.err = f.err;
    const nec = pdu.network_error_code;
    if (!receipt.err && Buffer.isBuffer(nec) && nec.length === 3) receipt.err = String(nec.readUInt16BE(1));
    return { kind: 'receipt', receipt };
  }
  const mo: MoMessage = {
    id: `smpp-${gatewayId}-${now.toString(36)}-${(moCounter++ & 0xffff).toString(36)}${randomBytes(4).toString('hex')}`,
    from,
    to,
    text: decodeUserData(data, dc),
    receivedAt: now,
    source: 'smpp',
    gatewayId,
  };
  const part = udh
    ? parseConcatUdh(udh)
    : typeof pdu.sar_msg_ref_num === 'number' &&
        typeof pdu.sar_total_segments === 'number' &&
        typeof pdu.sar_segment_seqnum === 'number'
      ? concatFromSar(pdu.sar_msg_ref_num, pdu.sar_total_segments, pdu.sar_segment_seqnum)
      : undefined;
  if (part) mo.part = part;
  return { kind: 'mo', mo };
}
