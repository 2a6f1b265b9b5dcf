import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodeGsm7Unpacked, encodeUcs2 } from '@smsfleet/core';
import { afterEach, describe, expect, test } from 'vitest';
import { startHttpSim, type HttpSim } from './http-sim.js';
import { smppControlRoutes } from './smpp/control-routes.js';
import { startSmppSim, type SmppSim, type SmppSimOptions } from './smpp-sim.js';

// Real TCP (and TLS) on loopback, with a plain `smpp` library client as the ESME.

interface Pdu {
  command: string;
  command_status: number;
  sequence_number: number;
  [k: string]: unknown;
  response(o?: Record<string, unknown>): Pdu;
}
type Listener = (...args: never[]) => void;
interface ClientSession {
  socket: Socket;
  on(ev: string, fn: Listener): void;
  once(ev: string, fn: Listener): void;
  send(pdu: Pdu): boolean;
  destroy(): void;
}
type CommandCall = (options: Record<string, unknown>, cb: (pdu: Pdu) => void) => boolean;
const smpp = createRequire(import.meta.url)('smpp') as {
  connect(o: Record<string, unknown>, listener?: () => void): ClientSession;
  PDU: new (c: string, o?: Record<string, unknown>) => Pdu;
};

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

const sims: SmppSim[] = [];
const clients: ClientSession[] = [];
const https: HttpSim[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(sims.splice(0).map((s) => s.close()));
  await Promise.all(https.splice(0).map((s) => s.close()));
});

async function sim(opts: SmppSimOptions = {}): Promise<SmppSim> {
  const s = await startSmppSim({ port: 0, ...opts });
  sims.push(s);
  return s;
}

/** A connected client that answers deliver_sm (and records them) like an ESME must. */
async function client(
  s: SmppSim,
  o: { tls?: boolean; autoAck?: boolean } = {},
): Promise<{
  session: ClientSession;
  delivers: Pdu[];
  closed: Promise<void>;
}> {
  const session = smpp.connect(
    o.tls
      ? { host: '127.0.0.1', port: s.port, tls: true, rejectUnauthorized: false }
      : { host: '127.0.0.1', port: s.port },
  );
  clients.push(session);
  const delivers: Pdu[] = [];
  session.on('error', () => undefined);
  session.on('deliver_sm', (pdu: Pdu) => {
    delivers.push(pdu);
    if (o.autoAck !== false) session.send(pdu.response());
  });
  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  await new Promise<void>((resolve) => session.once(o.tls ? 'secureConnect' : 'connect', () => resolve()));
  return { session, delivers, closed };
}

function call(session: ClientSession, command: string, options: Record<string, unknown> = {}): Promise<Pdu> {
  return new Promise((resolve, reject) => {
    const fn = (session as unknown as Record<string, CommandCall>)[command]!;
    const ok = fn.call(session, options, (pdu: Pdu) => resolve(pdu));
    if (!ok) reject(new Error('socket not writable'));
  });
}

async function bound(
  s: SmppSim,
  type: 'transmitter' | 'receiver' | 'transceiver' = 'transceiver',
  o: { tls?: boolean; autoAck?: boolean } = {},
): Promise<Awaited<ReturnType<typeof client>>> {
  const c = await client(s, o);
  const resp = await call(c.session, `bind_${type}`, {
    system_id: 'smsfleet',
    password: 'smsfleet',
    interface_version: 0x34,
  });
  expect(resp.command_status).toBe(0);
  return c;
}

