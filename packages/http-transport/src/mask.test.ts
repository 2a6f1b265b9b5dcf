import { describe, expect, it } from 'vitest';
import { maskBody, maskHeaders, maskUrl } from './mask.js';

describe('secret masking', () => {
  it.each([
    [
      'https://api.x.com/send?user=bob&password=s3cr3t&to=1',
      'https://api.x.com/send?user=bob&password=***&to=1',
    ],
    ['https://bob:s3cr3t@api.x.com/send?to=1', 'https://bob:***@api.x.com/send?to=1'],
    [
      'http://h/s?api_key=AAA&apikey=BBB&token=CCC&auth=DDD&text=hi',
      'http://h/s?api_key=***&apikey=***&token=***&auth=***&text=hi',
    ],
    ['http://h/s?to=1&text=my password is x', 'http://h/s?to=1&text=my password is x'],
  ])('%s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it('headers', () => {
    expect(maskHeaders('Authorization: Bearer abc\nX-Api-Key: k1\nX-Ref: 5\ncookie: a=b')).toBe(
      'Authorization: Bearer ***\nX-Api-Key: ***\nX-Ref: 5\ncookie: ***',
    );
    expect(maskHeaders('authorization: Basic dXNlcjpwYXNz')).toBe('authorization: Basic ***');
  });

  it('bodies', () => {
    expect(maskBody('{"user":"u","password":"p\\"w","text":"hi"}')).toBe(
      '{"user":"u","password":"***","text":"hi"}',
    );
    expect(maskBody('<req><apikey>K</apikey><text>hi</text></req>')).toBe(
      '<req><apikey>***</apikey><text>hi</text></req>',
    );
    expect(maskBody('user=u&pwd=p&text=hi')).toBe('user=u&pwd=***&text=hi');
    expect(maskBody('password=p&text=hi')).toBe('password=***&text=hi');
  });
});
