import { randomBytes } from 'node:crypto';
import { Fleet } from '@smsfleet/harness';
import { deadServices, FUZZ_FLEET_CONFIG, fuzzCredentials, readSinks, sinkChanges } from './fleet-fuzz.js';
import type { FuzzCredentials } from './http-cases.js';
import { formatHttpReport, runHttpFuzz, type HttpFuzzReport } from './http-fuzz.js';

export interface FuzzHttpRunOptions {
  count: number;
  concurrency?: number;
  seed?: string;
  /** A running api-gateway to fuzz; without it a fresh fleet is started (built dist/). */
  url?: string;
  /** Credentials of the running fleet (`--url`); unknown ones are random (then nothing gets in). */
  credentials?: Partial<FuzzCredentials>;
  log?: (line: string) => void;
  /** How long to wait after the last request before the sinks are read (default 3 s). */
  settleMs?: number;
}

export interface FuzzHttpRun {
  report: HttpFuzzReport;
  /** Sinks that changed (something was queued, stored or sent): must be empty. */
  changed: string[];
  /** Services that died or stopped being ready: must be empty. */
  dead: string[];
  ok: boolean;
}

async function acceptedMetric(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('smsfleet_messages_accepted_total')) sum += Number(line.split(' ').pop());
  return sum;
}

/**
 * `smsfleet fuzz http`: the HTTP fuzzer against a fresh fleet (or `url`), then the checks: no
 * failure among the answers, nothing queued anywhere, every service alive and ready.
 */
export async function fuzzHttp(opts: FuzzHttpRunOptions): Promise<FuzzHttpRun> {
  const log = opts.log ?? (() => undefined);
  const progress = (r: HttpFuzzReport) =>
    log(`  ${r.requests}/${opts.count} requests, ${r.reqPerSec} req/s, ${r.failures} failures`);
  const settle = () => new Promise((res) => setTimeout(res, opts.settleMs ?? 3000));

  if (opts.url) {
    const url = opts.url.replace(/\/+$/, '');
    const c = opts.credentials ?? {};
    const credentials: FuzzCredentials = {
      apiKey: c.apiKey ?? randomBytes(12).toString('hex'),
      adminName: c.adminName ?? 'admin',
      adminPassword: c.adminPassword ?? randomBytes(12).toString('hex'),
      dlrSecret: c.dlrSecret ?? randomBytes(9).toString('hex'),
      dlrGatewayId: c.dlrGatewayId ?? 1,
    };
    const before = await acceptedMetric(url);
    const report = await runHttpFuzz({
      url,
      count: opts.count,
      concurrency: opts.concurrency,
      seed: opts.seed,
      credentials,
      onProgress: progress,
    });
    await settle();
    const dead: string[] = [];
    let after = before;
    try {
      const r = await fetch(`${url}/readyz`);
      if (!r.ok) dead.push(`api-gateway not ready (${r.status})`);
      after = await acceptedMetric(url);
    } catch (err) {
      dead.push(`api-gateway unreachable: ${(err as Error).message}`);
    }
    const changed = after === before ? [] : [`acceptedMetric ${before} -> ${after}`];
    return { report, changed, dead, ok: report.failures === 0 && changed.length === 0 && dead.length === 0 };
  }

  log('starting a fleet (built dist/ of every service)...');
  const fleet = await new Fleet({ config: { ...FUZZ_FLEET_CONFIG } }).start();
  try {
    const credentials = await fuzzCredentials(fleet);
    const before = await readSinks(fleet);
    log(`fuzzing ${fleet.url('api-gateway')} with ${opts.count} requests`);
    const report = await runHttpFuzz({
      url: fleet.url('api-gateway'),
      count: opts.count,
      concurrency: opts.concurrency,
      seed: opts.seed,
      credentials,
      onProgress: progress,
    });
    await settle();
    const changed = sinkChanges(before, await readSinks(fleet));
    const dead = await deadServices(fleet);
    if (dead.length)
      for (const d of dead) log(`${d}: ${fleet.logTail(d.split(' ')[0] as 'api-gateway', 10)}`);
    return { report, changed, dead, ok: report.failures === 0 && changed.length === 0 && dead.length === 0 };
  } finally {
    await fleet.stop();
  }
}

/** The run's figures and verdict as text lines. */
export function formatHttpRun(run: FuzzHttpRun): string[] {
  return [
    ...formatHttpReport(run.report),
    `queued/stored/sent: ${run.changed.length ? run.changed.join(', ') : 'nothing (every sink unchanged)'}`,
    `services: ${run.dead.length ? run.dead.join(', ') : 'all alive and ready'}`,
    run.ok ? 'fuzz http: OK' : 'fuzz http: FAILED',
  ];
}