function submit(session: ClientSession, o: Record<string, unknown>): Promise<Pdu> {
  return call(session, 'submit_sm', { source_addr: '1000', data_coding: 0, ...o });
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function textOf(pdu: Pdu): string {
  const sm = pdu['short_message'] as { message: string | Buffer };
  return Buffer.isBuffer(sm.message) ? sm.message.toString('latin1') : sm.message;
}

describe('binds', () => {
  test('every bind type with the configured credentials; binds() lists them', async () => {
    const s = await sim();
    await bound(s, 'transmitter');
    await bound(s, 'receiver');
    await bound(s, 'transceiver');
    expect(
      s
        .binds()
        .map((b) => b.type)
        .sort(),
    ).toEqual(['receiver', 'transceiver', 'transmitter']);
    expect(s.binds().every((b) => b.systemId === 'smsfleet')).toBe(true);
    expect(s.stats().binds).toBe(3);
  });

  test('wrong password, wrong system_id, a second bind on a session, maxBinds', async () => {
    const s = await sim({ systemId: 'acct1', password: 'pw1', behaviour: { maxBinds: 1 } });
    const c = await client(s);
    expect(
      (await call(c.session, 'bind_transmitter', { system_id: 'acct1', password: 'nope' })).command_status,
    ).toBe(0x0e);
    expect(
      (await call(c.session, 'bind_transmitter', { system_id: 'other', password: 'pw1' })).command_status,
    ).toBe(0x0f);
    expect(
      (await call(c.session, 'bind_transmitter', { system_id: 'acct1', password: 'pw1' })).command_status,
    ).toBe(0);
    expect(
      (await call(c.session, 'bind_receiver', { system_id: 'acct1', password: 'pw1' })).command_status,
    ).toBe(0x05);
    const c2 = await client(s);
    expect(
      (await call(c2.session, 'bind_receiver', { system_id: 'acct1', password: 'pw1' })).command_status,
    ).toBe(0x0d);
    expect(s.stats()).toMatchObject({ binds: 1, bindFailures: 4 });
  });

  test('bind_resp carries sc_interface_version 0x34; enquire_link answered; unknown command gets generic_nack', async () => {
    const s = await sim();
    const c = await client(s);
    const resp = await call(c.session, 'bind_transceiver', {
      system_id: 'smsfleet',
      password: 'smsfleet',
      interface_version: 0x34,
    });
    expect(resp['sc_interface_version']).toBe(0x34);
    expect((await call(c.session, 'enquire_link')).command).toBe('enquire_link_resp');
    // A command id no SMPP version defines, written raw.
    const nack = new Promise<Pdu>((resolve) => c.session.on('generic_nack', resolve));
    const raw = Buffer.alloc(16);
    raw.writeUInt32BE(16, 0);
    raw.writeUInt32BE(0x000000ee, 4);
    raw.writeUInt32BE(0, 8);
    raw.writeUInt32BE(4242, 12);
    c.session.socket.write(raw);
    const n = await nack;
    expect(n).toMatchObject({ command_status: 0x03, sequence_number: 4242 });
    expect(s.stats().enquireLinks).toBe(1);
  });

  test('submit_sm before bind and from a receiver bind: ESME_RINVBNDSTS', async () => {
    const s = await sim();
    const c = await client(s);
    expect((await submit(c.session, { destination_addr: '1', short_message: 'x' })).command_status).toBe(
      0x04,
    );
    const r = await bound(s, 'receiver');
    expect((await submit(r.session, { destination_addr: '1', short_message: 'x' })).command_status).toBe(
      0x04,
    );
    expect(s.stats().submitReceived).toBe(0);
  });

  test('unbind answers unbind_resp and closes the connection', async () => {
    const s = await sim();
    const c = await bound(s, 'transmitter');
    expect((await call(c.session, 'unbind')).command).toBe('unbind_resp');
    await c.closed;
    await until(() => s.stats().binds === 0);
  });
});

describe('submit_sm', () => {
  test('answers distinct hex ids and records each message', async () => {
    const s = await sim();
    const { session } = await bound(s, 'transmitter');
    const r1 = await submit(session, { destination_addr: '36201111111', short_message: 'first' });
    const r2 = await submit(session, { destination_addr: '36202222222', short_message: 'second' });
    expect(r1.command_status).toBe(0);
    expect(r1['message_id']).toMatch(/^[0-9a-f]+$/);
    expect(r2['message_id']).not.toBe(r1['message_id']);
    const [m1] = s.messages({ destinationAddr: '36201111111' });
    expect(m1).toMatchObject({
      seq: 1,
      systemId: 'smsfleet',
      sourceAddr: '1000',
      text: 'first',
      outcome: 'accepted',
      commandStatus: 0,
      messageId: r1['message_id'],
    });
    expect(s.stats()).toMatchObject({
      submitReceived: 2,
      submitAccepted: 2,
      uniqueMessages: 2,
      duplicates: 0,
    });
  });

  test('ids keep growing across a restart of the simulator', async () => {
    const a = await sim();
    const c = await bound(a, 'transmitter');
    const id1 = BigInt(
      `0x${(await submit(c.session, { destination_addr: '1', short_message: 'a' }))['message_id'] as string}`,
    );
    await a.close();
    const b = await sim();
    const c2 = await bound(b, 'transmitter');
    const id2 = BigInt(
      `0x${(await submit(c2.session, { destination_addr: '1', short_message: 'a' }))['message_id'] as string}`,
    );
    expect(id2 > id1).toBe(true);
  });

  test('decodes GSM 03.38 unpacked, Latin-1 and UCS2 from the raw octets', async () => {
    const s = await sim();
    const { session } = await bound(s, 'transmitter');
    const gsm = 'Hi @ $ _ {€} ~ Ä ñ';
    const latin = 'Grüße, ça coûte 5 €'.replace('€', 'EUR');
    const ucs2 = 'Привет 😀 مرحبا';
    await submit(session, {
      destination_addr: '1',
      data_coding: 0,
      short_message: Buffer.from(encodeGsm7Unpacked(gsm)),
    });
    await submit(session, {
      destination_addr: '2',
      data_coding: 3,
      short_message: Buffer.from(latin, 'latin1'),
    });
    await submit(session, {
      destination_addr: '3',
      data_coding: 8,
      short_message: Buffer.from(encodeUcs2(ucs2)),
    });
    expect(s.messages().map((m) => [m.dataCoding, m.text])).toEqual([
      [0, gsm],
      [3, latin],
      [8, ucs2],
    ]);
  });

  test('reassembles UDH 8-bit and 16-bit concatenation sent out of order, counting it once', async () => {
    const s = await sim();
    const { session } = await bound(s, 'transmitter');
    const udh8 = (i: number): Buffer => Buffer.from([0x05, 0x00, 0x03, 0x7a, 3, i]);
    const parts = ['Part one, ', 'part two, ', 'part three.'];
    for (const i of [2, 3, 1]) {
      const body = Buffer.from(encodeGsm7Unpacked(parts[i - 1]!));
      await submit(session, {
        destination_addr: '36209',
        esm_class: 0x40,
        short_message: Buffer.concat([udh8(i), body]),
      });
    }
    const udh16 = (i: number): Buffer => Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, 2, i]);
    for (const i of [1, 2]) {
      const body = Buffer.from(encodeUcs2(i === 1 ? 'Ünïcode ' : 'twö'));
      await submit(session, {
        destination_addr: '36209',
        esm_class: 0x40,
        data_coding: 8,
        short_message: Buffer.concat([udh16(i), body]),
      });
    }
    expect(s.wholeMessages().map((w) => [w.text, w.parts])).toEqual([
      ['Part one, part two, part three.', 3],
      ['Ünïcode twö', 2],
    ]);
    expect(s.messages()[0]).toMatchObject({
      concat: { ref: 0x7a, total: 3, seqNum: 2, via: 'udh8' },
      udh: '0500037a0302',
    });
    expect(s.stats()).toMatchObject({
      submitReceived: 5,
      wholeMessages: 2,
      uniqueMessages: 2,
      incompleteMessages: 0,
    });
  });

  test('reassembles SAR TLVs and reads message_payload', async () => {
    const s = await sim();
    const { session } = await bound(s, 'transmitter');
    for (const [i, t] of [
      [1, 'sar-a '],
      [2, 'sar-b'],
    ] as const) {
      await submit(session, {
        destination_addr: '44',
        short_message: Buffer.from(encodeGsm7Unpacked(t)),
        sar_msg_ref_num: 513,
        sar_total_segments: 2,
        sar_segment_seqnum: i,
      });
    }
    const long = 'x'.repeat(300) + ' end';
    await submit(session, {
      destination_addr: '45',
      data_coding: 0,
      message_payload: Buffer.from(encodeGsm7Unpacked(long)),
    });
    expect(s.wholeMessages().map((w) => w.text)).toEqual(['sar-a sar-b', long]);
    expect(s.messages({ destinationAddr: '45' })[0]).toMatchObject({ payloadInTlv: true });
    expect(s.messages({ destinationAddr: '44' })[1]?.concat).toEqual({
      ref: 513,
      total: 2,
      seqNum: 2,
      via: 'sar',
    });
  });

  test('counts the same (destination, text) sent twice as a duplicate', async () => {
    const s = await sim();
    const { session } = await bound(s, 'transmitter');
    await submit(session, { destination_addr: '7', short_message: 'same' });
    await submit(session, { destination_addr: '7', short_message: 'same' });
    await submit(session, { destination_addr: '8', short_message: 'same' });
    expect(s.stats()).toMatchObject({ uniqueMessages: 2, duplicates: 1 });
    expect(s.counts({ duplicatesOnly: true })).toEqual([
      { destinationAddr: '7', text: 'same', count: 2, unknowable: 0 },
    ]);
  });

  test('a truncated submit_sm is answered ESME_RINVMSGLEN', async () => {
    const s = await sim();
    const { session } = await bound(s, 'transmitter');
    const reply = new Promise<Pdu>((resolve) => session.on('submit_sm_resp', resolve));
    // service_type "" then source_addr_ton and nothing else.
    const raw = Buffer.from([0, 0, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 99, 0, 1]);
    session.socket.write(raw);
    expect(await reply).toMatchObject({ command_status: 0x01, sequence_number: 99 });
    expect(s.stats().invalid).toBe(1);
  });
});

