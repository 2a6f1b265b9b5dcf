import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSmppUrl, type OutboundSms, type SubmitResult } from '@smsfleet/core';
import { createRedis, GatewayRateLimiter } from '@smsfleet/queue';
import { startFakeSmsc, type FakeSmsc, type FakeSmscBehaviour } from './fake-smsc.js';
import { RedisBindLeaser } from './bind-lease.js';
import type { DeliverEvent } from './deliver.js';
import { SmppTransport, type SmppTransportOptions } from './smpp-transport.js';

/**
 * Contract suite over real TCP sessions: each misbehaviour of the SMSC, then an accounting of
 * every message (submitted once, or failed with a reason; duplicates only where the protocol made
 * the outcome unknowable, and then counted).
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function smsc(b: FakeSmscBehaviour = {}): Promise<FakeSmsc> {
  const s = await startFakeSmsc({ systemId: 'esme', password: 'secret', ...b });
  cleanups.push(() => s.close());
  return s;
}

function transport(s: FakeSmsc, extra = '', o: Partial<SmppTransportOptions> = {}): SmppTransport {
  const config = parseSmppUrl(
    `SMPP;server=127.0.0.1;serverport=${s.port};username=esme;password=secret;${extra}`,
  );
  const t = new SmppTransport({ gatewayId: 7, config, reconnectBaseMs: 50, reconnectMaxMs: 400, ...o });
  cleanups.push(() => t.close());
  return t;
}

let n = 0;
function msg(text: string, to = '36201234567'): OutboundSms {
  n++;
  return {
    smsid: `s${n}-${randomUUID().slice(0, 8)}`,
    userId: 1,
    gatewayId: 7,
    from: '1000',
    to,
    text,
    encoding: 'GSM7',
    segments: 1,
    clientIp: '127.0.0.1',
    acceptedAt: Date.now(),
  };
}

/** Every message accounted for: ok with ids the SMSC gave, or failed with a reason. */
function account(s: FakeSmsc, msgs: OutboundSms[], results: SubmitResult[], unknown: number) {
  const byText = new Map<string, number>();
  for (const a of s.accepted) {
    const t = a.data.toString('latin1');
    byText.set(t, (byText.get(t) ?? 0) + 1);
  }
  let dups = 0;
  let ok = 0;
  let failed = 0;
  msgs.forEach((m, i) => {
    const r = results[i];
    expect(r).toBeDefined();
    const copies = byText.get(m.text) ?? 0;
    if (r?.ok) {
      ok++;
      expect(copies, `message ${m.text} submitted`).toBeGreaterThanOrEqual(1);
      const ids = s.accepted.filter((a) => a.data.toString('latin1') === m.text).map((a) => a.messageId);
      expect(ids).toContain(r.providerMessageId);
    } else {
      failed++;
      expect(r?.reason).toBeTruthy();
    }
    if (copies > 1) dups += copies - 1;
  });
  expect(dups, 'duplicates only from unknown outcomes').toBeLessThanOrEqual(unknown);
  return { ok, failed, dups };
}

async function sendAll(t: SmppTransport, msgs: OutboundSms[]): Promise<SubmitResult[]> {
  return Promise.all(msgs.map((m) => t.send(m)));
}

const texts = (count: number, tag: string) => Array.from({ length: count }, (_, i) => msg(`${tag} ${i}`));

