import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatDecimal, parseDecimal } from '@smsfleet/core';
import { UsersRepo } from '@smsfleet/db';
import { startHttpSim, type HttpSim, type SimStats } from '@smsfleet/smsc-sim';
import { runCli } from './cli.js';
import { Fleet, waitFor } from './fleet.js';

interface CdrRow {
  smsid: string;
  user_id: number;
  gateway_id: number;
  callee: string;
  segments: number;
  duration: number;
  cost: string;
  state: string;
  route_attempt: number;
  comment: string | null;
}

const TOTAL = 3000;

async function simStatsAt(url: string): Promise<SimStats> {
  return (await (await fetch(`${url}/_sim/stats`)).json()) as SimStats;
}
const SHORT = 'Routing test message';
// 170 GSM characters: two segments.
const LONG = 'L'.repeat(170);

/**
 * Three gateways: A and B share prefix 36 by weight 3:1, C is the failover at a lower priority.
 * Numbers that A and B both reject reach C; numbers that every gateway rejects end failed and
 * get their reserved credit back. Prices by longest prefix, per segment.
 */
describe('routing, failover, prefix pricing and exact billing (3 gateways, 3,000 messages)', () => {
  const fleet = new Fleet({
    config: { smsrouting: '1', smsprice: '0.5', smstime: '60' },
    readyTimeoutMs: 90_000,
  });
  let simB: HttpSim;
  let simC: HttpSim;
  const gw = { a: 0, b: 0, c: 0 };
  const users: Record<string, { id: number; before: bigint }> = {};
  let env: Record<string, string>;
  const simAStats = () => simStatsAt(fleet.url('smsc-sim'));

  // 3,000 numbers: 36 20 xxxxxxx (price 0.03) and 36 30 xxxxxxx (price 0.02).
  const numbers = Array.from({ length: TOTAL }, (_, i) => `36${i % 2 ? '20' : '30'}${String(1_000_000 + i)}`);
  // Every 10th number: rejected by A and B (delivered through C). Every 60th: rejected everywhere.
  const viaC = numbers.filter((_, i) => i % 10 === 3);
  const dead = numbers.filter((_, i) => i % 60 === 7);

  beforeAll(async () => {
    await fleet.start();
    env = { ...fleet.infraEnv, API_URL: fleet.url('api-gateway') };
    simB = await startHttpSim({ behaviour: { failNumbers: [...viaC, ...dead] } });
    simC = await startHttpSim({ behaviour: { failNumbers: dead } });
    await fetch(`${fleet.url('smsc-sim')}/_sim/behaviour`, {
      method: 'POST',
      body: JSON.stringify({ failNumbers: [...viaC, ...dead] }),
    });
    const tpl = '/send?to=[tonum]&from=[fromnum]&text=[message]&id=[smsid]';
    const cli = async (...args: string[]) => {
      const r = await runCli(args, env);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code).toBe(0);
      return r.stdout;
    };
    // Independent steps in parallel: each CLI run is a process start.
    await Promise.all([
      cli('gateway', 'add', '--name', 'gw-b', '--url', `${simB.url}${tpl}`),
      cli('gateway', 'add', '--name', 'gw-c', '--url', `${simC.url}${tpl}`),
      cli('price', 'add', '--prefix', '36', '--price', '0.02'),
      cli('price', 'add', '--prefix', '3620', '--price', '0.03'),
      ...['alice', 'bob'].map((name) =>
        cli('user', 'add', '--name', name, '--password', `${name}-pw`, '--credit', '500'),
      ),
    ]);
    await Promise.all([
      cli('route', 'add', '--gateway', 'sim', '--prefix', '36', '--priority', '10', '--weight', '3'),
      cli('route', 'add', '--gateway', 'gw-b', '--prefix', '36', '--priority', '10', '--weight', '1'),
      cli('route', 'add', '--gateway', 'gw-c', '--regex', '36[0-9]+', '--priority', '20'),
    ]);
    const repo = new UsersRepo(fleet.db);
    gw.a = fleet.gatewayId;
    gw.b = (await repo.findByName('gw-b'))!.id;
    gw.c = (await repo.findByName('gw-c'))!.id;
    for (const name of ['alice', 'bob']) {
      const u = (await repo.findByName(name))!;
      users[name] = { id: u.id, before: parseDecimal(u.credit) };
    }
    // The CLI notified the services; the dispatcher serves the new gateways once it has resynced.
    await waitFor(
      'dispatcher serves gw-b and gw-c',
      async () => {
        const log = fleet.log('dispatcher');
        return (
          (log.includes(`"gatewayId":${gw.b},"name":"gw-b"`) &&
            log.includes(`"gatewayId":${gw.c},"name":"gw-c"`)) ||
          undefined
        );
      },
      20_000,
      200,
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([simB?.close(), simC?.close(), fleet.stop()]);
  }, 60_000);

  test('price check shows route, segments and cost', async () => {
    const r = await runCli(['price', 'check', '--user', 'alice', '--to', '36201234567', '--text', LONG], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^route: (sim|gw-b) \(\d+\)$/m);
    expect(r.stdout).toMatch(/^failover order: .*gw-c/m);
    expect(r.stdout).toContain('segments: 2 (GSM7)');
    expect(r.stdout).toMatch(/^price: 0\.03 per segment \(price \d+, prefix 3620\)$/m);
    expect(r.stdout).toContain('cost: 0.06');
    const fallback = await runCli(['price', 'check', '--to', '4477001', '--text', 'x'], env);
    expect(fallback.stdout).toContain('smsprice, no price found');
    expect(fallback.stdout).toContain('cost: 0.5');
    const bad = await runCli(['price', 'add', '--prefix', '36x', '--price', '1'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/prefix must be 0-32 digits/);
  });

  test('3,000 messages: weighted split, failover through C, one CDR each with the right gateway and cost, credit exact', async () => {
    const t0 = Date.now();
    const smsidTo = new Map<string, string>();
    const textOf = new Map<string, string>();
    // 500 recipients per request, alternating users and texts.
    for (let i = 0; i < TOTAL; i += 500) {
      const slice = numbers.slice(i, i + 500);
      const name = (i / 500) % 2 ? 'bob' : 'alice';
      const text = (i / 1000) % 2 >= 1 ? LONG : SHORT;
      const r = await fleet.mizu({
        apientry: 'sendsms',
        authid: name,
        authpwd: `${name}-pw`,
        bnum: slice.join(','),
        message: text,
      });
      expect(r.body, r.body.slice(0, 200)).toMatch(/^OK /);
      const ids = r.body.slice(3).split(',');
      expect(ids).toHaveLength(slice.length);
      ids.forEach((id, k) => {
        smsidTo.set(id, slice[k]!);
        textOf.set(id, text);
      });
    }
    await waitFor('3,000 CDRs', async () => (await fleet.cdrCount()) >= TOTAL || undefined, 120_000, 250);
    const elapsed = Date.now() - t0;
    const rows = (await fleet.db('cdr').select('*')) as CdrRow[];
    expect(rows).toHaveLength(TOTAL);
    expect(new Set(rows.map((r) => r.smsid)).size).toBe(TOTAL);

    const viaCSet = new Set(viaC);
    const deadSet = new Set(dead);
    const costByUser = new Map<number, bigint>();
    for (const r of rows) {
      expect(smsidTo.get(r.smsid)).toBe(r.callee);
      const segments = textOf.get(r.smsid) === LONG ? 2 : 1;
      expect(r.segments).toBe(segments);
      const unit = r.callee.startsWith('3620') ? 30_000n : 20_000n; // micro-units
      if (deadSet.has(r.callee)) {
        expect(r).toMatchObject({ state: 'failed', gateway_id: gw.c, route_attempt: 3, duration: 0 });
        expect(parseDecimal(r.cost)).toBe(0n);
      } else {
        expect(r.state).toBe('unknown');
        expect(r.duration).toBe(60);
        expect(parseDecimal(r.cost)).toBe(unit * BigInt(segments));
        if (viaCSet.has(r.callee)) expect(r).toMatchObject({ gateway_id: gw.c, route_attempt: 3 });
        else {
          expect([gw.a, gw.b]).toContain(r.gateway_id);
          expect(r.route_attempt).toBe(1);
        }
      }
      costByUser.set(r.user_id, (costByUser.get(r.user_id) ?? 0n) + parseDecimal(r.cost));
    }

    // The split of first choices follows the weights 3:1 (A and B reject the same numbers, so
    // their accepted counts are the first choices of the other messages).
    const a = (await simAStats()).accepted;
    const b = simB.stats().accepted;
    expect(a + b).toBe(TOTAL - viaC.length - dead.length);
    const shareA = a / (a + b);
    expect(Math.abs(shareA - 0.75)).toBeLessThan(0.035);
    expect(simC.stats().accepted).toBe(viaC.length);
    for (const s of [await simAStats(), simB.stats(), simC.stats()]) expect(s.duplicates).toBe(0);

    // The sum of CDR costs equals the change in users' credit, to the cent and beyond.
    const repo = new UsersRepo(fleet.db);
    for (const u of Object.values(users)) {
      const after = parseDecimal((await repo.findById(u.id))!.credit);
      expect(formatDecimal(u.before - after)).toBe(formatDecimal(costByUser.get(u.id) ?? 0n));
    }
    console.log(
      `routing e2e: ${TOTAL} messages in ${elapsed} ms; split A ${a} / B ${b} (share A ${shareA.toFixed(3)}); via C ${viaC.length}; failed ${dead.length}`,
    );
  });

  test('cdr list and GET /v1/cdrs filter by gateway, status and number, with CSV export', async () => {
    const failed = await runCli(['cdr', 'list', '--status', 'failed', '--limit', '1000', '--json'], env);
    expect(failed.code).toBe(0);
    const list = JSON.parse(failed.stdout) as { callee: string; gatewayId: number }[];
    expect(list).toHaveLength(dead.length);
    expect(new Set(list.map((c) => c.callee))).toEqual(new Set(dead));

    const byGw = await runCli(['cdr', 'list', '--gateway', 'gw-c', '--number', viaC[0]!], env);
    expect(byGw.stdout.split('\n').filter((l) => l.includes(viaC[0]!))).toHaveLength(1);

    const q = new URLSearchParams({
      gateway: String(gw.c),
      status: 'unknown',
      limit: '10000',
      authkey: fleet.apiKey,
    });
    const res = await fetch(`${fleet.url('api-gateway')}/v1/cdrs?${q.toString()}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { cdrs: { to: string; gatewayId: number; cost: string }[] };
    expect(body.cdrs).toHaveLength(viaC.length);
    expect(body.cdrs.every((c) => c.gatewayId === gw.c)).toBe(true);

    const csv = await fetch(
      `${fleet.url('api-gateway')}/v1/cdrs?${new URLSearchParams({ number: '3620*', format: 'csv', limit: '10000' }).toString()}`,
      { headers: { 'x-authkey': fleet.apiKey } },
    );
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^id,type,smsid,user_id,gateway_id,caller,callee/);
    expect(lines).toHaveLength(1 + TOTAL / 2);

    const unauth = await fetch(`${fleet.url('api-gateway')}/v1/cdrs`);
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const bad = await fetch(`${fleet.url('api-gateway')}/v1/cdrs?status=nope&authkey=${fleet.apiKey}`);
    expect(bad.status).toBe(422);
  });
});
