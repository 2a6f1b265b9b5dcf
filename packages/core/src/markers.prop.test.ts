import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  extractBetween,
  extractInboundField,
  extractInboundSms,
  ipAllowed,
  parseIpAllowList,
  type InboundInput,
} from './inbound-extract.js';
import { classifyHttpAnswer, extractProviderId } from './provider-answer.js';
import { parseReceiptText } from './receipt.js';
import { classifyVerifyAnswer } from './verify-answer.js';

const numRuns = Number(process.env['FC_NUM_RUNS'] ?? 500);

const nasty = fc.constantFrom(
  '%',
  '%zz',
  '%E0%A4%A',
  '%ff',
  '+',
  '&',
  '=',
  ',',
  '\n',
  '\r\n',
  '\u0000',
  '\ud800',
  '😀',
  '"',
  '{',
  '}',
  '[',
  ']',
  ':',
  'id:',
  'ID: ',
  'OK ',
  'ERROR',
  'stat:',
  'err:',
  'text:',
  '__proto__',
  'constructor',
);
const str = fc
  .array(fc.oneof(nasty, fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 12 })
  .map((a) => a.join(''));
const marker = fc.oneof(fc.constant(''), fc.string({ minLength: 1, maxLength: 4 }), nasty);
const markers = fc.record({ from1: marker, from2: marker, to1: marker, to2: marker });

describe('marker extraction (smsreceive_from|to|message)', () => {
  it('extractBetween: the value starts right after a start marker and holds no end marker', () => {
    fc.assert(
      fc.property(str, markers, (raw, m) => {
        const hit = extractBetween(raw, m);
        const starts = [m.from1, m.from2].filter((x) => x !== '');
        if (starts.length > 0 && !starts.some((s) => raw.includes(s))) {
          expect(hit).toBeUndefined();
          return;
        }
        expect(hit).toBeDefined();
        const { value, start } = hit!;
        expect(raw.slice(start, start + value.length)).toBe(value);
        if (m.from1 !== '' && raw.includes(m.from1)) {
          expect(start).toBe(raw.indexOf(m.from1) + m.from1.length);
        }
        if (m.to1 !== '') expect(value.includes(m.to1)).toBe(false);
        if (m.to1 === '' || !raw.slice(start).includes(m.to1)) {
          if (m.to2 !== '') expect(value.includes(m.to2)).toBe(false);
        }
        const end = start + value.length;
        if (end < raw.length) {
          // it stopped at an end marker, never elsewhere
          expect(
            raw.startsWith(m.to1, end) && m.to1 !== '' ? true : raw.startsWith(m.to2, end) && m.to2 !== '',
          ).toBe(true);
        }
      }),
      { numRuns },
    );
  });

  it('a value put between markers comes back, whatever it holds (raw and form-encoded)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.boolean(), (value, inQuery) => {
        // markers as an operator writes them for `...&text=VALUE&end=1`
        const enc = encodeURIComponent(value);
        const query = inQuery ? `id=1&text=${enc}&end=1` : 'id=1';
        const body = inQuery ? '' : `<text>${value.replace(/</g, '')}</text>`;
        const input: InboundInput = { params: new Map(), query, body, bodyFormEncoded: false };
        const got = extractInboundField('message', inQuery ? 'text=,,&end' : '<text>,,</text>', input);
        expect(got).toBe(inQuery ? value.trim() : value.replace(/</g, '').trim());
      }),
      { numRuns },
    );
  });

  it('extraction never throws on any request, and parameters win by their names', () => {
    fc.assert(
      fc.property(
        str,
        str,
        fc.boolean(),
        fc.array(fc.tuple(str, str), { maxLength: 5 }),
        fc.record({ smsreceive_from: str, smsreceive_to: str, smsreceive_message: str }),
        (query, body, bodyFormEncoded, params, cfg) => {
          const input: InboundInput = { params: new Map(params), query, body, bodyFormEncoded };
          const r = extractInboundSms(cfg, input);
          if (r.ok) {
            expect(r.sms.to.trim()).not.toBe('');
            expect(r.sms.from).toBe(r.sms.from.trim());
          }
        },
      ),
      { numRuns },
    );
  });

  it('ip allow lists never throw and never let an unparsable address in', () => {
    fc.assert(
      fc.property(str, str, (list, ip) => {
        const l = parseIpAllowList(list);
        const allowed = ipAllowed(l, ip);
        if (!l.any && l.ranges.length === 0) expect(allowed).toBe(false);
      }),
      { numRuns },
    );
  });
});

describe('provider answers', () => {
  const status = fc.oneof(
    fc.constantFrom(200, 201, 202, 204, 301, 400, 401, 404, 408, 429, 500, 503),
    fc.integer(),
  );
  const jsonBody = fc.jsonValue().map((v) => JSON.stringify(v));
  const body = fc.oneof(str, jsonBody, fc.string({ unit: 'binary' }));

  it('classifyHttpAnswer never throws; reasons are one short line; ids are short tokens', () => {
    fc.assert(
      fc.property(status, body, fc.option(str), fc.option(str), (s, b, ok, failStr) => {
        const r = classifyHttpAnswer({
          status: s,
          body: b,
          successString: ok ?? undefined,
          failString: failStr ?? undefined,
        });
        expect(r.reason.length).toBeLessThanOrEqual(200);
        expect(/[\r\n]/.test(r.reason)).toBe(false);
        if (r.providerMessageId !== undefined) {
          expect(r.providerMessageId.length).toBeGreaterThan(0);
          expect(r.providerMessageId.length).toBeLessThanOrEqual(128);
          expect(/\s/.test(r.providerMessageId)).toBe(false);
        }
        if (failStr && b.includes(failStr)) expect(r.ok).toBe(false);
        if (!r.ok) expect(r.providerMessageId).toBeUndefined();
        if ((s >= 500 || s === 429 || s === 408) && !r.ok && !(failStr && b.includes(failStr)))
          expect(r.permanent).toBe(false);
      }),
      { numRuns },
    );
  });

  it('an id in a JSON answer is found exactly, however large the number', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('messageId', 'message_id', 'msgid', 'id'),
        fc.oneof(
          fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
          fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/),
        ),
        fc.boolean(),
        (field, id, asNumber) => {
          const raw = asNumber && /^(0|[1-9]\d*)$/.test(id) ? id : JSON.stringify(id);
          const answer = `{"status":"ok","${field}":${raw}}`;
          expect(extractProviderId(answer)).toBe(id);
          const r = classifyHttpAnswer({ status: 200, body: answer });
          expect(r.ok).toBe(true);
          expect(r.providerMessageId).toBe(id);
        },
      ),
      { numRuns },
    );
  });

  it('receipt texts and verify answers never throw', () => {
    fc.assert(
      fc.property(str, status, body, (text, s, b) => {
        parseReceiptText(text);
        classifyVerifyAnswer(s, b);
      }),
      { numRuns },
    );
  });
});
