import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDeliver } from './deliver.js';
import { decodePdu, encodePdu } from './smpp-lib.js';

const vectors = (
  JSON.parse(readFileSync(new URL('./fixtures/smpp_pdus.json', import.meta.url), 'utf8')) as {
    vectors: Array<{ name: string; hex: string }>;
  }
).vectors;
const pdu = (name: string) => decodePdu(Buffer.from(vectors.find((v) => v.name === name)?.hex ?? '', 'hex'));

describe('deliver_sm to receipt / MO events', () => {
  it('receipt DELIVRD: id from the TLV, state and stat', () => {
    const e = parseDeliver(pdu('deliver_sm_receipt_delivrd'), 4);
    expect(e.kind).toBe('receipt');
    if (e.kind !== 'receipt') return;
    expect(e.receipt).toMatchObject({ gatewayId: 4, stat: 'DELIVRD', messageState: 2, source: 'smpp' });
    expect(e.receipt.providerMessageId).toBeTruthy();
    expect(e.receipt.raw).toMatch(/stat:DELIVRD/);
  });

  it('receipt UNDELIV with a decimal text id: the TLV (hex, as submit_sm_resp gave it) wins', () => {
    const e = parseDeliver(pdu('deliver_sm_receipt_undeliv_decimal_id'), 4);
    if (e.kind !== 'receipt') throw new Error('not a receipt');
    expect(e.receipt).toMatchObject({
      providerMessageId: '2B0E7D51',
      stat: 'UNDELIV',
      messageState: 5,
      err: '001',
    });
  });

  it('a v3.3 receipt without TLVs: the id and stat come from the text', () => {
    const buf = encodePdu(
      'deliver_sm',
      {
        source_addr: '36201234567',
        destination_addr: '1000',
        esm_class: 0x04,
        data_coding: 0,
        short_message: Buffer.from(
          'id:0000ABC sub:001 dlvrd:000 submit date:2401011200 done date:2401011201 stat:EXPIRED err:027 text:x',
        ),
      },
      { sequence_number: 5 },
    );
    const e = parseDeliver(decodePdu(buf), 1);
    if (e.kind !== 'receipt') throw new Error('not a receipt');
    expect(e.receipt).toMatchObject({ providerMessageId: '0000ABC', stat: 'EXPIRED', err: '027' });
    expect(e.receipt.messageState).toBeUndefined();
  });

  it('MO text, and a UDH part of a concatenated MO', () => {
    const e = parseDeliver(pdu('deliver_sm_mo_text'), 9);
    expect(e.kind).toBe('mo');
    if (e.kind !== 'mo') return;
    expect(e.mo.gatewayId).toBe(9);
    expect(e.mo.text.length).toBeGreaterThan(0);
    expect(e.mo.id).toMatch(/^smpp-9-[\x21-\x7e]{1,32}$/);

    const part = encodePdu(
      'deliver_sm',
      {
        source_addr: '36301112222',
        destination_addr: '1000',
        esm_class: 0x40,
        data_coding: 8,
        short_message: Buffer.concat([
          Buffer.from('0500037a0302', 'hex'),
          Buffer.from('Ő', 'utf16le').swap16(),
        ]),
      },
      { sequence_number: 6 },
    );
    const p = parseDeliver(decodePdu(part), 9);
    if (p.kind !== 'mo') throw new Error('not an MO');
    expect(p.mo).toMatchObject({ text: 'Ő', part: { ref: 0x7a, total: 3, seq: 2 } });
  });
});
