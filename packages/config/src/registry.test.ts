import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  buildSnapshot,
  CONFIG_KEYS,
  defaultSnapshot,
  displayValue,
  formatValue,
  isSecret,
  parseValue,
  resolveKey,
  type ConfigSnapshot,
} from './registry.js';

describe('registry', () => {
  it('declares every key once, lowercase, with a description and a default that parses', () => {
    const keys = CONFIG_KEYS.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    const names = CONFIG_KEYS.flatMap((e) => [
      e.key,
      ...((e as { aliases?: readonly string[] }).aliases ?? []),
    ]);
    expect(new Set(names).size).toBe(names.length);
    for (const e of CONFIG_KEYS) {
      expect(e.key).toBe(e.key.toLowerCase());
      expect(e.description.length).toBeGreaterThan(5);
      const r = parseValue(e.key, formatValue(e.key, e.default));
      expect(r, e.key).toEqual({ ok: true, value: e.default });
    }
  });

  it.each([
    'enablesms',
    'smsurl',
    'smssenddata',
    'smssendheader',
    'smsthread',
    'smsverifyurl',
    'smssenddataverify',
    'smsverifydelay',
    'smssignature',
    'smsadv',
    'smsadvprefix',
    'smsadvvalue',
    'smssuccessstring',
    'smsfailstring',
    'smsrouting',
    'sendsmsmessages',
    'smsprice',
    'smstime',
    'smsreceive_route',
    'smsreceive_ip',
    'smsreceive_check',
    'smsreceive_from',
    'smsreceive_to',
    'smsreceive_message',
    'usesmsprefixsp',
    'smpp_allparameters',
    'smpp_server',
    'smpp_username',
    'smpp_password',
    'smpp_serverport',
    'smpp_version',
    'smpp_secure',
    'smpp_systemtype',
    'smpp_servicetype',
    'smpp_msgpriority',
    'smpp_msgexpire',
    'smpp_timeout',
    'smpp_recipients',
    'smpp_recipienttype',
    'smpp_isdata',
    'smpp_extraconfig',
    'smpp_senderaddress',
    'smpp_sourceton',
    'smpp_sourcenpi',
    'smpp_destinationton',
    'smpp_destinationnpi',
    'smpp_datacoding',
    'smpp_hexstring',
    'smpp_inbuffersize',
    'smpp_outbuffersize',
    'smpp_absolutetimeout',
    'smpp_sslaccept',
    'smpp_sslencodig',
    'smpp_sslcertstore',
    'smpp_sslpwd',
    'smpp_sslstoretype',
    'smpp_sslsubject',
    'apiv2key',
    'httpstrictresponse',
    'callingcardauth',
    'defcallbackivr',
    'httpsmcallbackip',
    'uauthverify',
  ])('declares seed key %s', (key) => {
    expect(resolveKey(key)).toBe(key);
  });

  it('has the seed defaults', () => {
    const d = defaultSnapshot();
    expect(d).toMatchObject({
      enablesms: true,
      smsurl: '',
      smsthread: 1,
      smsverifydelay: 10000,
      smsadv: false,
      smsadvvalue: '0',
      smsrouting: -1,
      sendsmsmessages: 1,
      smsprice: '0',
      smstime: 60,
      smsreceive_route: 0,
      usesmsprefixsp: false,
      smpp_serverport: 2775,
      smpp_version: 34,
      smpp_timeout: 60,
      smpp_msgpriority: 1,
      smpp_servicetype: 0,
      smpp_sourcenpi: 1,
      apiv2key: '',
      httpstrictresponse: false,
      callingcardauth: 12,
      uauthverify: false,
    });
    expect(Object.isFrozen(d)).toBe(true);
  });

  it('resolves aliases and case', () => {
    expect(resolveKey('smstrouting')).toBe('smsrouting');
    expect(resolveKey('SMSHFAILSTRING')).toBe('smsfailstring');
    expect(resolveKey('smpp_SourceTON')).toBe('smpp_sourceton');
    expect(resolveKey(' EnableSMS ')).toBe('enablesms');
    expect(resolveKey('nosuchkey')).toBeUndefined();
  });

  it.each([
    ['enablesms', 'TRUE', true],
    ['enablesms', 'no', false],
    ['enablesms', '1', true],
    ['enablesms', ' Yes ', true],
    ['smsadv', '0', false],
    ['smsrouting', '-1', -1],
    ['smstrouting', '1', 1],
    ['smsprice', '0.015', '0.015'],
    ['smsprice', ' 2 ', '2'],
    ['smpp_version', '50', 50],
    ['smpp_servicetype', 'CMT', 1],
    ['smpp_servicetype', '7', 7],
    ['smpp_sourcenpi', '18', 18],
    ['smpp_msgexpire', '240101120000000R', '240101120000000R'],
    ['smpp_hexstring', '0aFF', '0aFF'],
    ['callingcardauth', '0', 0],
    ['smsurl', ' http://x?a=[tonum] ', ' http://x?a=[tonum] '],
  ] as const)('parses %s=%j', (key, raw, value) => {
    expect(parseValue(key, raw)).toEqual({ ok: true, value });
  });

  it.each([
    ['smsrouting', '2', 'smsrouting must be one of -1, 0, 1'],
    ['smstrouting', 'x', 'smsrouting must be one of -1, 0, 1'],
    ['enablesms', 'maybe', 'enablesms must be true or false (also 1/0, yes/no)'],
    ['smsverifydelay', '-5', 'smsverifydelay must be an integer (ms) >= 0'],
    ['smsverifydelay', '1.5', 'smsverifydelay must be an integer (ms) >= 0'],
    ['smpp_serverport', '70000', 'smpp_serverport must be an integer between 1 and 65535'],
    ['smpp_version', '35', 'smpp_version must be one of 33, 34, 50'],
    ['smpp_sourcenpi', '2', 'smpp_sourcenpi must be one of 0, 1, 3, 4, 6, 8, 9, 10, 14, 18'],
    ['smsprice', '-1', 'smsprice must be a non-negative decimal number such as 0.05'],
    ['smsprice', '1e3', 'smsprice must be a non-negative decimal number such as 0.05'],
    ['callingcardauth', '13', 'callingcardauth must be an integer between 0 and 12'],
    ['smpp_systemtype', 'x'.repeat(13), 'smpp_systemtype must be at most 12 characters'],
    ['nosuch', '1', 'unknown config key nosuch'],
  ])('rejects %s=%j', (key, raw, error) => {
    expect(parseValue(key, raw)).toEqual({ ok: false, error });
  });

  it('types the snapshot per key', () => {
    const s = defaultSnapshot();
    expectTypeOf(s.enablesms).toEqualTypeOf<boolean>();
    expectTypeOf(s.smsrouting).toEqualTypeOf<number>();
    expectTypeOf(s.smsprice).toEqualTypeOf<string>();
    expectTypeOf(s).toEqualTypeOf<ConfigSnapshot>();
    const r = parseValue('smstime', '30');
    if (r.ok) expectTypeOf(r.value).toEqualTypeOf<number>();
  });

  it('builds a snapshot: aliases, unknown rows ignored, invalid rows fall back with an error', () => {
    const { snapshot, errors } = buildSnapshot({
      SMSURL: 'http://gw/send?to=[tonum]',
      smstrouting: '1',
      smshfailstring: 'ERR',
      smsverifydelay: 'soon',
      somethingelse: 'x',
    });
    expect(snapshot.smsurl).toBe('http://gw/send?to=[tonum]');
    expect(snapshot.smsrouting).toBe(1);
    expect(snapshot.smsfailstring).toBe('ERR');
    expect(snapshot.smsverifydelay).toBe(10000);
    expect(errors).toEqual(['smsverifydelay must be an integer (ms) >= 0']);
    expect(Object.isFrozen(snapshot)).toBe(true);
  });

  it('lets the canonical key win over its alias, whatever the row order', () => {
    expect(buildSnapshot({ smstrouting: '1', smsrouting: '0' }).snapshot.smsrouting).toBe(0);
    expect(buildSnapshot({ smsrouting: '0', smstrouting: '1' }).snapshot.smsrouting).toBe(0);
  });

  it('formats values and masks secrets for display', () => {
    expect(formatValue('enablesms', false)).toBe('false');
    expect(formatValue('smstime', 30)).toBe('30');
    expect(isSecret('smpp_password')).toBe(true);
    expect(isSecret('smpp_sslpwd')).toBe(true);
    expect(isSecret('APIV2KEY')).toBe(true);
    expect(isSecret('smsurl')).toBe(false);
    expect(displayValue('apiv2key', 'abc')).toBe('********');
    expect(displayValue('apiv2key', '')).toBe('');
    expect(displayValue('smsurl', 'http://x')).toBe('http://x');
  });
});
