import { describe, expect, it } from 'vitest';
import { isSecretField, maskCredentials, redactSecrets } from './secrets.js';

describe('maskCredentials', () => {
  it('masks URL userinfo and secret query parameters', () => {
    expect(maskCredentials('https://bob:s3cr%40t@api.example.com/send?to=1&password=hunter2&text=hi')).toBe(
      'https://bob:***@api.example.com/send?to=1&password=***&text=hi',
    );
    expect(maskCredentials('http://x/y?apikey=abc&authkey=def#f')).toBe(
      'http://x/y?apikey=***&authkey=***#f',
    );
  });

  it('masks the password of an SMPP gateway URL and keeps the rest', () => {
    expect(maskCredentials('SMPP;server=10.0.0.5;username=acme;password=secret;window=50')).toBe(
      'SMPP;server=10.0.0.5;username=acme;password=***;window=50',
    );
    expect(maskCredentials('SMPP;server=h;sslpwd=pfxpass')).toBe('SMPP;server=h;sslpwd=***');
  });

  it('leaves text without credentials alone', () => {
    const s = 'https://api.example.com/send?to=[tonum]&text=[message]';
    expect(maskCredentials(s)).toBe(s);
    expect(maskCredentials('smsprice=0.05')).toBe('smsprice=0.05');
  });
});

describe('redactSecrets', () => {
  it('replaces secret fields and masks URLs inside strings, recursively', () => {
    expect(
      redactSecrets({
        key: 'smsurl',
        value: 'https://u:p@h/x',
        password: 'pw',
        nested: { apiv2key: 'k', list: ['https://a:b@c/'], webhookSecret: '' },
        amount: '5.00',
      }),
    ).toEqual({
      key: 'smsurl',
      value: 'https://u:***@h/x',
      password: '***',
      nested: { apiv2key: '***', list: ['https://a:***@c/'], webhookSecret: '' },
      amount: '5.00',
    });
  });

  it('knows secret field names', () => {
    for (const n of ['password', 'authpwd', 'apiv2key', 'token', 'smpp_password', 'webhook_secret'])
      expect(isSecretField(n), n).toBe(true);
    for (const n of ['key', 'name', 'url', 'amount', 'gatewayId']) expect(isSecretField(n), n).toBe(false);
  });
});