describe('SmppTransport over TCP', () => {
  it('binds, submits through the window and maps every seed parameter into submit_sm', async () => {
    const s = await smsc();
    const t = transport(
      s,
      'window=10;servicetype=CMT;msgpriority=2;msgexpire=000001000000000R;SourceTON=5;SourceNPI=0;DestinationTON=1;DestinationNPI=1;systemtype=SMS;version=34',
    );
    const msgs = texts(200, 'plain');
    const results = await sendAll(t, msgs);
    expect(results.every((r) => r.ok)).toBe(true);
    const acc = account(s, msgs, results, 0);
    expect(acc).toEqual({ ok: 200, failed: 0, dups: 0 });
    const p = s.accepted[0]?.pdu;
    expect(p).toMatchObject({
      service_type: 'CMT',
      priority_flag: 2,
      validity_period: '000001000000000R',
      source_addr_ton: 5,
      source_addr_npi: 0,
      source_addr: '1000',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '36201234567',
      registered_delivery: 1,
      data_coding: 0,
    });
    expect(s.binds[0]).toEqual({ command: 'bind_transmitter', systemId: 'esme', ok: true });
    expect(t.stats()).toMatchObject({ submitted: 200, unknownOutcomes: 0, binds: 1 });
  });

  it('throttled: slows the whole gateway down and retries; each message submitted once', async () => {
    const s = await smsc({ throttlePerSec: 100 });
    const t = transport(s, 'window=20');
    const msgs = texts(250, 'thr');
    const results = await sendAll(t, msgs);
    expect(account(s, msgs, results, 0)).toEqual({ ok: 250, failed: 0, dups: 0 });
    expect(t.stats().throttled).toBeGreaterThan(0);
  });

  it('queue full: backs off and retries; each message submitted once', async () => {
    const s = await smsc({ queueFullEvery: 7 });
    const t = transport(s);
    const msgs = texts(100, 'qf');
    const results = await sendAll(t, msgs);
    expect(account(s, msgs, results, 0)).toEqual({ ok: 100, failed: 0, dups: 0 });
    expect(t.stats().queueFull).toBeGreaterThan(0);
  });

  it('temporary errors retry with backoff; permanent ones fail with the SMPP error', async () => {
    const s = await smsc({ sysErrEvery: 5, rejectDest: ['36209999999'] });
    const t = transport(s);
    const msgs = [...texts(30, 'tmp'), msg('to a bad number', '36209999999')];
    const results = await sendAll(t, msgs);
    account(s, msgs, results, 0);
    expect(results.slice(0, 30).every((r) => r.ok)).toBe(true);
    const bad = results[30];
    expect(bad).toMatchObject({ ok: false, permanent: true });
    expect(!bad?.ok && bad?.reason).toMatch(/ESME_RINVDSTADR \(0x0000000B\)/);
    expect(t.stats().temporaryErrors).toBeGreaterThan(0);
  });

  it('dropped every N messages: reconnects, resends what was in flight, loses nothing', async () => {
    const s = await smsc({ dropEvery: 40 });
    const t = transport(s, 'window=10');
    const msgs = texts(300, 'drop');
    const results = await sendAll(t, msgs);
    const unknown = t.stats().unknownOutcomes;
    const acc = account(s, msgs, results, unknown);
    expect(acc.ok).toBe(300);
    expect(unknown).toBeGreaterThan(0);
    expect(t.stats().bindAttempts).toBeGreaterThan(2);
  });

  it('never answers: the window holds, requests time out, messages fail with a reason', async () => {
    const s = await smsc({ neverAnswer: true });
    const t = transport(s, 'window=5;timeout=1;AbsoluteTimeout=1', { sendTimeoutMs: 2500 });
    await t.waitForBinds(1);
    const msgs = texts(12, 'silent');
    const pending = sendAll(t, msgs);
    await new Promise((r) => setTimeout(r, 400));
    // Only the window went out on the first bind before the deadline.
    expect(s.received).toBe(5);
    const results = await pending;
    const acc = account(s, msgs, results, t.stats().unknownOutcomes);
    expect(acc.failed).toBe(12);
    for (const r of results)
      expect(!r.ok && r.reason, JSON.stringify(r)).toMatch(/gave up after 2500 ms: .*no response/);
    expect(t.stats().unknownOutcomes).toBeGreaterThanOrEqual(5);
  });

  it('wrong password: fails with the bind error, and does not hammer the SMSC', async () => {
    const s = await smsc({ password: 'other' });
    const t = transport(s, '', { sendTimeoutMs: 1500 });
    const r = await t.send(msg('never sent'));
    expect(r).toMatchObject({ ok: false, permanent: false });
    expect(!r.ok && r.reason).toMatch(/ESME_RINVPASWD/);
    expect(s.binds.length).toBeGreaterThanOrEqual(1);
    expect(s.binds.length).toBeLessThanOrEqual(2);
    expect(s.accepted).toHaveLength(0);
  });

  it('slow responses: the window keeps several requests outstanding', async () => {
    const s = await smsc({ responseDelayMs: 150 });
    const t = transport(s, 'window=10');
    await t.waitForBinds(1);
    const started = Date.now();
    const msgs = texts(50, 'slow');
    const results = await sendAll(t, msgs);
    expect(account(s, msgs, results, 0).ok).toBe(50);
    // 50 x 150 ms one at a time would take 7.5 s.
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('transceiver: delivery receipts and MO messages come back as events', async () => {
    const s = await smsc({ receipts: true });
    const events: DeliverEvent[] = [];
    const t = transport(s, 'bind=transceiver', { onDeliver: (e) => void events.push(e) });
    const results = await sendAll(t, texts(5, 'dlr'));
    expect(results.every((r) => r.ok && r.awaitReceipt)).toBe(true);
    await expect.poll(() => events.length).toBe(5);
    const ids = results.map((r) => (r.ok ? r.providerMessageId : ''));
    for (const e of events) {
      expect(e.kind).toBe('receipt');
      if (e.kind === 'receipt') {
        expect(ids).toContain(e.receipt.providerMessageId);
        expect(e.receipt).toMatchObject({ gatewayId: 7, stat: 'DELIVRD', messageState: 2, source: 'smpp' });
      }
    }
    const answers = await s.deliver({
      source_addr: '36301112222',
      destination_addr: '1000',
      esm_class: 0,
      data_coding: 8,
      short_message: Buffer.from('Szia 😀', 'utf16le').swap16(),
    });
    expect(answers).toEqual([0]);
    const mo = events.find((e) => e.kind === 'mo');
    expect(mo?.kind === 'mo' && mo.mo).toMatchObject({
      from: '36301112222',
      to: '1000',
      text: 'Szia 😀',
      source: 'smpp',
    });
  });

  it('transmitter + receiver: two binds per slot, receipts on the receiver', async () => {
    const s = await smsc({ receipts: true });
    const events: DeliverEvent[] = [];
    const t = transport(s, 'bind=transmitter+receiver', { onDeliver: (e) => void events.push(e) });
    await t.waitForBinds(1);
    await expect
      .poll(() => s.binds.map((b) => b.command).sort())
      .toEqual(['bind_receiver', 'bind_transmitter']);
    const r = await t.send(msg('via tx'));
    expect(r.ok).toBe(true);
    await expect.poll(() => events.length).toBe(1);
  });

  it("answers the SMSC's enquire_link, nacks unknown commands and keeps the session", async () => {
    const s = await smsc();
    const t = transport(s);
    await t.waitForBinds(1);
    expect(await s.request(0x00000015)).toEqual([{ commandId: 0x80000015, status: 0 }]);
    expect(await s.request(0x00000077)).toEqual([{ commandId: 0x80000000, status: 0x03 }]);
    expect((await t.send(msg('still bound'))).ok).toBe(true);
    expect(t.stats().bindAttempts).toBe(1);
  });

  it('closes gracefully: in-flight answers arrive, then unbind', async () => {
    const s = await smsc({ responseDelayMs: 100 });
    const t = transport(s);
    await t.waitForBinds(1);
    const sending = t.send(msg('in flight at close'));
    await new Promise((r) => setTimeout(r, 20));
    await t.close();
    expect((await sending).ok).toBe(true);
    expect(s.connections()).toBe(0);
  });

  it('a messages-per-second limit counted in segments', async () => {
    const s = await smsc();
    const t = transport(s, 'mps=40');
    await t.waitForBinds(1);
    const started = Date.now();
    // 10 messages x 3 segments = 30 segments at 40/s: at least ~0.7 s.
    const results = await sendAll(
      t,
      texts(10, 'x'.repeat(400)).map((m, i) => ({ ...m, text: `${i} ${'y'.repeat(400)}` })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(s.accepted).toHaveLength(30);
    expect(Date.now() - started).toBeGreaterThan(650);
  });
});

describe('encodings and concatenation on the wire', () => {
  it('GSM 03.38, UCS2 and Latin-1 chosen per message; DataCoding forces', async () => {
    const s = await smsc();
    const t = transport(s);
    await t.send(msg('Hello {world} 5€ @home'));
    await t.send(msg('Árvíztűrő ő'));
    const latin = transport(s, 'charset=latin1');
    await latin.send(msg('café ç'));
    await latin.send(msg('Ő is not Latin-1'));
    const forced = transport(s, 'DataCoding=8');
    await forced.send(msg('plain'));
    const [gsm, ucs2, l1, l1ucs, f8] = s.accepted;
    expect(gsm?.pdu.data_coding).toBe(0);
    expect(gsm?.data.toString('hex')).toBe('48656c6c6f201b28776f726c641b2920351b652000686f6d65');
    expect(ucs2?.pdu.data_coding).toBe(8);
    expect(ucs2?.data.toString('hex')).toBe(Buffer.from('Árvíztűrő ő', 'utf16le').swap16().toString('hex'));
    expect(l1?.pdu.data_coding).toBe(3);
    expect(l1?.data.toString('latin1')).toBe('café ç');
    expect(l1ucs?.pdu.data_coding).toBe(8);
    expect(f8?.pdu.data_coding).toBe(8);
    const bad = await transport(s, 'DataCoding=1').send(msg('ő'));
    expect(bad).toMatchObject({ ok: false, permanent: true });
    expect(!bad.ok && bad.reason).toMatch(/IA5/);
  });

  const long = 'A'.repeat(153) + 'B'.repeat(153) + 'C'.repeat(10);

  it('UDH 8-bit by default: parts with esm_class 0x40, one reference, ids of every part', async () => {
    const s = await smsc();
    const r = await transport(s).send(msg(long));
    expect(s.accepted).toHaveLength(3);
    const udhs = s.accepted.map((a) => a.data.subarray(0, 6).toString('hex'));
    const ref = udhs[0]?.slice(6, 8);
    expect(udhs).toEqual([`050003${ref}0301`, `050003${ref}0302`, `050003${ref}0303`]);
    expect(s.accepted.every((a) => a.pdu.esm_class === 0x40)).toBe(true);
    expect(r).toMatchObject({ ok: true, segments: 3, partIds: s.accepted.map((a) => a.messageId) });
    expect(r.ok && r.providerMessageId).toBe(s.accepted.map((a) => a.messageId).join(','));
  });

  it('UDH 16-bit, SAR TLVs and message_payload as per-gateway options', async () => {
    const s16 = await smsc();
    await transport(s16, 'concat=udh16').send(msg(long));
    expect(s16.accepted[0]?.data.subarray(0, 3).toString('hex')).toBe('060804');
    expect(s16.accepted.length).toBe(3);

    const sar = await smsc();
    await transport(sar, 'concat=sar').send(msg(long));
    expect(sar.accepted).toHaveLength(3);
    expect(
      sar.accepted.map((a) => [a.pdu.sar_total_segments, a.pdu.sar_segment_seqnum, a.pdu.esm_class]),
    ).toEqual([
      [3, 1, 0],
      [3, 2, 0],
      [3, 3, 0],
    ]);
    expect(new Set(sar.accepted.map((a) => a.pdu.sar_msg_ref_num)).size).toBe(1);

    const pl = await smsc();
    const r = await transport(pl, 'concat=payload').send(msg(long));
    expect(pl.accepted).toHaveLength(1);
    expect(pl.accepted[0]?.pdu.message_payload).toEqual(Buffer.from(long, 'ascii'));
    expect(r).toMatchObject({ ok: true, segments: 3 });
  });

  it('isdata with HexString, and several recipients', async () => {
    const s = await smsc();
    await transport(s, 'isdata=1;HexString=0aff00').send(msg('ignored'));
    expect(s.accepted[0]?.pdu.data_coding).toBe(4);
    expect(s.accepted[0]?.data.toString('hex')).toBe('0aff00');
    const r = await transport(s, 'recipients=3611;3622;3633').send(msg('to three'));
    expect(s.accepted.slice(1).map((a) => a.dest)).toEqual(['3611', '3622', '3633']);
    expect(r).toMatchObject({ ok: true, segments: 3 });
  });
});

describe('across replicas (Redis)', () => {
  it('never holds more binds than configured, whichever transports hold them', async () => {
    const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    cleanups.push(async () => void (await redis.quit()));
    const prefix = `smpptest${randomUUID().slice(0, 8)}`;
    const s = await smsc();
    const limiter = new GatewayRateLimiter(redis, prefix);
    const replicas = [0, 1, 2].map(() =>
      transport(s, 'binds=2', { leaser: new RedisBindLeaser(redis, prefix, 7, 1500), rateLimiter: limiter }),
    );
    await expect.poll(() => s.connections(), { timeout: 5000 }).toBe(2);
    await new Promise((r) => setTimeout(r, 600));
    expect(s.maxConcurrentBinds).toBe(2);
    // A replica that holds a bind sends; closing it hands its slot to another replica.
    const holder = replicas.find((t) => t.stats().binds > 0);
    expect(holder).toBeDefined();
    await holder?.close();
    await expect
      .poll(() => replicas.filter((t) => t !== holder).reduce((a, t) => a + t.stats().binds, 0), {
        timeout: 8000,
      })
      .toBe(2);
    expect(s.maxConcurrentBinds).toBe(2);
  });
});