describe('misbehaviours', () => {
  test('throttleAfterPerSecond answers ESME_RTHROTTLED above N per second', async () => {
    const s = await sim({ behaviour: { throttleAfterPerSecond: 5 } });
    const { session } = await bound(s, 'transmitter');
    // The window is the wall-clock second: start early in one, and try again should a loaded
    // machine stretch the burst over a second boundary.
    for (let attempt = 0; ; attempt++) {
      s.reset();
      while (Date.now() % 1000 > 300) await sleep(10);
      const resps = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          submit(session, { destination_addr: String(i), short_message: 't' }),
        ),
      );
      const seconds = new Set(s.messages().map((m) => Math.floor(m.receivedAt / 1000)));
      if (seconds.size > 1 && attempt < 3) continue;
      expect(resps.map((r) => r.command_status)).toEqual([0, 0, 0, 0, 0, 0x58, 0x58, 0x58]);
      expect(s.stats()).toMatchObject({ throttled: 3, submitAccepted: 5 });
      break;
    }
    await sleep(1000 - (Date.now() % 1000) + 20);
    expect((await submit(session, { destination_addr: '9', short_message: 't' })).command_status).toBe(0);
  });

  test('queueFullEvery and queueFull answer ESME_RMSGQFUL', async () => {
    const s = await sim({ behaviour: { queueFullEvery: 3 } });
    const { session } = await bound(s, 'transmitter');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await submit(session, { destination_addr: String(i), short_message: 'q' })).command_status,
      );
    expect(statuses).toEqual([0, 0, 0x14, 0, 0, 0x14]);
    s.setBehaviour({ queueFullEvery: 0, queueFull: true });
    expect((await submit(session, { destination_addr: '9', short_message: 'q' })).command_status).toBe(0x14);
    expect(s.stats().queueFull).toBe(3);
    expect(s.messages({ outcome: 'queueFull' })).toHaveLength(3);
  });

  test('dropEvery destroys the connection on the Nth submit without answering it; the SMSC kept it', async () => {
    const s = await sim({ behaviour: { dropEvery: 3 } });
    const { session, closed } = await bound(s, 'transmitter');
    const answered: string[] = [];
    const sends = [1, 2, 3].map((i) =>
      submit(session, { destination_addr: '5', short_message: `drop-${i}` }).then((r) =>
        answered.push(`drop-${i}:${r.command_status}`),
      ),
    );
    await closed;
    await Promise.race([Promise.all(sends), sleep(200)]);
    expect(answered).toEqual(['drop-1:0', 'drop-2:0']);
    expect(s.stats()).toMatchObject({ dropped: 1, submitAccepted: 2, binds: 0 });
    const [dropped] = s.messages({ outcome: 'dropped' });
    expect(dropped?.text).toBe('drop-3');
    expect(dropped?.commandStatus).toBeUndefined();
    expect(dropped!.messageId).not.toBe('');
    // A client that resends it after reconnecting makes a duplicate the simulator marks unknowable.
    const again = await bound(s, 'transmitter');
    expect(
      (await submit(again.session, { destination_addr: '5', short_message: 'drop-3' })).command_status,
    ).toBe(0);
    expect(s.counts({ duplicatesOnly: true })).toEqual([
      { destinationAddr: '5', text: 'drop-3', count: 2, unknowable: 1 },
    ]);
  });

  test('neverAnswer keeps messages and never answers them; enquire_link still works', async () => {
    const s = await sim({ behaviour: { neverAnswer: true } });
    const { session } = await bound(s, 'transmitter');
    let answered = false;
    void submit(session, { destination_addr: '5', short_message: 'silent' }).then(() => (answered = true));
    expect((await call(session, 'enquire_link')).command_status).toBe(0);
    await sleep(200);
    expect(answered).toBe(false);
    expect(s.stats()).toMatchObject({ unanswered: 1, submitReceived: 1, submitAccepted: 0 });
    expect(s.counts()).toEqual([{ destinationAddr: '5', text: 'silent', count: 1, unknowable: 1 }]);
  });

  test('responseDelayMs slows submit_sm_resp down', async () => {
    const s = await sim({ behaviour: { responseDelayMs: 250 } });
    const { session } = await bound(s, 'transmitter');
    const t0 = Date.now();
    expect((await submit(session, { destination_addr: '5', short_message: 'slow' })).command_status).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });

  test('rejectDestinations answers ESME_RINVDSTADR', async () => {
    const s = await sim({ behaviour: { rejectDestinations: ['999'] } });
    const { session } = await bound(s, 'transmitter');
    expect((await submit(session, { destination_addr: '999', short_message: 'r' })).command_status).toBe(
      0x0b,
    );
    expect((await submit(session, { destination_addr: '998', short_message: 'r' })).command_status).toBe(0);
    expect(s.stats()).toMatchObject({ rejected: 1, uniqueMessages: 1 });
  });

  test('setBehaviour refuses unknown keys and bad values and changes nothing', () => {
    return sim().then((s) => {
      expect(() => s.setBehaviour({ nope: 1 } as never)).toThrow(/unknown behaviour key/);
      expect(() => s.setBehaviour({ receiptMix: { DELIVERED: 1 } as never })).toThrow(/unknown stat/);
      expect(() => s.setBehaviour({ dropEvery: -1 })).toThrow(RangeError);
      expect(s.behaviour().dropEvery).toBe(0);
    });
  });
});

