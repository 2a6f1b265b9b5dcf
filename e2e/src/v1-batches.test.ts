import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UsersRepo } from '@smsfleet/db';
import { runCli } from './cli.js';
import { Fleet, waitFor } from './fleet.js';

interface BatchView {
  id: string;
  state: string;
  total: number;
  queued: number;
  submitted: number;
  delivered: number;
  failed: number;
  unknown: number;
  completed: number;
  cancelled: number;
}

const TOTAL = 10_000;

describe('/v1 batches through the whole fleet', () => {
  const fleet = new Fleet({ config: { smsprice: '0.01' } });
  let token = '';
  let userId = 0;
  let cliEnv: Record<string, string> = {};

  beforeAll(async () => {
    await fleet.start();
    userId = (
      await new UsersRepo(fleet.db).create({ name: 'bulk', password: 'pw', type: 'user', credit: '1000' })
    ).id;
    cliEnv = { ...fleet.infraEnv, API_URL: fleet.url('api-gateway') };
    const created = await runCli(['apikey', 'create', '--user', 'bulk'], cliEnv);
    expect(created.code, created.stderr).toBe(0);
    token = created.stdout.trim();
  }, 120_000);
  afterAll(() => fleet.stop(), 60_000);

  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${fleet.url('api-gateway')}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });

  test(`a ${TOTAL}-recipient batch reaches ${TOTAL} CDRs; a retry with the same Idempotency-Key sends nothing more`, async () => {
    const recipients = Array.from({ length: TOTAL }, (_, i) => ({ to: `3630${String(i).padStart(7, '0')}` }));
    const body = JSON.stringify({ recipients, text: 'batch e2e', from: '1000' });
    const headers = { 'content-type': 'application/json', 'idempotency-key': `e2e-${randomUUID()}` };
    const t0 = Date.now();
    const res = await api('/v1/batches', { method: 'POST', body, headers });
    const acceptMs = Date.now() - t0;
    expect(res.status).toBe(202);
    const batch = (await res.json()) as BatchView;
    expect(batch).toMatchObject({ total: TOTAL, state: 'queuing' });
    expect(res.headers.get('location')).toBe(`/v1/batches/${batch.id}`);
    await waitFor(
      'every chunk queued',
      async () => ((await (await api(`/v1/batches/${batch.id}`)).json()) as BatchView).state !== 'queuing',
      60_000,
      20,
    );
    const queuedMs = Date.now() - t0;

    // The same request again: the first answer, marked as a replay, and no second batch.
    const retry = await api('/v1/batches', { method: 'POST', body, headers });
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(((await retry.json()) as BatchView).id).toBe(batch.id);
    // The same key with another body is refused.
    const other = await api('/v1/batches', {
      method: 'POST',
      body: JSON.stringify({ recipients: [{ to: '36301111111' }], text: 'other' }),
      headers,
    });
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toContain('application/problem+json');

    const done = await waitFor(
      'batch progress to reach the total',
      async () => {
        const b = (await (await api(`/v1/batches/${batch.id}`)).json()) as BatchView;
        return b.completed >= TOTAL ? b : undefined;
      },
      // A few seconds on a quiet machine; the bound allows for a loaded CI host.
      240_000,
      250,
    );
    expect(done).toMatchObject({ total: TOTAL, completed: TOTAL, unknown: TOTAL, failed: 0, queued: 0 });
    expect(done.state).toBe('queued');

    await waitFor('10,000 CDRs', async () => (await fleet.cdrCount()) >= TOTAL, 120_000);
    const cdrs = (await fleet.db('cdr').where({ user_id: userId }).count({ n: '*' }).first()) as {
      n: number;
    };
    expect(Number(cdrs.n)).toBe(TOTAL);
    const stats = await fleet.simStats();
    expect(stats.received).toBe(TOTAL);
    expect(stats.duplicates).toBe(0);

    // Still exactly one send per recipient after the retry had time to do harm.
    await new Promise((r) => setTimeout(r, 500));
    expect((await fleet.simStats()).received).toBe(TOTAL);
    expect(await fleet.cdrCount()).toBe(TOTAL);
    console.log(
      `v1 batch of ${TOTAL}: 202 after ${acceptMs} ms (${Math.round(TOTAL / (acceptMs / 1000))} accepted/s), all chunks queued after ${queuedMs} ms (${Math.round(TOTAL / (queuedMs / 1000))} msg/s)`,
    );
  }, 420_000);

  test('a message has a status history; bad input is a problem document and queues nothing', async () => {
    const cdrsBefore = await fleet.cdrCount();
    const simBefore = (await fleet.simStats()).received;

    const bad = await api('/v1/batches', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        recipients: [{ to: '36301112222' }, { to: 'not-a-number' }, { to: '36301113333' }],
        text: 'x',
      }),
    });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await bad.json()) as { type: string; status: number; errors: { pointer: string }[] };
    expect(problem.status).toBe(422);
    expect(problem.errors).toEqual([
      { pointer: '/recipients/1/to', detail: expect.stringContaining('not-a-number') },
    ]);

    const csvBad = await api('/v1/batches?text=hi', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'to\n36301112222\nabc\n',
    });
    expect(csvBad.status).toBe(422);
    expect(((await csvBad.json()) as { errors: { pointer: string }[] }).errors[0]!.pointer).toBe(
      '/lines/3/to',
    );

    const noAuth = await fetch(`${fleet.url('api-gateway')}/v1/messages`, { method: 'POST' });
    expect(noAuth.status).toBe(401);

    const sent = await api('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: '36301234567', text: 'one', from: '1000' }),
    });
    expect(sent.status).toBe(202);
    const { messages } = (await sent.json()) as { messages: { smsid: string }[] };
    const smsid = messages[0]!.smsid;
    const st = await waitFor('final status', async () => {
      const r = await api(`/v1/messages/${smsid}`);
      const s = (await r.json()) as { final: boolean; state: string; history: { state: string }[] };
      return s.final ? s : undefined;
    });
    expect(st.state).toBe('unknown');
    expect(st.history.map((h) => h.state)).toEqual(['accepted', 'submitted', 'unknown']);
    expect((await api(`/v1/messages/${randomUUID()}`)).status).toBe(404);

    await waitFor('its CDR', async () => (await fleet.db('cdr').where({ smsid }).first()) !== undefined);
    expect(await fleet.simMessages({ smsid })).toHaveLength(1);
    // Only that one message was sent: the refused requests queued nothing.
    expect(await fleet.cdrCount()).toBe(cdrsBefore + 1);
    expect((await fleet.simStats()).received).toBe(simBefore + 1);

    const doc = (await (await fetch(`${fleet.url('api-gateway')}/v1/openapi.json`)).json()) as {
      paths: object;
    };
    expect(Object.keys(doc.paths)).toContain('/v1/batches/{id}/cancel');
  });

  test('cancel stops a scheduled batch: each message ends failed/cancelled with one CDR, none is sent', async () => {
    const cdrsBefore = await fleet.cdrCount();
    const simBefore = (await fleet.simStats()).received;
    const n = 600;
    const at = new Date(Date.now() + 3600_000).toISOString();
    const res = await api('/v1/batches', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        recipients: Array.from({ length: n }, (_, i) => ({
          to: `3631${String(i).padStart(7, '0')}`,
          text: `hi ${i % 3}`,
        })),
        from: '1000',
        scheduleAt: at,
      }),
    });
    expect(res.status).toBe(202);
    const b = (await res.json()) as BatchView & { scheduledAt: string };
    expect(b.scheduledAt).toBe(at);
    await waitFor(
      'queued',
      async () => ((await (await api(`/v1/batches/${b.id}`)).json()) as BatchView).state === 'queued',
    );
    const c = await api(`/v1/batches/${b.id}/cancel`, { method: 'POST' });
    expect(c.status).toBe(200);
    expect(((await c.json()) as BatchView).state).toBe('cancelled');
    const done = await waitFor('cancelled messages to be final', async () => {
      const v = (await (await api(`/v1/batches/${b.id}`)).json()) as BatchView;
      return v.completed >= n ? v : undefined;
    });
    expect(done).toMatchObject({ completed: n, cancelled: n, failed: n, submitted: 0 });
    await waitFor('their CDRs', async () => (await fleet.cdrCount()) >= cdrsBefore + n);
    const failed = (await fleet.db('cdr').where({ state: 'failed' }).count({ n: '*' }).first()) as {
      n: number;
    };
    expect(Number(failed.n)).toBe(n);
    expect((await fleet.simStats()).received).toBe(simBefore);
    // Cancelling again is harmless.
    expect((await api(`/v1/batches/${b.id}/cancel`, { method: 'POST' })).status).toBe(200);
    // Another user cannot see the batch.
    expect((await api(`/v1/batches/${randomUUID()}`)).status).toBe(404);
  });

  test('./smsfleet send --file sends a CSV batch and follows it to the end; revoked keys stop working', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v1-cli-'));
    const file = path.join(dir, 'recipients.csv');
    fs.writeFileSync(
      file,
      `to,text\n${Array.from({ length: 25 }, (_, i) => `3632${String(i).padStart(7, '0')},"Hi, #${i}"`).join('\n')}\n`,
    );
    const r = await runCli(['send', '--file', file, '--key', token], cliEnv, 60_000);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/batch \S+: 25 recipients/);
    expect(r.stdout).toMatch(/25\/25 done/);

    const list = await runCli(['apikey', 'list'], cliEnv);
    const id = /^(\d+)\tbulk\t/m.exec(list.stdout)?.[1];
    expect(id).toBeDefined();
    expect((await runCli(['apikey', 'revoke', id!], cliEnv)).code).toBe(0);
    await waitFor('revoked key refused', async () => (await api('/v1/batches/x')).status === 401, 10_000);
  });
});
