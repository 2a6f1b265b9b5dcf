import { encodeGsm7Unpacked } from '@smsfleet/core';
import { describe, expect, test } from 'vitest';
import {
  PduFormatError,
  decodeUserData,
  encodeMo,
  parseSubmitSmBody,
  receiptDate,
  receiptText,
  sarConcat,
  splitUdh,
} from './codec.js';

function body(short: Buffer, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([
    Buffer.from('CMT\0', 'latin1'),
    Buffer.from([1, 1]),
    Buffer.from('1000\0', 'latin1'),
    Buffer.from([1, 1]),
    Buffer.from('36201234567\0', 'latin1'),
    Buffer.from([0x40, 0, 0]), // esm_class UDHI, protocol_id, priority_flag
    Buffer.from('\0\0', 'latin1'), // schedule_delivery_time, validity_period
    Buffer.from([1, 0, 8, 0, short.length]), // registered_delivery, replace, data_coding, default_msg_id, sm_length
    short,
    tlvs,
  ]);
}

describe('parseSubmitSmBody', () => {
  test('reads every field, the short_message and TLVs', () => {
    const tlv = Buffer.from([0x02, 0x0c, 0, 2, 0x01, 0x02]);
    const sm = parseSubmitSmBody(body(Buffer.from([0, 0x41]), tlv));
    expect(sm).toMatchObject({
      serviceType: 'CMT',
      sourceTon: 1,
      sourceAddr: '1000',
      destinationAddr: '36201234567',
      esmClass: 0x40,
      registeredDelivery: 1,
      dataCoding: 8,
      payloadInTlv: false,
    });
    expect(sm.userData).toEqual(Buffer.from([0, 0x41]));
    expect(sm.tlvs.get(0x020c)).toEqual(Buffer.from([1, 2]));
  });

  test.each([
    ['no NUL after service_type', Buffer.from('CMT', 'latin1')],
    ['ends before the addresses', Buffer.from('CMT\0\x01', 'latin1')],
    ['sm_length beyond the PDU', body(Buffer.from([1, 2, 3])).subarray(0, -1)],
    ['a TLV longer than the PDU', body(Buffer.alloc(0), Buffer.from([0x04, 0x24, 0, 9, 1]))],
  ])('%s: PduFormatError', (_name, b) => {
    expect(() => parseSubmitSmBody(b)).toThrow(PduFormatError);
  });
});

describe('UDH and SAR', () => {
  test('8-bit and 16-bit concatenation IEs, other IEs skipped', () => {
    const withPort = Buffer.from([0x0b, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x00, 0x03, 9, 2, 1, 0x41]);
    expect(splitUdh(withPort, 0x40)).toMatchObject({
      concat: { ref: 9, total: 2, seqNum: 1, via: 'udh8' },
      payload: Buffer.from([0x41]),
    });
    expect(splitUdh(Buffer.from([6, 8, 4, 1, 2, 3, 3, 0x42]), 0x40).concat).toEqual({
      ref: 0x0102,
      total: 3,
      seqNum: 3,
      via: 'udh16',
    });
    expect(splitUdh(Buffer.from([5, 0, 3, 1, 2, 1]), 0x00).udh).toBeUndefined();
    expect(() => splitUdh(Buffer.from([9, 0, 3]), 0x40)).toThrow(PduFormatError);
  });

  test('SAR needs all three TLVs of the right size', () => {
    const tlvs = new Map([
      [0x020c, Buffer.from([0, 7])],
      [0x020e, Buffer.from([2])],
      [0x020f, Buffer.from([1])],
    ]);
    expect(sarConcat(tlvs)).toEqual({ ref: 7, total: 2, seqNum: 1, via: 'sar' });
    tlvs.delete(0x020f);
    expect(sarConcat(tlvs)).toBeUndefined();
  });
});

test.each([
  [0x00, Buffer.from(encodeGsm7Unpacked('@£$ {}')), '@£$ {}'],
  [0x01, Buffer.from('plain ascii'), 'plain ascii'],
  [0x03, Buffer.from([0x47, 0xfc, 0xdf]), 'Güß'],
  [0x08, Buffer.from([0x04, 0x1f, 0xd8, 0x3d, 0xde, 0x00]), 'П😀'],
  [0xf0, Buffer.from(encodeGsm7Unpacked('class 0')), 'class 0'],
  [0x04, Buffer.from([0xff, 0x00]), '\u00ff\u0000'],
])('decodeUserData(data_coding %i)', (dc, bytes, text) => {
  expect(decodeUserData(dc, bytes)).toBe(text);
});

test('receipt text and dates', () => {
  const at = Date.UTC(2026, 10, 27, 6, 5, 59);
  expect(receiptDate(at)).toBe('2611270605');
  expect(
    receiptText({
      id: 'ab12',
      stat: 'UNDELIV',
      submitAt: at,
      doneAt: at,
      text: 'Héllo_world, a long text here',
    }),
  ).toBe(
    'id:ab12 sub:001 dlvrd:000 submit date:2611270605 done date:2611270605 stat:UNDELIV err:001 text:H.llo.world, a long ',
  );
});

test('encodeMo: GSM7 or UCS2, UDH on multipart, no part over 254 octets', () => {
  const one = encodeMo('hello', 1);
  expect(one).toEqual([{ dataCoding: 0, esmClass: 0, shortMessage: Buffer.from('hello'), seqNum: 1 }]);
  const three = encodeMo('abcdefghi', 0x1ff, 3);
  expect(three.map((p) => p.shortMessage.toString('hex'))).toEqual([
    '050003ff0301616263',
    '050003ff0302646566',
    '050003ff0303676869',
  ]);
  expect(encodeMo('€'.repeat(100), 1)[0]?.dataCoding).toBe(0); // € is a GSM7 extension character
  expect(encodeMo('Ж'.repeat(100), 1)).toHaveLength(2);
  expect(() => encodeMo('Ж'.repeat(200), 1, 1)).toThrow(/254/);
});
