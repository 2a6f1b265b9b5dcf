import { createRequire } from 'node:module';

/**
 * A small typed wrapper over the `smpp` 0.5.1 package (no types exist). We use only its PDU
 * codec: the socket, framing, window, timers and reconnects are ours (stack.md lists what the
 * package does not do). Loaded with createRequire so no ambient module declaration leaks.
 *
 * Decoding skips the package's field filters: they turn short_message into a decoded string (with
 * its own GSM guess), times into Dates and drop the raw bytes we need for UDH, receipts and MO.
 */

export interface Pdu {
  command: string;
  command_id: number;
  command_status: number;
  sequence_number: number;
  command_length: number;
  [field: string]: unknown;
}

interface LibPdu extends Pdu {
  fromBuffer(buf: Buffer): void;
  toBuffer(): Buffer;
  _filter(direction: string): void;
}

interface SmppModule {
  PDU: {
    new (command: string, options?: Record<string, unknown>): LibPdu;
    prototype: LibPdu;
    maxLength: number;
  };
  commands: Record<string, { id: number; params?: Record<string, unknown> }>;
  commandsById: Record<number, { command: string }>;
  tlvs: Record<string, { id: number }>;
}

const lib = createRequire(import.meta.url)('smpp') as SmppModule;

/** Largest PDU we accept (the reference's advice: treat absurd lengths as a framing error). */
export const MAX_PDU_LENGTH = 64 * 1024;

export const CMD = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_transmitter: 0x00000002,
  submit_sm: 0x00000004,
  deliver_sm: 0x00000005,
  unbind: 0x00000006,
  bind_transceiver: 0x00000009,
  enquire_link: 0x00000015,
  data_sm: 0x00000103,
} as const;

export const RESPONSE_BIT = 0x80000000;

export function isResponse(commandId: number): boolean {
  return (commandId & RESPONSE_BIT) !== 0;
}

export function commandName(id: number): string {
  return lib.commandsById[id]?.command ?? `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

export interface EncodeOptions {
  sequence_number: number;
  command_status?: number;
  /**
   * TLVs by the package's names, in wire order (TLV order has no meaning, but byte-exact tests
   * and some SMSCs' logs are easier to read when it is kept).
   */
  tlvs?: Record<string, unknown>;
}

/**
 * Encodes a PDU. Mandatory fields by the package's names (short_message as raw bytes: we choose
 * the encoding ourselves and never let the package guess). A non-zero command_status with body
 * fields keeps the body (some SMSCs send a lone NUL); without body fields it is header-only.
 */
export function encodePdu(command: string, fields: Record<string, unknown>, opts: EncodeOptions): Buffer {
  if (!lib.commands[command]) throw new Error(`unknown SMPP command ${command}`);
  const status = opts.command_status ?? 0;
  const withBody = status === 0 || Object.keys(fields).length > 0;
  const pdu = new lib.PDU(command, {
    ...fields,
    ...opts.tlvs,
    sequence_number: opts.sequence_number,
    command_status: withBody ? 0 : status,
  });
  // The package encodes short_message with a one-octet length: it throws a RangeError past 255.
  const buf = pdu.toBuffer();
  if (withBody && status !== 0) buf.writeUInt32BE(status >>> 0, 8);
  return buf;
}

/** Decodes one whole PDU (header included) without the package's value filters. */
export function decodePdu(buf: Buffer): Pdu {
  if (buf.length < 16) throw new Error(`PDU shorter than its header (${buf.length} octets)`);
  const len = buf.readUInt32BE(0);
  if (len !== buf.length) throw new Error(`command_length ${len} does not match ${buf.length} octets`);
  const pdu = Object.create(lib.PDU.prototype) as LibPdu;
  pdu._filter = () => undefined;
  // fromBuffer refuses lengths above its own maximum (16 KiB); ours is checked by the reader.
  const saved = lib.PDU.maxLength;
  lib.PDU.maxLength = Math.max(saved, MAX_PDU_LENGTH);
  try {
    pdu.fromBuffer(buf);
  } finally {
    lib.PDU.maxLength = saved;
  }
  const out: Pdu = {
    command: pdu.command,
    command_id: pdu.command_id,
    command_status: pdu.command_status,
    sequence_number: pdu.sequence_number,
    command_length: pdu.command_length,
  };
  for (const k of Object.keys(pdu)) if (!(k in out) && k !== '_filter') out[k] = pdu[k];
  return out;
}

/**
 * Splits a byte stream into PDUs. Throws on a framing error (length < 16 or > MAX_PDU_LENGTH):
 * after that the stream cannot be trusted and the caller must destroy the connection.
 */
export class PduReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    let off = 0;
    while (this.buf.length - off >= 4) {
      const len = this.buf.readUInt32BE(off);
      if (len < 16 || len > MAX_PDU_LENGTH) throw new Error(`invalid command_length ${len}`);
      if (this.buf.length - off < len) break;
      out.push(this.buf.subarray(off, off + len));
      off += len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }
}

/** A C-octet-string field of a decoded PDU ('' when absent). */
export function field(pdu: Pdu, name: string): string {
  const v = pdu[name];
  return typeof v === 'string' ? v : '';
}

/** Header-only PDU (enquire_link, unbind, their responses, generic_nack). */
export function headerOnly(commandId: number, status: number, sequence: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(16, 0);
  b.writeUInt32BE(commandId >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(sequence >>> 0, 12);
  return b;
}
