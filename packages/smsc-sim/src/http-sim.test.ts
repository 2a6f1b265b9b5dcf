import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startHttpSim, type HttpSim, type SimMessage, type SimStats } from './index.js';

let sim: HttpSim;

beforeEach(async () => {
  sim = await startHttpSim({ port: 0 });
});

afterEach(async () => {
  await sim.close();
});

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(sim.url + path);
  const text = await res.text();
  return {
    status: res.status,
    body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}

async function post(
  path: string,
  body: string,
  contentType: string,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(sim.url + path, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: res.status, body: await res.json() };
}

function sendQuery(p: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return get(`/send?${new URLSearchParams(p).toString()}`);
}

describe('send endpoint', () => {
  test('GET with query answers ok with a counting message id and stores the message', async () => {
    const r1 = await sendQuery({ to: '+4911', from: 'ACME', text: 'hello wörld', id: 'a1' });
    const r2 = await sendQuery({ to: '+4912', from: 'ACME', text: 'second', id: 'a2' });
    expect(r1).toEqual({ status: 200, body: { status: 'ok', messageId: 'sim-1' } });
    expect(r2).toEqual({ status: 200, body: { status: 'ok', messageId: 'sim-2' } });
    const [m] = sim.messages({ smsid: 'a1' });
    expect(m).toMatchObject({
      to: '+4911',
      from: 'ACME',
      text: 'hello wörld',
      smsid: 'a1',
      messageId: 'sim-1',
    });
    expect(m?.receivedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(sim.stats()).toMatchObject({ received: 2, unique: 2, duplicates: 0, failed: 0, rejected: 0 });
  });

  test('POST form-urlencoded and JSON bodies', async () => {
    const form = await post(
      '/send',
      'to=111&from=S&text=form+body%21&id=f1',
      'application/x-www-form-urlencoded',
    );
    const json = await post(
      '/send',
      JSON.stringify({ to: 222, from: 'S', text: 'json body', id: 'j1' }),
      'application/json',
    );
    expect(form.status).toBe(200);
    expect(json.status).toBe(200);
    expect(sim.messages().map((m) => [m.to, m.text, m.smsid])).toEqual([
      ['111', 'form body!', 'f1'],
      ['222', 'json body', 'j1'],
    ]);
  });

  test('missing to or text is a 400', async () => {
    expect(await sendQuery({ text: 'x' })).toEqual({
      status: 400,
      body: { status: 'error', error: 'missing to' },
    });
    expect(await sendQuery({ to: '1' })).toEqual({
      status: 400,
      body: { status: 'error', error: 'missing text' },
    });
    expect((await post('/send', '{not json', 'application/json')).status).toBe(400);
    expect(sim.stats()).toMatchObject({ received: 3, rejected: 3, unique: 0 });
  });

  test('a smsid received twice counts as a duplicate', async () => {
    await sendQuery({ to: '1', text: 't', id: 'dup' });
    await sendQuery({ to: '1', text: 't', id: 'dup' });
    await sendQuery({ to: '1', text: 't', id: 'dup' });
    await sendQuery({ to: '2', text: 't', id: 'once' });
    await sendQuery({ to: '3', text: 'no id' });
    expect(sim.stats()).toMatchObject({ received: 5, unique: 3, duplicates: 2 });
    expect(sim.messages({ smsid: 'dup' })).toHaveLength(3);
  });
});

describe('behaviour', () => {
  test('failFirst fails the first N sends with 503, then accepts', async () => {
    sim.setBehaviour({ failFirst: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await sendQuery({ to: '1', text: 't', id: 'x' })).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(sim.stats()).toMatchObject({ received: 3, failed: 2, unique: 1, duplicates: 0 });
    const r = await startHttpSim({ behaviour: { failFirst: 1 } });
    try {
      const res = await fetch(`${r.url}/send?to=1&text=t`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'error', error: 'simulated temporary failure' });
    } finally {
      await r.close();
    }
  });

  test('failNumbers rejects those numbers with 400', async () => {
    sim.setBehaviour({ failNumbers: ['666'] });
    expect(await sendQuery({ to: '666', text: 't' })).toEqual({
      status: 400,
      body: { status: 'error', error: 'simulated rejection' },
    });
    expect((await sendQuery({ to: '667', text: 't' })).status).toBe(200);
    expect(sim.stats()).toMatchObject({ rejected: 1, unique: 1 });
  });

  test('failRate 1 and rejectRate 1', async () => {
    sim.setBehaviour({ failRate: 1 });
    expect((await sendQuery({ to: '1', text: 't' })).status).toBe(503);
    sim.setBehaviour({ failRate: 0, rejectRate: 1 });
    expect((await sendQuery({ to: '1', text: 't' })).status).toBe(400);
    sim.setBehaviour({ rejectRate: 0 });
    expect((await sendQuery({ to: '1', text: 't' })).status).toBe(200);
    expect(sim.stats()).toMatchObject({ received: 3, failed: 1, rejected: 1, unique: 1 });
  });

  test('latencyMs delays the answer', async () => {
    sim.setBehaviour({ latencyMs: 150 });
    const t0 = performance.now();
    expect((await sendQuery({ to: '1', text: 't' })).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  test('down destroys the socket without an answer; control endpoints keep working', async () => {
    sim.setBehaviour({ down: true });
    await expect(fetch(`${sim.url}/send?to=1&text=t`)).rejects.toThrow();
    expect((await get('/healthz')).status).toBe(200);
    sim.setBehaviour({ down: false });
    expect((await sendQuery({ to: '1', text: 't' })).status).toBe(200);
    expect(sim.stats()).toMatchObject({ received: 2, unique: 1, dropped: 1 });
  });

  test('invalid behaviour values are refused', () => {
    expect(() => sim.setBehaviour({ failRate: 2 })).toThrow(RangeError);
    expect(() => sim.setBehaviour({ down: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
});

describe('control endpoints', () => {
  test('healthz, stats, messages with filters and limit, reset, behaviour', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok' });
    for (let i = 0; i < 5; i++) await sendQuery({ to: i % 2 ? 'odd' : 'even', text: `m${i}`, id: `s${i}` });
    await sendQuery({ to: 'odd', text: 'again', id: 's1' });

    const stats = (await get('/_sim/stats')).body as SimStats;
    expect(stats).toMatchObject({ received: 6, unique: 5, duplicates: 1, failed: 0, rejected: 0 });

    const bySmsid = (await get('/_sim/messages?smsid=s1')).body as SimMessage[];
    expect(bySmsid.map((m) => m.text)).toEqual(['m1', 'again']);
    const byTo = (await get('/_sim/messages?to=even&limit=2')).body as SimMessage[];
    expect(byTo.map((m) => m.text)).toEqual(['m0', 'm2']);
    expect(((await get('/_sim/messages')).body as SimMessage[]).length).toBe(6);

    const b = await post(
      '/_sim/behaviour',
      JSON.stringify({ failFirst: 1, failNumbers: ['9'] }),
      'application/json',
    );
    expect(b).toMatchObject({
      status: 200,
      body: { failFirst: 1, failNumbers: ['9'], failRate: 0, down: false },
    });
    expect((await sendQuery({ to: '1', text: 't' })).status).toBe(503);
    expect((await post('/_sim/behaviour', '{"failRate":-1}', 'application/json')).status).toBe(400);

    expect((await post('/_sim/reset', '', 'text/plain')).status).toBe(200);
    expect((await get('/_sim/stats')).body).toMatchObject({
      received: 0,
      unique: 0,
      duplicates: 0,
      failed: 0,
    });
    expect((await get('/_sim/messages')).body).toEqual([]);
    expect((await get('/nope')).status).toBe(404);
  });

  test('close is idempotent and ends keep-alive connections', async () => {
    await sendQuery({ to: '1', text: 't' });
    await Promise.all([sim.close(), sim.close()]);
    await expect(fetch(`${sim.url}/healthz`)).rejects.toThrow();
  });
});

test('main.ts runs as a process, logs its url and exits cleanly on SIGTERM', async () => {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, SIM_HTTP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve) => lines.once('line', resolve));
  const logLine = JSON.parse(first) as { level: string; msg: string; url: string };
  expect(logLine).toMatchObject({ level: 'info', msg: 'smsc-sim listening' });
  const res = await fetch(`${logLine.url}/send?to=1&text=t&id=p1`);
  expect(res.status).toBe(200);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});

describe('connection drops and rate limit', () => {
  test('dropEvery keeps every Nth message and destroys its connection without an answer', async () => {
    sim.setBehaviour({ dropEvery: 3 });
    const outcomes: string[] = [];
    for (let i = 1; i <= 6; i++) {
      outcomes.push(
        await sendQuery({ to: `+49${i}`, text: 'x', id: `d${i}` }).then(
          (r) => String(r.status),
          () => 'dropped',
        ),
      );
    }
    expect(outcomes).toEqual(['200', '200', 'dropped', '200', '200', 'dropped']);
    // The dropped ones arrived: resending one counts as a duplicate at the provider.
    expect(sim.messages({ smsid: 'd3' })).toHaveLength(1);
    await sendQuery({ to: '+493', text: 'x', id: 'd3' });
    expect(sim.stats()).toMatchObject({ dropped: 2, unique: 6, duplicates: 1 });
  });

  test('throttlePerSecond answers 429 with Retry-After over the rate', async () => {
    sim.setBehaviour({ throttlePerSecond: 5, retryAfterS: 2 });
    // Start right after a second boundary so the burst falls into one second.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const res = await Promise.all(
      Array.from({ length: 12 }, (_, i) => fetch(`${sim.url}/send?to=1&text=t&id=t${i}`)),
    );
    const codes = res.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 200)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(7);
    expect(res.find((r) => r.status === 429)?.headers.get('retry-after')).toBe('2');
    expect(sim.stats()).toMatchObject({ accepted: 5, throttled: 7 });
  });
});