describe('delivery receipts', () => {
  const RECEIPT =
    /^id:(\w+) sub:001 dlvrd:(\d{3}) submit date:\d{10} done date:\d{10} stat:([A-Z]{7}) err:\d{3} text:(.*)$/;

  test('standard receipt with TLVs on a transceiver, only when registered_delivery asks for it', async () => {
    const s = await sim();
    const c = await bound(s, 'transceiver');
    const r = await submit(c.session, {
      destination_addr: '3620',
      short_message: 'Hello receipt',
      registered_delivery: 1,
    });
    await submit(c.session, {
      destination_addr: '3620',
      short_message: 'no receipt wanted',
      registered_delivery: 0,
    });
    await until(() => c.delivers.length === 1);
    const d = c.delivers[0]!;
    expect(d['esm_class']).toBe(0x04);
    expect(d['receipted_message_id']).toBe(r['message_id']);
    expect(d['message_state']).toBe(2);
    expect(d['source_addr']).toBe('3620');
    expect(d['destination_addr']).toBe('1000');
    const m = RECEIPT.exec(textOf(d));
    expect(m?.slice(1)).toEqual([r['message_id'], '001', 'DELIVRD', 'Hello receipt']);
    await until(() => s.stats().receiptsSent === 1);
    await sleep(100);
    expect(c.delivers).toHaveLength(1);
    expect(s.stats().receiptsPending).toBe(0);
  });

  test('receiptDelayMs, receiptMix and a decimal id in the text against a hex id in the response', async () => {
    const s = await sim({
      behaviour: { receiptDelayMs: 300, receiptMix: { UNDELIV: 1 }, receiptIdFormat: 'decimal' },
    });
    const c = await bound(s, 'transceiver');
    const t0 = Date.now();
    const r = await submit(c.session, {
      destination_addr: '1',
      short_message: 'late',
      registered_delivery: 1,
    });
    await until(() => c.delivers.length === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    const m = RECEIPT.exec(textOf(c.delivers[0]!));
    expect(m?.[1]).toBe(BigInt(`0x${r['message_id'] as string}`).toString(10));
    expect(m?.[3]).toBe('UNDELIV');
    expect(m?.[2]).toBe('000');
    expect(c.delivers[0]!['message_state']).toBe(5);
    expect(s.messages()[0]?.receiptStat).toBe('UNDELIV');
  });

  test('a mix is honoured roughly; registered_delivery 2 only reports failures', async () => {
    const s = await sim({ behaviour: { receiptMix: { DELIVRD: 0.5, EXPIRED: 0.5 } } });
    const c = await bound(s, 'transceiver');
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        submit(c.session, { destination_addr: String(i), short_message: 'm', registered_delivery: 2 }),
      ),
    );
    const expired = s.messages().filter((m) => m.receiptStat === 'EXPIRED').length;
    expect(expired).toBeGreaterThan(50);
    expect(expired).toBeLessThan(150);
    await until(() => c.delivers.length === expired);
    expect(c.delivers.every((d) => /stat:EXPIRED/.test(textOf(d)))).toBe(true);
  });

  test('receipts wait for a receiver bind of the same system_id and go to it, not to the transmitter', async () => {
    const s = await sim();
    const tx = await bound(s, 'transmitter');
    const r = await submit(tx.session, {
      destination_addr: '1',
      short_message: 'queued',
      registered_delivery: 1,
    });
    await sleep(50);
    expect(s.stats().receiptsPending).toBe(1);
    const rx = await bound(s, 'receiver');
    await until(() => rx.delivers.length === 1);
    expect(rx.delivers[0]!['receipted_message_id']).toBe(r['message_id']);
    expect(tx.delivers).toHaveLength(0);
    await until(() => s.stats().receiptsSent === 1);
  });

  test('a receipt not acknowledged before the receiver disconnects is sent again to the next one', async () => {
    const s = await sim();
    const rx = await bound(s, 'receiver', { autoAck: false });
    const tx = await bound(s, 'transmitter');
    await submit(tx.session, { destination_addr: '1', short_message: 'again', registered_delivery: 1 });
    await until(() => rx.delivers.length === 1);
    rx.session.destroy();
    const rx2 = await bound(s, 'receiver');
    await until(() => rx2.delivers.length === 1);
    await until(() => s.stats().receiptsSent === 1);
  });

  test('receiptBeforeResp: the receipt arrives before the submit_sm_resp', async () => {
    const s = await sim({ behaviour: { receiptBeforeResp: true, receiptDelayMs: 5000 } });
    const c = await bound(s, 'transceiver');
    const order: string[] = [];
    c.session.on('deliver_sm', () => order.push('receipt'));
    await submit(c.session, { destination_addr: '1', short_message: 'early', registered_delivery: 1 }).then(
      () => order.push('resp'),
    );
    expect(order).toEqual(['receipt', 'resp']);
    // Also across two connections (transmitter + receiver): only a response delay can order two
    // sockets for the client, so give the receipt a clear lead.
    s.setBehaviour({ responseDelayMs: 200 });
    const rx = await bound(s, 'receiver');
    const tx = await bound(s, 'transmitter');
    const order2: string[] = [];
    rx.session.on('deliver_sm', () => order2.push('receipt'));
    await submit(tx.session, { destination_addr: '2', short_message: 'early2', registered_delivery: 1 }).then(
      () => order2.push('resp'),
    );
    expect(order2).toEqual(['receipt', 'resp']);
  });
});

