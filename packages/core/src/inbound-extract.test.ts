import { describe, expect, test } from 'vitest';
import {
  extractBetween,
  extractInboundField,
  extractInboundSms,
  ipAllowed,
  parseExtractSpec,
  parseIpAllowList,
  passesCheck,
  type InboundInput,
} from './inbound-extract.js';

describe('smsreceive_ip / httpsmcallbackip allow lists', () => {
  const cases: [list: string, ip: string, allowed: boolean][] = [
    ['', '203.0.113.9', true],
    ['   ', '203.0.113.9', true],
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '::ffff:127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['10.0.0.1,192.168.1.5', '192.168.1.5', true],
    ['10.0.0.1, 192.168.1.5', '192.168.1.6', false],
    ['10.0.0.0/8', '10.200.3.4', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.168.0.0/24;172.16.0.0/12', '172.31.255.255', true],
    ['192.168.0.0/24 172.16.0.0/12', '172.32.0.1', false],
    ['::1', '::1', true],
    ['::1', '127.0.0.1', false],
    ['2001:db8::/32', '2001:db8:1::5', true],
    ['2001:db8::/32', '2001:db9::5', false],
    ['::ffff:10.0.0.0/104', '10.1.2.3', true],
    ['0.0.0.0/0', '8.8.8.8', true],
    // A typo must not open the door: it matches nobody, other entries still work.
    ['not-an-ip', '127.0.0.1', false],
    ['300.1.1.1,127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', 'garbage', false],
    ['127.0.0.1', '', false],
  ];
  test.each(cases)('list %j, client %j -> %s', (list, ip, allowed) => {
    expect(ipAllowed(parseIpAllowList(list), ip)).toBe(allowed);
  });

  test('invalid entries are reported', () => {
    expect(parseIpAllowList('1.2.3.4, nope, 10.0.0.0/99').invalid).toEqual(['nope', '10.0.0.0/99']);
  });
});

describe('smsreceive_check', () => {
  test.each([
    ['', 'anything', true],
    ['api_id=3144985', 'api_id=3144985&from=1', true],
    ['api_id=3144985', 'api_id=1&from=1', false],
    ['SECRET', '', false],
  ])('check %j in %j -> %s', (check, raw, ok) => {
    expect(passesCheck(check, raw)).toBe(ok);
  });
});

describe('extraction spec', () => {
  test.each([
    ['', { kind: 'default' }],
    ['  ', { kind: 'default' }],
    ['Sender', { kind: 'param', name: 'sender' }],
    ['<from>,,</from>', { kind: 'markers', from1: '<from>', from2: '', to1: '</from>', to2: '' }],
    ['a,b,c,d', { kind: 'markers', from1: 'a', from2: 'b', to1: 'c', to2: 'd' }],
    ['a,b', { kind: 'markers', from1: 'a', from2: 'b', to1: '', to2: '' }],
  ])('%j', (spec, parsed) => {
    expect(parseExtractSpec(spec)).toEqual(parsed);
  });
});

describe('extractBetween (fromstring1,fromstring2,tostring1,tostring2)', () => {
  const raw = 'header\n<sms><from>3611</from><text>Hello world</text></sms>';
  const cases: [name: string, markers: string, expected: string | undefined][] = [
    ['first start and first end', '<from>,x,</from>,y', '3611'],
    ['first start missing: second start', '<sender>,<from>,</from>,', '3611'],
    ['no start marker occurs', '<sender>,<src>,</from>,', undefined],
    ['first end missing: second end', '<text>,,</body>,</text>', 'Hello world'],
    ['no end marker occurs: to the end', '<text>,,</body>,</nope>', 'Hello world</text></sms>'],
    ['empty ends: to the end', '</text>,,,', '</sms>'],
    ['empty starts: from the beginning', ',,\n,', 'header'],
    ['end searched after the start only', '<text>,,<,', 'Hello world'],
  ];
  test.each(cases)('%s', (_name, markers, expected) => {
    const [from1 = '', from2 = '', to1 = '', to2 = ''] = markers.split(',');
    expect(extractBetween(raw, { from1, from2, to1, to2 })?.value).toBe(expected);
  });
});

function input(
  query: string,
  body = '',
  bodyFormEncoded = false,
  json?: Record<string, string>,
): InboundInput {
  const params = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(query)) params.set(k.toLowerCase(), v);
  if (bodyFormEncoded) for (const [k, v] of new URLSearchParams(body)) params.set(k.toLowerCase(), v);
  for (const [k, v] of Object.entries(json ?? {})) params.set(k.toLowerCase(), v);
  return { params, query, body, bodyFormEncoded };
}

describe('extractInboundField', () => {
  const cases: [
    name: string,
    field: 'from' | 'to' | 'message',
    spec: string,
    i: InboundInput,
    out: string | undefined,
  ][] = [
    ['default name from', 'from', '', input('from=1234567&to=98765&message=Works'), '1234567'],
    ['default name message', 'message', '', input('from=1&to=2&message=Works'), 'Works'],
    ['default name txt', 'message', '', input('anum=1&bnum=2&txt=Hi'), 'Hi'],
    [
      'clickatell text in a form body',
      'message',
      '',
      input('', 'api_id=1&from=3611&to=3622&text=Test+1+2+3', true),
      'Test 1 2 3',
    ],
    ['missing parameter', 'to', '', input('from=1&message=x'), undefined],
    ['parameter name', 'from', 'sender_no', input('sender_no=555&from=1'), '555'],
    ['parameter name, case-insensitive', 'from', 'Sender_No', input('SENDER_NO=555'), '555'],
    ['parameter name absent', 'from', 'sender_no', input('from=1'), undefined],
    ['json body by name', 'message', 'content', input('', '{"content":"x"}', false, { content: 'hé' }), 'hé'],
    [
      'markers in the query, decoded',
      'message',
      'msg=,,&,',
      input('a=1&msg=Hello+w%C3%B6rld&z=2'),
      'Hello wörld',
    ],
    ['markers in a form body, decoded', 'to', 'to=,,&,', input('', 'from=1&to=%2B3622', true), '+3622'],
    [
      'markers in an XML body, not decoded',
      'message',
      '<text>,,</text>,',
      input('', '<sms><text>1+1=2 %41</text></sms>'),
      '1+1=2 %41',
    ],
    [
      'second start marker',
      'from',
      '<from>,<sender>,</,',
      input('', '<sms><sender>36701</sender></sms>'),
      '36701',
    ],
    ['markers that do not occur', 'from', '<from>,<sender>,</from>,', input('', '<sms></sms>'), undefined],
    ['end marker that does not occur', 'message', '<text>,,</text>,', input('', '<text>tail'), 'tail'],
  ];
  test.each(cases)('%s', (_n, field, spec, i, out) => {
    expect(extractInboundField(field, spec, i)).toBe(out);
  });

  test('extractInboundSms reports the first missing field', () => {
    const cfg = { smsreceive_from: '', smsreceive_to: '', smsreceive_message: '' };
    expect(extractInboundSms(cfg, input('from=1&to=2&message=m'))).toEqual({
      ok: true,
      sms: { from: '1', to: '2', message: 'm' },
    });
    expect(extractInboundSms(cfg, input('from=1&message=m'))).toEqual({ ok: false, missing: 'to' });
    expect(extractInboundSms(cfg, input('from=1&to=2'))).toEqual({ ok: false, missing: 'message' });
    expect(extractInboundSms(cfg, input('to=2&message=m'))).toEqual({ ok: false, missing: 'from' });
  });
});
