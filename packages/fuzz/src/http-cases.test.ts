import { describe, expect, it } from 'vitest';
import { seededRandom } from '@smsfleet/core';
import {
  breaksHttp,
  isPoisonedRecipients,
  nextCase,
  serverParams,
  STATUS_NAMES,
  TO_NAMES,
  type FuzzCredentials,
  type HttpCase,
} from './http-cases.js';
import { judge } from './http-fuzz.js';

const cred: FuzzCredentials = {
  apiKey: 'k3y',
  adminName: 'admin',
  adminPassword: 'pw',
  dlrSecret: 's3cret',
  dlrGatewayId: 7,
};

const SEND_ENTRIES = [
  'asendsms',
  'asendsmssync',
  'sendsms',
  'sendsmssync',
  'sms',
  'uauthverifysend',
  'uauthverifycheck',
];

function views(c: HttpCase): Map<string, string>[] {
  const i = c.path.indexOf('?');
  const query = i < 0 ? '' : c.path.slice(i + 1);
  const ct = c.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  return [serverParams(query, c.body.toString('utf8'), ct), serverParams(query, '', ct)].filter(
    (p): p is Map<string, string> => p !== undefined,
  );
}

/** 20,000 cases: the generator's promise that none of them is a valid send, MO or report. */
const cases: HttpCase[] = [];
const rng = seededRandom('unit');
for (let i = 0; i < 20_000; i++) cases.push(nextCase(rng, cred));

describe('generated HTTP cases', () => {
  it('cover every target, credentials and protocol breakage', () => {
    const targets = new Set(cases.map((c) => c.target));
    expect([...targets].sort()).toEqual(['dlr', 'inbound', 'mizu', 'v1']);
    expect(cases.filter((c) => c.authed).length).toBeGreaterThan(5000);
    expect(cases.filter((c) => c.protocol).length).toBeGreaterThan(100);
    expect(cases.filter((c) => c.protocol).length).toBeLessThan(cases.length / 4);
  });

  it('a request that breaks HTTP is flagged as such (Node answers it, not our code)', () => {
    for (const c of cases) if (breaksHttp(c)) expect(c.protocol).toBe(true);
  });

  it('an authenticated Mizu send names no valid recipient', () => {
    for (const c of cases.filter((x) => x.target === 'mizu' && x.authed)) {
      for (const p of views(c)) {
        const entry = (p.get('apientry') ?? '').toLowerCase();
        if (!SEND_ENTRIES.includes(entry)) continue;
        const to = p.get('bnum') ?? p.get('bnun') ?? p.get('to');
        expect(to === undefined || isPoisonedRecipients(to)).toBe(true);
      }
    }
  });

  it('an incoming-SMS request never names a target number', () => {
    for (const c of cases) {
      const mo =
        c.target === 'inbound' ||
        (c.target === 'mizu' &&
          views(c).some((p) => (p.get('apientry') ?? '').toLowerCase() === 'smsreceive'));
      if (!mo || c.protocol) continue;
      for (const p of views(c)) for (const n of TO_NAMES) expect(p.has(n)).toBe(false);
    }
  });

  it('a delivery report with the right secret has no status', () => {
    for (const c of cases.filter((x) => x.target === 'dlr' && x.authed && !x.protocol))
      for (const p of views(c)) for (const n of STATUS_NAMES) expect(p.has(n)).toBe(false);
  });

  it('an authenticated /v1 send with a JSON object carries an unknown field', () => {
    for (const c of cases.filter(
      (x) => x.target === 'v1' && x.authed && /^\/v1\/(messages|batches)$/.test(x.path),
    )) {
      let body: unknown;
      try {
        body = JSON.parse(c.body.toString('utf8'));
      } catch {
        continue;
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) continue;
      const known =
        c.path === '/v1/messages' ? ['to', 'text', 'from'] : ['recipients', 'text', 'from', 'scheduleAt'];
      expect(Object.keys(body).some((k) => !known.includes(k))).toBe(true);
    }
  });

  it('judges answers: clear refusals pass, 5xx, OK and unclear answers fail', () => {
    const c = cases.find((x) => x.target === 'mizu' && !x.protocol && x.method === 'GET')!;
    const answer = (status: number, contentType: string, body: string) =>
      judge(c, {
        ok: true,
        response: { status, headers: new Map([['content-type', contentType]]), body: Buffer.from(body) },
      }).verdict;
    expect(answer(200, 'text/plain', 'ERROR bad number')).toBe('error-text');
    expect(answer(200, 'application/json', '{"status":"ERROR","error":"x"}')).toBe('error-text');
    expect(answer(200, 'text/plain', 'OK 0190')).toBe('accepted');
    expect(answer(200, 'application/json', '{"status":"OK","smsid":"1"}')).toBe('accepted');
    expect(answer(500, 'text/plain', 'ERROR internal error')).toBe('5xx');
    expect(answer(400, 'text/html', '<html>')).toBe('unclear');
    expect(
      answer(
        422,
        'application/problem+json',
        '{"type":"x","title":"Validation failed","status":422,"detail":"d"}',
      ),
    ).toBe('problem');
    expect(answer(400, 'application/problem+json', '{"title":"t","status":422,"detail":"d"}')).toBe(
      'unclear',
    );
    expect(judge(c, { ok: false, error: 'no answer within 1 ms' }).verdict).toBe('no-answer');
  });
});