describe('MO', () => {
  test('sendMo delivers a 3-part message in the chosen order with a concatenation UDH', async () => {
    const s = await sim();
    const rx = await bound(s, 'receiver');
    const text = 'Mobile originated message, cut into three parts for the test.';
    expect(s.sendMo({ from: '+36201234567', to: '1000', text, parts: 3, order: [3, 1, 2] })).toMatchObject({
      parts: 3,
    });
    await until(() => rx.delivers.length === 3);
    const seen = rx.delivers.map((d) => {
      const sm = d['short_message'] as { udh: Buffer[]; message: string };
      return {
        esm: d['esm_class'],
        iei: sm.udh[0]![0],
        total: sm.udh[0]![3],
        seq: sm.udh[0]![4],
        text: sm.message,
      };
    });
    expect(seen.map((p) => p.seq)).toEqual([3, 1, 2]);
    expect(seen.every((p) => p.esm === 0x40 && p.iei === 0x00 && p.total === 3)).toBe(true);
    expect(
      [...seen]
        .sort((a, b) => a.seq! - b.seq!)
        .map((p) => p.text)
        .join(''),
    ).toBe(text);
    expect(rx.delivers[0]!['source_addr']).toBe('36201234567');
    await until(() => s.stats().moSent === 3);
  });

  test('a UCS2 MO in one part, queued until a transceiver binds', async () => {
    const s = await sim();
    s.sendMo({ from: '36201234567', to: '1000', text: 'Szia 😀' });
    expect(s.stats().moPending).toBe(1);
    const c = await bound(s, 'transceiver');
    await until(() => c.delivers.length === 1);
    expect(c.delivers[0]!['data_coding']).toBe(8);
    expect(c.delivers[0]!['esm_class']).toBe(0);
    expect(textOf(c.delivers[0]!)).toBe('Szia 😀');
  });

  test('bad MO requests are refused', async () => {
    const s = await sim();
    expect(() => s.sendMo({ from: '1', to: '2', text: 'abc', parts: 2, order: [1, 1] })).toThrow(/order/);
    expect(() => s.sendMo({ from: '1', to: '2', text: 'ab', parts: 3 })).toThrow(RangeError);
  });
});

