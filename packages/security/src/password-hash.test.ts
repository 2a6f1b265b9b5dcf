import { describe, expect, test } from 'vitest';
import {
  DEFAULT_SCRYPT,
  hashSecret,
  isSecretHash,
  needsRehash,
  parseHash,
  verifyDummy,
  verifySecret,
} from './password-hash.js';

const FAST = { ln: 10, r: 8, p: 1 };

describe('scrypt password hashes', () => {
  test('a hash is self-describing, salted, and verifies only its secret', async () => {
    const h = await hashSecret('pässwörd', FAST);
    expect(h).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(h).not.toContain('pässwörd');
    expect(await hashSecret('pässwörd', FAST)).not.toBe(h);
    expect(await verifySecret('pässwörd', h)).toBe(true);
    expect(await verifySecret('passwörd', h)).toBe(false);
    expect(await verifySecret('pässwörd ', h)).toBe(false);
    // NFC and NFD spellings of the same text are the same password.
    expect(await verifySecret('pa\u0308sswo\u0308rd', h)).toBe(true);
  });

  test('the default parameters', async () => {
    const h = await hashSecret('x');
    expect(parseHash(h)?.params).toEqual(DEFAULT_SCRYPT);
    expect(needsRehash(h)).toBe(false);
    expect(needsRehash(await hashSecret('x', FAST))).toBe(true);
  });

  test('empty secrets and bad stored values never match and never throw', async () => {
    expect(await hashSecret('')).toBe('');
    const h = await hashSecret('x', FAST);
    expect(await verifySecret('', h)).toBe(false);
    expect(await verifySecret('x', '')).toBe(false);
    for (const bad of [
      'x',
      '$scrypt$',
      '$scrypt$ln=10,r=8,p=1$AAAA',
      '$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '$scrypt$ln=10,r=99,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
      h.replace('$scrypt$', () => '$scrypt$$'),
    ]) {
      expect(await verifySecret('x', bad)).toBe(false);
      expect(isSecretHash(bad)).toBe(false);
      expect(needsRehash(bad)).toBe(true);
    }
    expect(needsRehash('')).toBe(false);
    expect(await verifyDummy('anything')).toBe(false);
  });

  test('a flipped bit of the stored hash fails', async () => {
    const h = await hashSecret('secret', FAST);
    const last = h.at(-1) === 'A' ? 'B' : 'A';
    expect(await verifySecret('secret', h.slice(0, -1) + last)).toBe(false);
  });
});
