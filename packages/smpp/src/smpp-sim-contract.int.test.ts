import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSmppUrl, type OutboundSms, type SubmitResult } from '@smsfleet/core';
import { startSmppSim, type SmppSim, type SmppSimBehaviour } from '@smsfleet/smsc-sim';
import type { DeliverEvent } from './deliver.js';
import { SmppTransport, type SmppTransportOptions } from './smpp-transport.js';

/**
 * The same contract against the fleet's SMPP simulator (packages/smsc-sim): each misbehaviour,
 * each encoding and concatenation mode, and an accounting after each scenario from the SMSC's own
 * per-(destination, text) counts.
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function sim(b: Partial<SmppSimBehaviour> = {}): Promise<SmppSim> {
  const s = await startSmppSim({ systemId: 'esme', password: 'secret', behaviour: b });
  cleanups.push(() => s.close());
  return s;
}

function transport(s: SmppSim, extra = '', o: Partial<SmppTransportOptions> = {}): SmppTransport {
  const config = parseSmppUrl(
    `SMPP;server=127.0.0.1;serverport=${s.port};username=esme;password=secret;${extra}`,
  );
  const t = new SmppTransport({ gatewayId: 3, config, reconnectBaseMs: 50, reconnectMaxMs: 400, ...o });
  cleanups.push(() => t.close());
  return t;
}

function msgs(
  count: number,
  tag: string,
  text = (i: number) => `${tag} ${i} ${randomUUID().slice(0, 6)}`,
): OutboundSms[] {
  return Array.from({ length: count }, (_, i) => ({
    smsid: `${tag}-${i}-${randomUUID().slice(0, 8)}`,
    userId: 1,
    gatewayId: 3,
    from: '1000',
    to: `3620${String(i).padStart(7, '0')}`,
    text: text(i),
    encoding: 'GSM7' as const,
    segments: 1,
    clientIp: '127.0.0.1',
    acceptedAt: Date.now(),
  }));
}

/** Submitted once or failed with a reason; duplicates only where the outcome was unknowable. */
function account(s: SmppSim, t: SmppTransport, list: OutboundSms[], results: SubmitResult[]) {
  const counts = new Map(s.counts().map((c) => [`${c.destinationAddr}|${c.text}`, c]));
  let ok = 0;
  let failed = 0;
  let duplicates = 0;
  list.forEach((m, i) => {
    const r = results[i];
    const c = counts.get(`${m.to}|${m.text}`);
    if (r?.ok) {
      ok++;
      expect(c?.count ?? 0, `${m.text} at the SMSC`).toBeGreaterThanOrEqual(1);
    } else {
      failed++;
      expect(r?.reason, `${m.text} has a reason`).toBeTruthy();
    }
    if (c && c.count > 1) {
      duplicates += c.count - 1;
      expect(c.unknowable, `duplicate of ${m.text} only after an unknowable outcome`).toBeGreaterThan(0);
    }
  });
  expect(duplicates).toBeLessThanOrEqual(t.stats().unknownOutcomes);
  return { ok, failed, duplicates, unknownOutcomes: t.stats().unknownOutcomes };
}

const sendAll = (t: SmppTransport, list: OutboundSms[]) => Promise.all(list.map((m) => t.send(m)));

