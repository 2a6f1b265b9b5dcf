import fs from 'node:fs';
import vm from 'node:vm';
import { describe, expect, test } from 'vitest';
import { countSegments } from '@smsfleet/core';
import { publicFile } from '../ops/web-session.js';

type Count = ReturnType<typeof countSegments>;
interface BrowserCounter {
  countSegments(text: string, opts?: { ref16?: boolean }): Count;
}

/** Runs the file the portal serves, as a browser would (a classic script defining a global). */
function loadBrowserCounter(): BrowserCounter {
  const sandbox: Record<string, unknown> = {};
  vm.createContext(sandbox);
  vm.runInContext(fs.readFileSync(publicFile('sms-counter.js'), 'utf8'), sandbox, {
    filename: 'sms-counter.js',
  });
  return sandbox.SmsCounter as BrowserCounter;
}

// Seeded PRNG: a failure names a reproducible case.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const POOLS = [
  'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,!?',
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà',
  '^{}\\[~]|€\f',
  'áőűúíŐŰ–—“”…',
  '😀🚀👍🏽中文한국어',
  '\u001b\ud800\udc00\udfff',
];

describe('browser sms-counter.js mirrors core countSegments', () => {
  const browser = loadBrowserCounter();
  const same = (text: string) => {
    for (const opts of [{}, { ref16: true }]) {
      // JSON round trip: objects from another vm context have another Object prototype.
      expect(JSON.parse(JSON.stringify(browser.countSegments(text, opts))), JSON.stringify(text)).toEqual(
        countSegments(text, opts),
      );
    }
  };

  test('edge cases around the part limits', () => {
    const cases = ['', 'a', '€', '😀', '\u001b'];
    for (const n of [69, 70, 71, 133, 134, 135, 152, 153, 154, 159, 160, 161, 305, 306, 307])
      cases.push(
        'a'.repeat(n),
        '€'.repeat(n),
        'é'.repeat(n),
        'ő'.repeat(n),
        `${'a'.repeat(n)}€`,
        `${'ő'.repeat(n)}😀`,
      );
    for (const n of [65, 66, 67, 68, 69]) cases.push(`${'ő'.repeat(n)}😀${'ő'.repeat(n)}`);
    for (const c of cases) same(c);
  });

  test('2000 random strings mixing GSM7, extension, Latin, astral and malformed characters', () => {
    const r = rng(20261127);
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(r() * 420);
      const pools = POOLS.filter((_, k) => k < 3 || r() < 0.3);
      let text = '';
      while (text.length < len) {
        const pool = pools[Math.floor(r() * pools.length)]!;
        const chars = [...pool];
        text += chars[Math.floor(r() * chars.length)]!;
      }
      same(text);
    }
  });

  test('the counter flips to UCS2 as a user would see it', () => {
    expect(browser.countSegments('Hello').encoding).toBe('GSM7');
    const c = JSON.parse(JSON.stringify(browser.countSegments('Hello ő'))) as Count;
    expect(c).toEqual({ encoding: 'UCS2', segments: 1, units: 7, charsLeftInSegment: 63 });
  });
});
