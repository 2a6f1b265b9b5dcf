import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSmppUrl } from '@smsfleet/core';
import { encodePdu } from './smpp-lib.js';
import { buildSubmits, concatReference } from './submit-builder.js';

interface Vector {
  name: string;
  hex: string;
  header: { sequence_number: number };
  text?: { value: string };
}
const vectors = (
  JSON.parse(readFileSync(new URL('./fixtures/smpp_pdus.json', import.meta.url), 'utf8')) as {
    vectors: Vector[];
  }
).vectors;
const vec = (name: string) => {
  const v = vectors.find((x) => x.name === name);
  if (!v) throw new Error(name);
  return v;
};

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const alpha200 = Array.from({ length: 200 }, (_, i) => ALPHA[i % 26]).join('');
const CYR = 'абвгдежзийклмнопрстуфхцчшщъыьэюя';
const cyr100 = Array.from({ length: 100 }, (_, i) => CYR[i % 32]).join('');

const brand =
  'SMPP;server=x;username=u;SourceTON=5;SourceNPI=0;DestinationTON=1;DestinationNPI=1;msgpriority=0';
const intl =
  'SMPP;server=x;username=u;SourceTON=1;SourceNPI=1;DestinationTON=1;DestinationNPI=1;msgpriority=0';

function wire(url: string, from: string, text: string, seq: number, reference?: number): string[] {
  const built = buildSubmits({ smsid: 'x', from, to: '447700900123', text, reference }, parseSmppUrl(url));
  return built.parts.map((p, i) =>
    encodePdu(p.command, p.fields, { sequence_number: seq + i, tlvs: p.tlvs }).toString('hex'),
  );
}

describe('submit_sm built from a message equals the independent vectors byte for byte', () => {
  it('GSM 03.38 default alphabet', () => {
    const v = vec('submit_sm_gsm7_default');
    expect(wire(brand, 'MyBrand', v.text?.value ?? '', 2)).toEqual([v.hex]);
  });
  it('UCS2 with an emoji (surrogate pair)', () => {
    const v = vec('submit_sm_ucs2');
    expect(wire(intl, '447700900001', v.text?.value ?? '', 3)).toEqual([v.hex]);
  });
  it('UDH 8-bit concatenation, 153 + 47 septets', () => {
    expect(wire(brand, 'MyBrand', alpha200, 4, 0x2a)).toEqual([
      vec('submit_sm_concat_udh8_part1').hex,
      vec('submit_sm_concat_udh8_part2').hex,
    ]);
  });
  it('UDH 16-bit concatenation of UCS2, 66 + 34 units', () => {
    expect(wire(`${intl};concat=udh16;registereddelivery=0`, '447700900001', cyr100, 6, 0x1234)).toEqual([
      vec('submit_sm_concat_udh16_ucs2_part1').hex,
      vec('submit_sm_concat_udh16_ucs2_part2').hex,
    ]);
  });
  it('SAR TLVs', () => {
    expect(wire(`${brand};concat=sar`, 'MyBrand', alpha200, 8, 42)[0]).toBe(
      vec('submit_sm_concat_sar_part1').hex,
    );
  });
  it('message_payload carries the whole text once and counts its segments', () => {
    const b = buildSubmits(
      { smsid: 'x', from: 'MyBrand', to: '447700900123', text: alpha200 },
      parseSmppUrl(`${brand};concat=payload`),
    );
    expect(b.parts).toHaveLength(1);
    expect(b.segments).toBe(2);
    expect((b.parts[0]?.tlvs.message_payload as Buffer).toString('ascii')).toBe(alpha200);
    expect(vec('submit_sm_message_payload').hex).toContain(Buffer.from(alpha200).toString('hex'));
  });
});

describe('buildSubmits', () => {
  const cfg = (extra = '') => parseSmppUrl(`SMPP;server=x;username=u;${extra}`);
  const m = (text: string) => ({ smsid: 'abc', from: '+3610', to: '+36201234567', text });

  it('strips + from addresses, sets the seed defaults (priority 1, NPI 1) and asks for a receipt', () => {
    const p = buildSubmits(m('hi'), cfg()).parts[0];
    expect(p?.fields).toMatchObject({
      source_addr: '3610',
      destination_addr: '36201234567',
      priority_flag: 1,
      source_addr_npi: 1,
      dest_addr_npi: 1,
      registered_delivery: 1,
      data_coding: 0,
    });
  });
  it('SenderAddress overrides the message sender', () => {
    expect(buildSubmits(m('hi'), cfg('extraconfig=SenderAddress=Brand')).parts[0]?.fields.source_addr).toBe(
      'Brand',
    );
  });
  it('uses a stable reference per message so a resent part matches its siblings', () => {
    expect(concatReference('abc', 8)).toBe(concatReference('abc', 8));
    expect(concatReference('abc', 8)).not.toBe(concatReference('abd', 8));
  });
  it('recipienttype 1 sends one submit_multi to the distribution lists', () => {
    const b = buildSubmits(m('hi'), cfg('recipients=list1;list2;recipienttype=1'));
    expect(b.parts).toHaveLength(1);
    expect(b.parts[0]?.command).toBe('submit_multi');
    expect(b.parts[0]?.fields.dest_address).toEqual([{ dl_name: 'list1' }, { dl_name: 'list2' }]);
    expect(() => encodePdu('submit_multi', b.parts[0]?.fields ?? {}, { sequence_number: 1 })).not.toThrow();
  });
  it('refuses what could never be sent (permanent)', () => {
    expect(() => buildSubmits({ ...m('hi'), to: '1'.repeat(21) }, cfg())).toThrow(/longer than 20/);
    expect(() => buildSubmits(m('ő'), cfg('DataCoding=3'))).toThrow(/Latin-1/);
  });
  it('long Latin-1 and binary data split into 134-octet parts behind a UDH', () => {
    const l = buildSubmits(m('é'.repeat(300)), cfg('DataCoding=3'));
    expect(l.parts.map((p) => (p.fields.short_message as Buffer).length)).toEqual([140, 140, 38]);
    const d = buildSubmits(m('ab'.repeat(200)), cfg('isdata=1'));
    expect(d.dataCoding).toBe(4);
    expect(d.parts.length).toBe(2);
  });
});