describe('SmppTransport against the smsc-sim SMPP simulator', () => {
  it.each<[string, Partial<SmppSimBehaviour>, string, number]>([
    ['throttle after N msg/s', { throttleAfterPerSecond: 150 }, 'window=20', 300],
    ['queue full every 9th', { queueFullEvery: 9 }, 'window=10', 150],
    ['drop the connection every 60 messages', { dropEvery: 60 }, 'window=10', 300],
    ['slow responses', { responseDelayMs: 40 }, 'window=20', 200],
  ])('%s: every message accounted for', async (_name, behaviour, extra, count) => {
    const s = await sim(behaviour);
    const t = transport(s, extra);
    const list = msgs(count, 'c');
    const results = await sendAll(t, list);
    const acc = account(s, t, list, results);
    expect(acc.ok).toBe(count);
    const st = s.stats();
    if (behaviour.throttleAfterPerSecond) expect(st.throttled).toBeGreaterThan(0);
    if (behaviour.queueFullEvery) expect(st.queueFull).toBeGreaterThan(0);
    if (behaviour.dropEvery) {
      expect(st.dropped).toBeGreaterThan(0);
      console.log(
        `dropEvery: ${acc.duplicates} duplicates, ${acc.unknownOutcomes} unknowable outcomes resent`,
      );
    }
  });

  it('never answers: messages fail with a reason, resends counted as unknowable', async () => {
    const s = await sim({ neverAnswer: true });
    const t = transport(s, 'window=4;timeout=1;AbsoluteTimeout=1', { sendTimeoutMs: 2200 });
    const list = msgs(6, 'na');
    const results = await sendAll(t, list);
    const acc = account(s, t, list, results);
    expect(acc.failed).toBe(6);
    expect(s.stats().unanswered).toBeGreaterThanOrEqual(4);
  });

  it('wrong password: the bind error is the reason; the SMSC is not hammered', async () => {
    const s = await startSmppSim({ systemId: 'esme', password: 'right' });
    cleanups.push(() => s.close());
    const t = transport(s, '', { sendTimeoutMs: 1200 });
    const [r] = await sendAll(t, msgs(1, 'pw'));
    expect(!r?.ok && r?.reason).toMatch(/ESME_RINVPASWD|bind/);
    expect(s.stats().bindFailures).toBeLessThanOrEqual(2);
    expect(s.stats().submitReceived).toBe(0);
  });

  it('rejected destination: permanent, with the SMPP error in the reason', async () => {
    const s = await sim({ rejectDestinations: ['36200000000'] });
    const t = transport(s);
    const [r] = await sendAll(t, msgs(1, 'rej'));
    expect(r).toMatchObject({ ok: false, permanent: true });
    expect(!r?.ok && r?.reason).toMatch(/ESME_RINVDSTADR/);
  });

  it.each([
    ['udh', ''],
    ['udh16', 'concat=udh16'],
    ['sar', 'concat=sar'],
    ['payload', 'concat=payload'],
  ])('concatenation %s: the SMSC reassembles the whole text once', async (_mode, extra) => {
    const s = await sim();
    const t = transport(s, extra);
    const list = [
      ...msgs(3, 'gsm', (i) => `${i} ${'Long GSM text with € and {braces} '.repeat(10)}`),
      ...msgs(3, 'ucs', (i) => `${i} ${'Árvíztűrő tükörfúrógép 😀 '.repeat(6)}`),
    ];
    const results = await sendAll(t, list);
    expect(account(s, t, list, results)).toMatchObject({ ok: 6, duplicates: 0 });
    for (const [i, m] of list.entries()) {
      const whole = s.wholeMessages({ destinationAddr: m.to, text: m.text });
      expect(whole, m.text).toHaveLength(1);
      const r = results[i];
      if (r?.ok) expect(r.providerMessageId).toBe(whole[0]?.messageIds.join(','));
    }
    const parts = s.messages();
    expect(parts.filter((p) => p.dataCoding === 8).length).toBeGreaterThan(0);
    expect(parts.filter((p) => p.dataCoding === 0).length).toBeGreaterThan(0);
  });

  it('transceiver: receipts and MO reach the events', async () => {
    const s = await sim();
    const events: DeliverEvent[] = [];
    const t = transport(s, 'bind=transceiver', { onDeliver: (e) => void events.push(e) });
    const list = msgs(10, 'trx');
    const results = await sendAll(t, list);
    expect(results.every((r) => r.ok)).toBe(true);
    await expect.poll(() => events.filter((e) => e.kind === 'receipt').length, { timeout: 5000 }).toBe(10);
    const ids = new Set(results.map((r) => (r.ok ? r.providerMessageId : '')));
    for (const e of events) if (e.kind === 'receipt') expect(ids.has(e.receipt.providerMessageId)).toBe(true);
    s.sendMo({ from: '36301234567', to: '1000', text: 'hello from a phone' });
    await expect.poll(() => events.find((e) => e.kind === 'mo'), { timeout: 5000 }).toBeDefined();
    const mo = events.find((e) => e.kind === 'mo');
    expect(mo?.kind === 'mo' && mo.mo).toMatchObject({
      from: '36301234567',
      to: '1000',
      text: 'hello from a phone',
      gatewayId: 3,
    });
  });
});

describe('SMPPS (TLS)', () => {
  const fixture = (f: string) =>
    readFileSync(new URL(`../../smsc-sim/fixtures/${f}`, import.meta.url), 'utf8');

  it('secure=1 with sslaccept=ANY binds over TLS; without it a self-signed SMSC is refused', async () => {
    const s = await startSmppSim({
      systemId: 'esme',
      password: 'secret',
      tls: { key: fixture('smpp-sim-key.pem'), cert: fixture('smpp-sim-cert.pem') },
    });
    cleanups.push(() => s.close());
    const ok = await transport(s, 'secure=1;sslaccept=ANY').send(msgs(1, 'tls')[0]!);
    expect(ok.ok).toBe(true);
    const pem = fixture('smpp-sim-cert.pem').replace(/\n/g, '\\n');
    const withCa = await transport(s, `secure=1;sslencodig=${pem}`).send(msgs(1, 'tlsca')[0]!);
    expect(withCa.ok, !withCa.ok ? withCa.reason : '').toBe(true);
    const refused = await transport(s, 'secure=1', { sendTimeoutMs: 1000 }).send(msgs(1, 'tlsno')[0]!);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/certificate/i);
  });
});
