import { describe, expect, it } from 'vitest';
import { decideSipTarget, dialledNumber, isMobileNumber, parseMobilePrefixes } from './sip-target.js';

const base = { defaultCountry: '', mobilePrefixes: [] as string[] };

describe('dialledNumber', () => {
  it('strips visual separators and keeps + and digits', () => {
    expect(dialledNumber('+36 (20) 123-4567')).toBe('+36201234567');
    expect(dialledNumber('0036.20.1234567')).toBe('0036201234567');
    expect(dialledNumber('alice')).toBeUndefined();
    expect(dialledNumber('12')).toBeUndefined();
    expect(dialledNumber('36+20')).toBeUndefined();
  });
});

describe('parseMobilePrefixes', () => {
  it('reads a comma list, dropping + and junk', () => {
    expect(parseMobilePrefixes(' 3620, +3630 ,x, ')).toEqual(['3620', '3630']);
    expect(parseMobilePrefixes('')).toEqual([]);
  });
});

describe('isMobileNumber', () => {
  it('uses libphonenumber types for international numbers', () => {
    expect(isMobileNumber('+36201234567', base)).toBe(true);
    expect(isMobileNumber('004915112345678', base)).toBe(true);
    expect(isMobileNumber('+3612345678', base)).toBe(false); // Budapest fixed line
    expect(isMobileNumber('+12025550123', base)).toBe(true); // US: fixed line or mobile
  });

  it('needs a default country for national numbers', () => {
    expect(isMobileNumber('06201234567', base)).toBe(false);
    expect(isMobileNumber('06201234567', { ...base, defaultCountry: 'hu' })).toBe(true);
    expect(isMobileNumber('0612345678', { ...base, defaultCountry: 'HU' })).toBe(false);
  });

  it('takes the extra prefixes as mobile even where the metadata says otherwise', () => {
    expect(isMobileNumber('+3612345678', { ...base, mobilePrefixes: ['3612'] })).toBe(true);
    expect(isMobileNumber('0612345678', { defaultCountry: 'HU', mobilePrefixes: ['3612'] })).toBe(true);
    expect(isMobileNumber('+99912345', { ...base, mobilePrefixes: ['999'] })).toBe(true);
  });
});

describe('decideSipTarget', () => {
  const cases: [number, string, boolean][] = [
    [0, '+36201234567', false],
    [1, '+36201234567', true],
    [1, '+3612345678', false],
    [1, 'alice', false],
    [2, '+3612345678', true],
    [2, '+36201234567', true],
    [2, 'alice', false],
    [2, '1234', false],
    [2, '06201234567', false], // national, no default country: not known to be valid
    [3, 'alice', true],
    [3, '1234', true],
    [3, '+3612345678', true],
  ];
  it.each(cases)('mode %i target %s -> %s', (mode, target, ok) => {
    expect(decideSipTarget(target, { ...base, mode }).ok).toBe(ok);
  });

  it('returns the dialled number as the SMS target, and a reason on refusal', () => {
    expect(decideSipTarget('+36 20 123 4567', { ...base, mode: 1 })).toEqual({
      ok: true,
      kind: 'mobile',
      number: '+36201234567',
    });
    expect(decideSipTarget('alice', { ...base, mode: 3 })).toEqual({
      ok: true,
      kind: 'other',
      number: 'alice',
    });
    expect(decideSipTarget('+3612345678', { ...base, mode: 3 })).toMatchObject({ kind: 'phone' });
    expect(decideSipTarget('06 1234 5678', { defaultCountry: 'HU', mobilePrefixes: [], mode: 2 })).toEqual({
      ok: true,
      kind: 'phone',
      number: '0612345678',
    });
    const r = decideSipTarget('+3612345678', { ...base, mode: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/not a mobile/);
    const z = decideSipTarget('+36201234567', { ...base, mode: 0 });
    if (!z.ok) expect(z.reason).toMatch(/sendsmsmessages=0/);
    expect(decideSipTarget('', { ...base, mode: 3 }).ok).toBe(false);
    // One SIP target is one recipient: no list separators smuggled into the send API.
    expect(decideSipTarget('a,b', { ...base, mode: 3 }).ok).toBe(false);
    expect(decideSipTarget('+36201234567;+36201234568', { ...base, mode: 2 }).ok).toBe(false);
  });
});
