/**
 * Malformed PDUs the simulated SMSC writes to a bound ESME in fuzz mode (`fuzzEveryMs`): broken
 * framing, unknown commands, truncated bodies, garbage, answers to requests never made, absurd
 * TLVs and deliver_sm with broken receipts. Sequence numbers of fuzz PDUs are taken from a range
 * (0x7FF00000 up) that neither side uses, so they can never answer a real request; receipt ids
 * contain letters outside hex and decimal, so they can never match a real message.
 */

export const FUZZ_PDU_KINDS = [
  'short-length', // command_length < 16: framing broken
  'over-max-length', // command_length beyond any sane maximum: framing broken
  'stall-length', // a plausible command_length whose body never comes: the link stalls
  'garbage', // random octets
  'unknown-command', // well framed, unknown command_id
  'truncated-body', // deliver_sm whose mandatory fields run past its end
  'absurd-tlv', // deliver_sm with a TLV longer than the PDU
  'wrong-sequence', // submit_sm_resp for a sequence number never sent
  'bad-status', // enquire_link_resp with an undefined command_status
  'broken-receipt', // a well-formed deliver_sm receipt whose text is nonsense
] as const;
export type FuzzPduKind = (typeof FUZZ_PDU_KINDS)[number];

export const FUZZ_SEQUENCE_BASE = 0x7ff00000;

const DELIVER_SM = 0x00000005;
const SUBMIT_SM_RESP = 0x80000004;
const ENQUIRE_LINK_RESP = 0x80000015;

function header(length: number, commandId: number, status: number, sequence: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(length >>> 0, 0);
  b.writeUInt32BE(commandId >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(sequence >>> 0, 12);
  return b;
}

function pdu(commandId: number, status: number, sequence: number, body: Buffer): Buffer {
  return Buffer.concat([header(16 + body.length, commandId, status, sequence), body]);
}

const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.of(0)]);

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** deliver_sm mandatory fields up to and including short_message. */
function deliverBody(esmClass: number, shortMessage: Buffer): Buffer {
  return Buffer.concat([
    cstr(''), // service_type
    Buffer.of(1, 1),
    cstr('36201234567'),
    Buffer.of(1, 1),
    cstr('1000'),
    Buffer.of(esmClass, 0, 0),
    cstr(''), // schedule_delivery_time
    cstr(''), // validity_period
    Buffer.of(0, 0, 0, 0), // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
    Buffer.of(Math.min(shortMessage.length, 254)),
    shortMessage.subarray(0, 254),
  ]);
}

const BROKEN_RECEIPTS = [
  'id: sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:',
  'id:zzfuzz{n} stat:',
  'id:zzfuzz{n} sub:xyz dlvrd:-1 submit date:9999999999 done date:abc stat:WHATEVER err:-12 text:\u0000\u0001',
  'stat:DELIVRD',
  'id:zzfuzz{n} stat:DELIVRD err:000 text:' + 'x'.repeat(200),
  'id:zzfuzz{n}zz id:zzfuzz{n} stat:UNDELIV stat:DELIVRD',
  '\u00ff\u00fe\u0000id:zz',
  'id:' + 'z'.repeat(120) + ' stat:REJECTD',
  '',
];

/** One malformed PDU of `kind`; `n` numbers it (sequence numbers, receipt ids). */
export function fuzzPdu(kind: FuzzPduKind, rand: () => number, n: number): Buffer {
  const seq = FUZZ_SEQUENCE_BASE + (n % 0x000fffff);
  switch (kind) {
    case 'short-length': {
      const b = randomBytes(rand, 16);
      b.writeUInt32BE(Math.floor(rand() * 16), 0);
      return b;
    }
    case 'over-max-length':
      return Buffer.concat([
        header(0x01000000 + Math.floor(rand() * 0x7e000000), DELIVER_SM, 0, seq),
        randomBytes(rand, 8),
      ]);
    case 'stall-length':
      // 1-16 KB announced, 20 octets sent: what follows (real PDUs) is read as this body.
      return Buffer.concat([
        header(1000 + Math.floor(rand() * 15000), DELIVER_SM, 0, seq),
        randomBytes(rand, 4),
      ]);
    case 'garbage':
      return randomBytes(rand, 1 + Math.floor(rand() * 64));
    case 'unknown-command': {
      const ids = [0x00000777, 0x80000777, 0x0000000f, 0x7fffffff, 0x000000ff, 0x80000000];
      return pdu(ids[n % ids.length]!, 0, seq, randomBytes(rand, Math.floor(rand() * 8)));
    }
    case 'truncated-body':
      return pdu(DELIVER_SM, 0, seq, Buffer.from('ab\u0000\u0001', 'latin1'));
    case 'absurd-tlv': {
      const tlv = Buffer.alloc(6);
      tlv.writeUInt16BE(n % 2 ? 0x001e : 0x0427, 0); // receipted_message_id / message_state
      tlv.writeUInt16BE(0xffff, 2);
      return pdu(
        DELIVER_SM,
        0,
        seq,
        Buffer.concat([deliverBody(0x04, Buffer.from('id:zzfuzz stat:DELIVRD')), tlv]),
      );
    }
    case 'wrong-sequence':
      return pdu(SUBMIT_SM_RESP, 0, seq, cstr(`zzfuzz${n}`));
    case 'bad-status':
      return pdu(ENQUIRE_LINK_RESP, 0xdeadbeef, seq, Buffer.alloc(0));
    case 'broken-receipt': {
      const text = BROKEN_RECEIPTS[n % BROKEN_RECEIPTS.length]!.replace(/\{n\}/g, String(n));
      return pdu(DELIVER_SM, 0, seq, deliverBody(0x04, Buffer.from(text, 'latin1')));
    }
  }
}
