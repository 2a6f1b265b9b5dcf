import { Fleet, freePort, waitFor } from '@smsfleet/harness';
import { deadServices } from './fleet-fuzz.js';

export interface FuzzSmppRunOptions {
  /** Malformed PDUs the simulator writes to the transport's binds. */
  count: number;
  /** Messages sent through the fleet while the fuzzing runs (default 1000). */
  messages?: number;
  /** One malformed PDU every this many ms (default 25). */
  everyMs?: number;
  log?: (line: string) => void;
  /** Give up waiting for the final states after this long (default 5 min). */
  settleTimeoutMs?: number;
}

export interface FuzzSmppRun {
  fuzzSent: number;
  fuzzByKind: Record<string, number>;
  /** Binds the transport made (the first ones included): each re-bind is a re-established session. */
  binds: number;
  messages: number;
  /** Messages with a CDR (a final state). */
  finals: number;
  /** Messages without a CDR when the wait ended. */
  lost: number;
  /** Messages with more than one CDR. */
  duplicateCdrs: number;
  /** CDR states of the messages sent. */
  states: Record<string, number>;
  /**
   * CDRs of messages nobody sent, by direction/state: a stalled frame (a length whose body never
   * came) swallows the PDUs after it and may decode as a deliver_sm, i.e. an incoming SMS.
   */
  otherCdrs: Record<string, number>;
  /** Messages the SMSC kept more than once (a resend after a dropped session; not an error). */
  providerDuplicates: number;
  dead: string[];
  durationMs: number;
  ok: boolean;
}

interface SimStats {
  binds: number;
  bindsAccepted: number;
  fuzzSent: number;
  fuzzByKind: Record<string, number>;
  duplicates: number;
  submitAccepted: number;
}

/**
 * `smsfleet fuzz smpp`: a fleet whose only gateway is the simulator's SMPP server (two
 * transceiver binds); while messages flow, the simulator writes `count` malformed PDUs to the
 * binds. The transport must drop a broken session and bind again, and every message must still
 * end with exactly one final state and one CDR while every service stays up.
 */