test('TLS (SMPPS) with the fixture certificate', async () => {
  const s = await sim({
    tls: {
      key: fs.readFileSync(`${FIXTURES}smpp-sim-key.pem`, 'utf8'),
      cert: fs.readFileSync(`${FIXTURES}smpp-sim-cert.pem`, 'utf8'),
    },
  });
  expect(s.tls).toBe(true);
  const c = await bound(s, 'transceiver', { tls: true });
  expect((await submit(c.session, { destination_addr: '1', short_message: 'over tls' })).command_status).toBe(
    0,
  );
  expect(s.messages()[0]?.text).toBe('over tls');
});

test('reset clears counters, messages and pending receipts but keeps binds and behaviour', async () => {
  const s = await sim({ behaviour: { receiptDelayMs: 10_000, queueFullEvery: 2 } });
  const c = await bound(s, 'transceiver');
  await submit(c.session, { destination_addr: '1', short_message: 'a', registered_delivery: 1 });
  await submit(c.session, { destination_addr: '1', short_message: 'b' });
  s.reset();
  expect(s.stats()).toMatchObject({
    submitReceived: 0,
    queueFull: 0,
    receiptsPending: 0,
    uniqueMessages: 0,
    binds: 1,
  });
  expect(s.messages()).toEqual([]);
  // The queueFullEvery count restarts too.
  expect((await submit(c.session, { destination_addr: '1', short_message: 'c' })).command_status).toBe(0);
  expect((await submit(c.session, { destination_addr: '1', short_message: 'd' })).command_status).toBe(0x14);
});

