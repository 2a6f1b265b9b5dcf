import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { ConfigRepo } from '@smsfleet/db';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';
import { cpuMs, pidsOf } from './cpu.js';
import { pidFiles } from './fleet.js';

type Out = (line: string) => void;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * `smsfleet bench`: sends N messages through the running fleet to the simulator and prints
 * accepted/s, end-to-end messages/s (until the last CDR is written), latency percentiles and CPU
 * milliseconds per message summed over every fleet process and Redis, MariaDB and NATS.
 */
export async function benchCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      count: { type: 'string', default: '10000' },
      mode: { type: 'string', default: 'single' },
      concurrency: { type: 'string' },
      batch: { type: 'string' },
      key: { type: 'string' },
      // single/bulk: authenticate as this user (authid + authpwd, entry sendsms) instead of authkey.
      user: { type: 'string' },
      password: { type: 'string' },
      text: { type: 'string', default: 'smsfleet benchmark message' },
    },
    strict: true,
  });
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new CliError('--count must be a positive integer');
  const mode = values.mode;
  if (mode !== 'single' && mode !== 'bulk' && mode !== 'batch')
    throw new CliError('--mode must be single, bulk or batch');
  // batch mode: recipients per POST /v1/batches (up to 100,000); bulk: per Mizu request.
  const maxBatch = mode === 'batch' ? 100_000 : 1000;
  const batch = Number(values.batch ?? (mode === 'batch' ? 10_000 : 500));
  if (!Number.isInteger(batch) || batch < 1 || batch > maxBatch)
    throw new CliError(`--batch must be 1..${maxBatch}`);
  if (values.user !== undefined && mode === 'batch')
    throw new CliError('--user/--password are for the single and bulk modes (batch uses --key)');
  const concurrency = Number(values.concurrency ?? (mode === 'single' ? 64 : 4));
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new CliError('--concurrency must be a positive integer');

  const db = await ctx.database();
  const key = await new ConfigRepo(db).get('apiv2key');
  if (!key) throw new CliError('apiv2key is not set; start the fleet with `smsfleet up`');
  const fleet = pidFiles();
  if (fleet.length === 0)
    throw new CliError('the fleet is not running: start it with `./smsfleet up --detach`', 1);
  const infra = [...pidsOf('redis-server'), ...pidsOf('mariadbd'), ...pidsOf('nats-server')];
  const pids = [...fleet.map((p) => p.pid), ...infra];

  const startRow = await db('cdr').max({ id: 'id' }).first();
  const startId = Number(startRow?.id ?? 0);
  const cpuBefore = pids.map(cpuMs);
  const clientCpuBefore = process.cpuUsage();

  const pool = new Pool(ctx.apiUrl, { connections: concurrency, pipelining: 1 });
  const acceptLatencies: number[] = [];
  let errors = 0;
  let firstError = '';
  let next = 0;
  const requests = mode === 'single' ? count : Math.ceil(count / batch);
  const t0 = performance.now();
  const wallStart = Date.now();
  const batchIds: string[] = [];
  const bearer = mode === 'batch' ? (values.key ?? ctx.env.SMSFLEET_API_KEY ?? key) : '';
  const worker = async () => {
    while (next < requests) {
      const i = next++;
      if (mode === 'batch') {
        const size = Math.min(batch, count - i * batch);
        const started = performance.now();
        const r = await postBatch(pool, bearer, i * batch, size, values.text);
        if (r.id) batchIds.push(r.id);
        else {
          errors += size;
          firstError ||= r.error ?? 'unknown error';
        }
        acceptLatencies.push(performance.now() - started);
        continue;
      }
      const size = mode === 'single' ? 1 : Math.min(batch, count - i * batch);
      const numbers: string[] = [];
      for (let k = 0; k < size; k++)
        numbers.push(`3670${String((mode === 'single' ? i : i * batch + k) % 10_000_000).padStart(7, '0')}`);
      const body = new URLSearchParams({
        ...(values.user !== undefined
          ? { apientry: 'sendsms', authid: values.user, authpwd: values.password ?? '' }
          : { apientry: 'asendsms', authkey: key }),
        anum: '1000',
        bnum: numbers.join(','),
        message: values.text,
      }).toString();
      const started = performance.now();
      try {
        const res =
          mode === 'single'
            ? await pool.request({ path: `/mvapireq/?${body}`, method: 'GET' })
            : await pool.request({
                path: '/mvapireq/',
                method: 'POST',
                body,
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
              });
        const text = await res.body.text();
        if (!text.startsWith('OK')) {
          errors += size;
          firstError ||= text;
        }
      } catch (err) {
        errors += size;
        firstError ||= (err as Error).message;
      }
      acceptLatencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, worker));
  const acceptSeconds = (performance.now() - t0) / 1000;
  // batch mode: until every batch's chunks are in the queues (the 202 comes before that).
  const queuedSeconds =
    mode === 'batch' ? (await waitQueued(pool, bearer, batchIds), (performance.now() - t0) / 1000) : NaN;
  await pool.close();
  const expected = count - errors;

  // End to end: until the last CDR of this run is written.
  let written = 0;
  const deadline = Date.now() + 15 * 60_000;
  while (Date.now() < deadline) {
    const r = await db('cdr').where('id', '>', startId).count({ n: '*' }).first();
    written = Number(r?.n ?? 0);
    if (written >= expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const lastRow = await db('cdr').where('id', '>', startId).max({ last: 'created_at' }).first();
  const e2eSeconds = lastRow?.last ? (new Date(lastRow.last as Date).getTime() - wallStart) / 1000 : NaN;
  const cpuAfter = pids.map(cpuMs);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const lat = await db('cdr')
    .where('id', '>', startId)
    .select(db.raw('TIMESTAMPDIFF(MICROSECOND, accepted_at, created_at) / 1000 AS ms'));
  const e2e = lat.map((r: { ms: string | number }) => Number(r.ms)).sort((a, b) => a - b);
  acceptLatencies.sort((a, b) => a - b);

  const perProcess = new Map<string, number>();
  pids.forEach((pid, i) => {
    const name =
      fleet.find((f) => f.pid === pid)?.name ??
      (infra.includes(pid)
        ? pidsOf('redis-server').includes(pid)
          ? 'redis'
          : pidsOf('mariadbd').includes(pid)
            ? 'mariadb'
            : 'nats'
        : String(pid));
    perProcess.set(name, (perProcess.get(name) ?? 0) + (cpuAfter[i]! - cpuBefore[i]!));
  });
  const totalCpu = [...perProcess.values()].reduce((a, b) => a + b, 0);

  out(
    `mode ${mode}, ${count} messages${mode === 'bulk' ? ` in requests of ${batch}` : mode === 'batch' ? ` in /v1 batches of ${batch}` : ''}, concurrency ${concurrency}`,
  );
  out(
    `accepted:          ${expected} in ${acceptSeconds.toFixed(2)} s = ${Math.round(expected / acceptSeconds)} msg/s (errors ${errors}${firstError ? `: ${firstError.slice(0, 120)}` : ''})`,
  );
  if (mode === 'batch')
    out(
      `queued:            ${expected} in ${queuedSeconds.toFixed(2)} s = ${Math.round(expected / queuedSeconds)} msg/s (every chunk of ${batchIds.length} batches in the queues)`,
    );
  out(
    `accept latency ms: p50 ${percentile(acceptLatencies, 50).toFixed(1)}  p95 ${percentile(acceptLatencies, 95).toFixed(1)}  p99 ${percentile(acceptLatencies, 99).toFixed(1)}  (per request)`,
  );
  out(
    `end to end:        ${written} CDRs in ${e2eSeconds.toFixed(2)} s = ${Math.round(written / e2eSeconds)} msg/s${written < expected ? `  (MISSING ${expected - written})` : ''}`,
  );
  out(
    `e2e latency ms:    p50 ${percentile(e2e, 50).toFixed(1)}  p95 ${percentile(e2e, 95).toFixed(1)}  p99 ${percentile(e2e, 99).toFixed(1)}  (API accept -> CDR row)`,
  );
  out(
    `CPU ms/message:    ${(totalCpu / Math.max(1, written)).toFixed(3)} over fleet + Redis + MariaDB + NATS (${Math.round(totalCpu)} ms in all)`,
  );
  out(`  ${[...perProcess].map(([n, ms]) => `${n} ${(ms / Math.max(1, written)).toFixed(3)}`).join(', ')}`);
  out(
    `  load generator (not counted): ${((clientCpu.user + clientCpu.system) / 1000 / Math.max(1, count)).toFixed(3)} ms/message`,
  );
  if (written < expected) throw new CliError(`only ${written} of ${expected} messages reached a CDR`, 1);
}

/** POST /v1/batches with `size` recipients numbered from `first`; returns the batch id or the error. */
async function postBatch(
  pool: Pool,
  bearer: string,
  first: number,
  size: number,
  text: string,
): Promise<{ id?: string; error?: string }> {
  const recipients: { to: string }[] = [];
  for (let k = 0; k < size; k++)
    recipients.push({ to: `3670${String((first + k) % 10_000_000).padStart(7, '0')}` });
  try {
    const res = await pool.request({
      path: '/v1/batches',
      method: 'POST',
      body: JSON.stringify({ recipients, text, from: '1000' }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    });
    const body = await res.body.text();
    if (res.statusCode !== 202) return { error: `HTTP ${res.statusCode} ${body.slice(0, 200)}` };
    return { id: (JSON.parse(body) as { id: string }).id };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Polls until every batch has all its chunks queued (state no longer `queuing`). */
async function waitQueued(pool: Pool, bearer: string, ids: string[]): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  const pending = new Set(ids);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const res = await pool.request({
        path: `/v1/batches/${id}`,
        method: 'GET',
        headers: { authorization: `Bearer ${bearer}` },
      });
      const b = JSON.parse(await res.body.text()) as { state?: string };
      if (b.state !== 'queuing') pending.delete(id);
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 20));
  }
}