export async function fuzzSmpp(opts: FuzzSmppRunOptions): Promise<FuzzSmppRun> {
  const log = opts.log ?? (() => undefined);
  const total = opts.messages ?? 1000;
  const everyMs = opts.everyMs ?? 25;
  const smppPort = await freePort();
  log('starting a fleet with an SMPP gateway (built dist/ of every service)...');
  const fleet = new Fleet({
    env: { 'smsc-sim': { SIM_SMPP_PORT: String(smppPort) } },
    config: {
      smsrouting: '0',
      // Short deadlines: a stalled link (a length whose body never comes) is noticed in 2 s.
      smsurl: `SMPP;server=127.0.0.1;serverport=${smppPort};username=smsfleet;password=smsfleet;bind=transceiver;binds=2;window=10;timeout=2;responsetimeout=2;enquirelink=1`,
    },
  });
  try {
    await fleet.start();
  } catch (err) {
    await fleet.stop().catch(() => undefined);
    throw err;
  }
  const started = Date.now();
  const sim = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const r = await fetch(`${fleet.url('smsc-sim')}/_sim/smpp${path}`, init);
    if (!r.ok) throw new Error(`simulator ${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  try {
    await waitFor('the dispatcher bound', async () => (await sim<SimStats>('/stats')).binds >= 1, 60_000);
    await sim('/behaviour', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fuzzEveryMs: everyMs, fuzzLimit: opts.count }),
    });
    log(`fuzzing: ${opts.count} malformed PDUs, one every ${everyMs} ms, ${total} messages meanwhile`);

    // Messages go out in slices spread over the fuzzing time.
    const slices = Math.max(1, Math.min(50, Math.ceil(total / 20)));
    const pause = Math.max(10, Math.floor((opts.count * everyMs) / slices));
    const accepted: string[] = [];
    let sent = 0;
    for (let i = 0; i < slices && sent < total; i++) {
      const n = Math.min(Math.ceil(total / slices), total - sent);
      const numbers = Array.from({ length: n }, (_, k) => `3670${String(sent + k).padStart(7, '0')}`);
      const res = await fetch(`${fleet.url('api-gateway')}/mvapireq/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          apientry: 'asendsms',
          authkey: fleet.apiKey,
          bnum: numbers.join(','),
          message: `smpp fuzz ${i}`,
        }).toString(),
      });
      const body = await res.text();
      if (!body.startsWith('OK ')) throw new Error(`send refused: ${body.slice(0, 200)}`);
      accepted.push(...body.slice(3).split(','));
      sent += n;
      await new Promise((r) => setTimeout(r, pause));
    }
    await waitFor(
      `${opts.count} malformed PDUs sent`,
      async () => (await sim<SimStats>('/stats')).fuzzSent >= opts.count,
      Math.max(120_000, opts.count * everyMs * 20),
      200,
    );
    log(`all ${opts.count} malformed PDUs sent; waiting for the final states`);

    // Every accepted message must reach a CDR; stop when it has, or when nothing moved for 60 s.
    const deadline = Date.now() + (opts.settleTimeoutMs ?? 5 * 60_000);
    let last = -1;
    let lastAt = Date.now();
    for (;;) {
      // Outbound only: garbage read as an incoming SMS writes an inbound CDR of its own.
      const r = (await fleet
        .db('cdr')
        .where({ direction: 'outbound' })
        .countDistinct({ n: 'smsid' })
        .first()) as { n: number | string } | undefined;
      const n = Number(r?.n ?? 0);
      if (n >= accepted.length || Date.now() > deadline || Date.now() - lastAt > 60_000) break;
      if (n > last) {
        last = n;
        lastAt = Date.now();
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    // A CDR written twice would show a moment later.
    await new Promise((res) => setTimeout(res, 2000));
    const rows: Array<{ smsid: string; state: string; direction: string }> = await fleet
      .db('cdr')
      .select('smsid', 'state', 'direction');
    const mine = new Set(accepted);
    const per = new Map<string, number>();
    const states: Record<string, number> = {};
    const otherCdrs: Record<string, number> = {};
    for (const row of rows) {
      per.set(row.smsid, (per.get(row.smsid) ?? 0) + 1);
      if (mine.has(row.smsid)) states[row.state] = (states[row.state] ?? 0) + 1;
      else otherCdrs[`${row.direction}/${row.state}`] = (otherCdrs[`${row.direction}/${row.state}`] ?? 0) + 1;
    }
    const finals = accepted.filter((id) => per.has(id)).length;
    const duplicateCdrs = [...per.values()].filter((k) => k > 1).length;
    const stats = await sim<SimStats>('/stats');
    const dead = await deadServices(fleet);
    const run: FuzzSmppRun = {
      fuzzSent: stats.fuzzSent,
      fuzzByKind: stats.fuzzByKind,
      binds: stats.bindsAccepted,
      messages: accepted.length,
      finals,
      lost: accepted.length - finals,
      duplicateCdrs,
      states,
      otherCdrs,
      providerDuplicates: stats.duplicates,
      dead,
      durationMs: Date.now() - started,
      ok: false,
    };
    run.ok = run.lost === 0 && run.duplicateCdrs === 0 && dead.length === 0 && run.fuzzSent >= opts.count;
    if (!run.ok) log(`dispatcher log tail:\n${fleet.logTail('dispatcher', 20)}`);
    return run;
  } finally {
    await fleet.stop();
  }
}

export function formatSmppRun(r: FuzzSmppRun): string[] {
  const kinds = Object.entries(r.fuzzByKind)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `malformed PDUs ${r.fuzzSent} (${kinds}) in ${(r.durationMs / 1000).toFixed(1)} s`,
    `binds ${r.binds} (sessions re-established ${Math.max(0, r.binds - 2)} times)`,
    `messages ${r.messages}: final ${r.finals}, lost ${r.lost}, duplicate CDRs ${r.duplicateCdrs}, states ${JSON.stringify(r.states)}`,
    `CDRs of messages not sent by the run: ${JSON.stringify(r.otherCdrs)}`,
    `kept twice by the SMSC (resent after a dropped session): ${r.providerDuplicates}`,
    `services: ${r.dead.length ? r.dead.join(', ') : 'all alive and ready'}`,
    r.ok ? 'fuzz smpp: OK' : 'fuzz smpp: FAILED',
  ];
}