test('journalPath: what the SMSC kept survives a restart of the simulator', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smpp-sim-journal-'));
  const journalPath = path.join(dir, 'journal.jsonl');
  try {
    const a = await sim({ journalPath, behaviour: { dropEvery: 3, rejectDestinations: ['0'] } });
    const c = await bound(a, 'transmitter');
    await submit(c.session, { destination_addr: '0', short_message: 'refused' });
    await submit(c.session, { destination_addr: '1', short_message: 'one' });
    void submit(c.session, { destination_addr: '2', short_message: 'two' });
    await c.closed;
    await a.close();
    const b = await sim({ journalPath });
    expect(b.stats()).toMatchObject({
      submitReceived: 3,
      submitAccepted: 1,
      rejected: 1,
      dropped: 1,
      uniqueMessages: 2,
    });
    const c2 = await bound(b, 'transmitter');
    await submit(c2.session, { destination_addr: '2', short_message: 'two' });
    expect(b.counts({ duplicatesOnly: true })).toEqual([
      { destinationAddr: '2', text: 'two', count: 2, unknowable: 1 },
    ]);
    expect(b.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    b.reset();
    expect(fs.statSync(journalPath).size).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('HTTP control', () => {
  test('/_sim/smpp/* on the HTTP simulator port', async () => {
    const s = await sim();
    const h = await startHttpSim({ port: 0, routes: smppControlRoutes(s) });
    https.push(h);
    const c = await bound(s, 'transceiver');
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${h.url}/_sim/smpp${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect(await (await fetch(`${h.url}/_sim/smpp`)).json()).toMatchObject({
      port: s.port,
      systemId: 'smsfleet',
    });
    expect((await post('/behaviour', { rejectDestinations: ['13'] })).status).toBe(200);
    expect((await submit(c.session, { destination_addr: '13', short_message: 'x' })).command_status).toBe(
      0x0b,
    );
    await submit(c.session, { destination_addr: '14', short_message: 'y' });
    expect(await (await fetch(`${h.url}/_sim/smpp/stats`)).json()).toMatchObject({
      rejected: 1,
      submitAccepted: 1,
    });
    const msgs = (await (await fetch(`${h.url}/_sim/smpp/messages?destination=14`)).json()) as unknown[];
    expect(msgs).toEqual([expect.objectContaining({ text: 'y', outcome: 'accepted' })]);
    expect(await (await fetch(`${h.url}/_sim/smpp/counts`)).json()).toHaveLength(1);
    expect(await (await fetch(`${h.url}/_sim/smpp/wholes?text=y`)).json()).toHaveLength(1);
    expect(await (await post('/mo', { from: '5', to: '6', text: 'mo via http' })).json()).toMatchObject({
      parts: 1,
    });
    await until(() => c.delivers.length === 1);
    const bad = await post('/behaviour', { dropEvery: 'often' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'dropEvery must be a number >= 0' });
    expect((await fetch(`${h.url}/_sim/smpp/messages?outcome=lost`)).status).toBe(400);
    expect((await post('/reset', {})).status).toBe(200);
    expect(await (await fetch(`${h.url}/_sim/smpp/stats`)).json()).toMatchObject({ submitReceived: 0 });
    // The HTTP simulator's own routes still work.
    expect((await fetch(`${h.url}/_sim/stats`)).status).toBe(200);
  });

  test('without an SMPP simulator the routes say how to enable it', async () => {
    const h = await startHttpSim({ port: 0, routes: smppControlRoutes(undefined) });
    https.push(h);
    const r = await fetch(`${h.url}/_sim/smpp/stats`);
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: expect.stringContaining('SIM_SMPP_PORT') });
  });
});

test('main.ts starts the SMPP simulator with SIM_SMPP_PORT and serves its control routes', async () => {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main], {
    env: { ...process.env, SIM_HTTP_PORT: '0', SIM_SMPP_PORT: '0', SIM_SMPP_PASSWORD: 'sekret' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const logs: Record<string, unknown>[] = [];
    lines.on('line', (l) => logs.push(JSON.parse(l) as Record<string, unknown>));
    await until(() => logs.some((l) => l['msg'] === 'smsc-sim listening'), 20_000);
    const smppLog = logs.find((l) => l['msg'] === 'smsc-sim smpp listening')!;
    expect(JSON.stringify(logs)).not.toContain('sekret');
    const url = logs.find((l) => l['msg'] === 'smsc-sim listening')!['url'] as string;
    const session = smpp.connect({ host: '127.0.0.1', port: smppLog['port'] });
    clients.push(session);
    session.on('error', () => undefined);
    await new Promise<void>((resolve) => session.once('connect', () => resolve()));
    expect(
      (await call(session, 'bind_transmitter', { system_id: 'smsfleet', password: 'sekret' })).command_status,
    ).toBe(0);
    expect(
      (await submit(session, { destination_addr: '1', short_message: 'from a process' })).command_status,
    ).toBe(0);
    expect(await (await fetch(`${url}/_sim/smpp/stats`)).json()).toMatchObject({
      binds: 1,
      submitAccepted: 1,
    });
  } finally {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
});
