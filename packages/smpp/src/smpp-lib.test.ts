import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodePdu, encodePdu, PduReader } from './smpp-lib.js';

interface Field {
  name: string;
  type: 'u8' | 'c-octet-string' | 'octets';
  value?: string | number;
  hex?: string;
}
interface Tlv {
  tag: string;
  name: string;
  length: number;
  value_hex: string;
}
interface Vector {
  name: string;
  command: string;
  hex: string;
  header: { command_id: string; command_length: number; command_status: string; sequence_number: number };
  body_fields?: Field[];
  tlvs?: Tlv[];
}

const file = JSON.parse(readFileSync(new URL('./fixtures/smpp_pdus.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
};
const vectors = file.vectors;

/** A TLV value as our wrapper decodes it, back to the vector's hex form. */
function tlvHex(value: unknown, length: number): string {
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'string') return Buffer.from(`${value}\0`, 'ascii').toString('hex');
  if (typeof value === 'number') return value.toString(16).padStart(length * 2, '0');
  throw new Error(`unexpected TLV value ${String(value)}`);
}

function tlvValue(t: Tlv, sample: unknown): unknown {
  const raw = Buffer.from(t.value_hex, 'hex');
  if (typeof sample === 'number') return raw.readUIntBE(0, raw.length);
  if (typeof sample === 'string') return raw.subarray(0, raw.length - 1).toString('ascii');
  return raw;
}

describe('SMPP PDU vectors (Net::SMPP, cross-checked with libsmpp34)', () => {
  it('has every vector', () => {
    expect(vectors.length).toBe(27);
  });

  for (const v of vectors) {
    it(`decodes ${v.name}`, () => {
      const pdu = decodePdu(Buffer.from(v.hex, 'hex'));
      expect(pdu.command).toBe(v.command);
      expect(pdu.command_id).toBe(Number(v.header.command_id));
      expect(pdu.command_status).toBe(Number(v.header.command_status));
      expect(pdu.sequence_number).toBe(v.header.sequence_number);
      expect(pdu.command_length).toBe(v.header.command_length);
      for (const f of v.body_fields ?? []) {
        if (f.name === 'sm_length') {
          expect((pdu.short_message as Buffer).length).toBe(f.value);
        } else if (f.type === 'octets') {
          expect((pdu[f.name] as Buffer).toString('hex')).toBe(f.hex);
        } else {
          expect(pdu[f.name]).toBe(f.value);
        }
      }
      for (const t of v.tlvs ?? []) {
        expect(pdu[t.name], t.name).toBeDefined();
        expect(tlvHex(pdu[t.name], t.length)).toBe(t.value_hex);
      }
    });

    it(`encodes ${v.name}`, () => {
      const decoded = decodePdu(Buffer.from(v.hex, 'hex'));
      const fields: Record<string, unknown> = {};
      for (const f of v.body_fields ?? []) {
        if (f.name === 'sm_length') continue;
        fields[f.name] = f.type === 'octets' ? Buffer.from(f.hex ?? '', 'hex') : f.value;
      }
      const tlvs: Record<string, unknown> = {};
      for (const t of v.tlvs ?? []) tlvs[t.name] = tlvValue(t, decoded[t.name]);
      const buf = encodePdu(v.command, fields, {
        sequence_number: v.header.sequence_number,
        command_status: Number(v.header.command_status),
        tlvs,
      });
      expect(buf.toString('hex')).toBe(v.hex);
    });
  }

  it('frames PDUs split across reads and refuses absurd lengths', () => {
    const all = Buffer.concat(vectors.map((v) => Buffer.from(v.hex, 'hex')));
    const r = new PduReader();
    const got: Buffer[] = [];
    for (let i = 0; i < all.length; i += 7) got.push(...r.push(all.subarray(i, i + 7)));
    expect(got.map((b) => b.toString('hex'))).toEqual(vectors.map((v) => v.hex));
    expect(() => new PduReader().push(Buffer.from('0000000800000004', 'hex'))).toThrow(/command_length 8/);
    expect(() => new PduReader().push(Buffer.from('7fffffff00000004', 'hex'))).toThrow(/command_length/);
  });
});
