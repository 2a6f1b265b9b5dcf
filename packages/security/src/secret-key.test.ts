import { describe, expect, test } from 'vitest';
import {
  SecretKey,
  generateSecretKeyText,
  lookupTag,
  openPassword,
  sealPassword,
  secretKeyFromEnv,
} from './secret-key.js';

const key = SecretKey.fromText('k'.repeat(40));

describe('server secret key', () => {
  test('sealed passwords open with the same key only, and every seal differs', () => {
    const s1 = sealPassword(key, 'pässwörd:with:colons');
    const s2 = sealPassword(key, 'pässwörd:with:colons');
    expect(s1).toMatch(/^g1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(s1).not.toBe(s2);
    expect(s1).not.toContain('pässwörd');
    expect(openPassword(key, s1)).toBe('pässwörd:with:colons');
    expect(() => openPassword(SecretKey.fromText('j'.repeat(40)), s1)).toThrow(/does not open/);
    expect(sealPassword(key, '')).toBe('');
    expect(openPassword(key, '')).toBe('');
  });

  test('a tampered or malformed sealed value is refused', () => {
    const s = sealPassword(key, 'secret');
    const [v, iv, body] = s.split('.') as [string, string, string];
    const flipped = body.slice(0, 2) + (body[2] === 'A' ? 'B' : 'A') + body.slice(3);
    expect(() => openPassword(key, `${v}.${iv}.${flipped}`)).toThrow();
    for (const bad of ['x', 'g1.a.b', 'g2.' + iv + '.' + body, `g1.${iv}`])
      expect(() => openPassword(key, bad)).toThrow();
  });

  test('lookup tags are deterministic per key and kind, and empty for the empty secret', () => {
    expect(lookupTag(key, 'pin', '1234')).toBe(lookupTag(key, 'pin', '1234'));
    expect(lookupTag(key, 'pin', '1234')).toMatch(/^[0-9a-f]{64}$/);
    expect(lookupTag(key, 'pin', '1234')).not.toBe(lookupTag(key, 'password', '1234'));
    expect(lookupTag(key, 'pin', '1234')).not.toBe(
      lookupTag(SecretKey.fromText('j'.repeat(40)), 'pin', '1234'),
    );
    expect(lookupTag(key, 'pin', '')).toBe('');
  });

  test('from the environment: unset is none, short is an error, generated keys are long enough', () => {
    expect(secretKeyFromEnv({})).toBeUndefined();
    expect(secretKeyFromEnv({ SMSFLEET_SECRET_KEY: '  ' })).toBeUndefined();
    expect(() => secretKeyFromEnv({ SMSFLEET_SECRET_KEY: 'short' })).toThrow(/at least 32/);
    const text = generateSecretKeyText();
    expect(text.length).toBeGreaterThanOrEqual(43);
    const k = secretKeyFromEnv({ SMSFLEET_SECRET_KEY: text })!;
    expect(openPassword(k, sealPassword(SecretKey.fromText(text), 'x'))).toBe('x');
    expect(JSON.stringify({ k })).not.toContain(text);
  });
});
