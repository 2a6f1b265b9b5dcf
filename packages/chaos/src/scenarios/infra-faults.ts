import {
  DbProxy,
  PrivateNats,
  PrivateRedis,
  freePort,
  waitFor,
  type Fleet,
  type FleetOptions,
} from '@smsfleet/harness';
import { DEFAULT_RATE, standardRun, type RunContext } from '../run.js';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.js';

/**
 * Infrastructure faults: Redis and NATS killed with SIGKILL and restarted on their persisted data,
 * MariaDB unreachable for a while, an SMSC that drops the connection every 500 messages and one
 * that throttles at a tenth of the offered rate. The servers killed here are private ones on free
 * ports; the shared 6379/4222/3306 are never touched.
 */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How long Redis / NATS stay down. */
export const INFRA_DOWN_MS = 3_000;
/** The full MariaDB outage of the issue. */
export const MARIADB_OUTAGE_MS = 30_000;
/** The SMSC drops its connection on every Nth message. */
export const DROP_EVERY = 500;

function sumDuplicates(counts: { count: number }[]): number {
  let n = 0;
  for (const c of counts) if (c.count > 1) n += c.count - 1;
  return n;
}

async function smppGet<T>(fleet: Fleet, path: string): Promise<T> {
  const r = await fetch(`${fleet.url('smsc-sim')}/_sim/smpp${path}`);
  if (!r.ok) throw new Error(`smsc-sim /_sim/smpp${path}: ${r.status}`);
  return (await r.json()) as T;
}

/**
 * Runs standardRun against a private server that the fault kills: the server starts before the
 * fleet, is brought back up before the fleet stops (Fleet.stop() cleans its keys/stream there),
 * and is removed at the end.
 */
async function withPrivateServer<S extends PrivateRedis | PrivateNats>(
  server: S,
  run: (server: S) => Promise<ScenarioResult>,
): Promise<ScenarioResult> {
  await server.start();
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

async function killAndRestart(
  server: PrivateRedis | PrivateNats,
  what: string,
  ctx: RunContext,
  downMs: number,
): Promise<string> {
  await ctx.atShare(0.4);
  const offered = ctx.load.offered;
  ctx.log(`  killing ${what} (kill -9) at ${offered} messages offered`);
  await server.kill();
  await sleep(downMs);
  const t0 = Date.now();
  await server.start();
  ctx.log(`  ${what} back after ${downMs} ms down (+${Date.now() - t0} ms to recover its data)`);
  return `${what} killed at ${offered} offered, ${downMs} ms down`;
}

export function redisKillScenario(downMs = INFRA_DOWN_MS): Scenario {
  const name = 'redis-kill-aof';
  return {
    name,
    description: `private Redis (AOF, appendfsync always) killed with SIGKILL at 40 % of the load, back after ${downMs} ms`,
    run: (options) =>
      withPrivateServer(new PrivateRedis({ appendfsync: 'always' }), (redis) =>
        standardRun({
          name,
          options,
          fleet: { redisUrl: redis.url },
          fault: (ctx) => killAndRestart(redis, 'redis', ctx, downMs),
          cleanup: async () => void (await redis.start()),
        }),
      ),
  };
}

export function natsKillScenario(downMs = INFRA_DOWN_MS): Scenario {
  const name = 'nats-kill-jetstream';
  return {
    name,
    description: `private nats-server -js (file storage) killed with SIGKILL at 40 % of the load, back after ${downMs} ms`,
    run: (options) =>
      withPrivateServer(new PrivateNats(), (nats) =>
        standardRun({
          name,
          options,
          fleet: { natsUrl: nats.url },
          fault: (ctx) => killAndRestart(nats, 'nats', ctx, downMs),
          cleanup: async () => void (await nats.start()),
        }),
      ),
  };
}

export function mariadbOutageScenario(outageMs = MARIADB_OUTAGE_MS): Scenario {
  const name =
    outageMs === MARIADB_OUTAGE_MS ? 'mariadb-outage' : `mariadb-outage-${Math.round(outageMs / 1000)}s`;
  return {
    name,
    description: `every service cut off from MariaDB (TCP proxy) for ${outageMs / 1000} s at 30 % of the load`,
    run: async (options) => {
      const proxy = await new DbProxy().start({ host: '127.0.0.1', port: 3306 });
      try {
        return await standardRun({
          name,
          options,
          fleet: { serviceDatabaseUrl: (u) => proxy.via(u) },
          fault: async (ctx) => {
            await ctx.atShare(0.3);
            const offered = ctx.load.offered;
            const refusedBefore = ctx.load.result.refused;
            ctx.log(`  MariaDB cut at ${offered} messages offered, for ${outageMs / 1000} s`);
            proxy.cut();
            await sleep(outageMs);
            proxy.restore();
            const refused = ctx.load.result.refused - refusedBefore;
            ctx.log(`  MariaDB back; ${refused} messages refused during the outage`);
            return `MariaDB down ${outageMs / 1000} s at ${offered} offered`;
          },
          cleanup: () => {
            proxy.restore();
            return Promise.resolve();
          },
        });
      } finally {
        await proxy.close();
      }
    },
  };
}

interface SmscFaultOptions {
  name: string;
  description: string;
  transport: 'http' | 'smpp';
  /** Simulator behaviour for this run (HTTP: SIM_BEHAVIOUR keys; SMPP: SIM_SMPP_BEHAVIOUR keys). */
  behaviour: (options: ScenarioOptions) => Record<string, unknown>;
  note: (options: ScenarioOptions) => string;
  /** SMPP binds (default: transmitters only; `transceiver` also takes delivery receipts). */
  bind?: 'transceiver';
  /** Run on a private Redis and apply this fault to it during the load. */
  redisFault?: (redis: PrivateRedis, ctx: RunContext) => Promise<string>;
}

/**
 * A misbehaving SMSC for the whole run, configured through the simulator's environment. SMPP runs
 * route everything to the global `smsurl` gateway on the simulator's SMPP port, and count the
 * duplicates the SMSC kept (the HTTP counter would say 0).
 */
function smscScenario(o: SmscFaultOptions): Scenario {
  return {
    name: o.name,
    description: o.description,
    run: async (options) => {
      if (o.redisFault) {
        const fault = o.redisFault;
        return withPrivateServer(new PrivateRedis({ appendfsync: 'always' }), (redis) =>
          runSmsc(
            o,
            options,
            { redisUrl: redis.url },
            (ctx) => fault(redis, ctx),
            () => redis.start(),
          ),
        );
      }
      return runSmsc(o, options, {}, () => Promise.resolve(o.note(options)));
    },
  };
}

async function runSmsc(
  o: SmscFaultOptions,
  options: ScenarioOptions,
  extra: FleetOptions,
  fault: (ctx: RunContext) => Promise<string>,
  beforeCleanup?: () => Promise<unknown>,
): Promise<ScenarioResult> {
  const behaviour = JSON.stringify(o.behaviour(options));
  let fleet: FleetOptions;
  let smppDuplicates = 0;
  if (o.transport === 'smpp') {
    const port = await freePort();
    fleet = {
      env: { 'smsc-sim': { SIM_SMPP_PORT: String(port), SIM_SMPP_BEHAVIOUR: behaviour } },
      config: {
        smsrouting: '0',
        smsurl: `SMPP;server=127.0.0.1;serverport=${port};username=smsfleet;password=smsfleet;window=20;binds=2;timeout=5${o.bind ? `;bind=${o.bind}` : ''}`,
      },
      ...extra,
    };
  } else {
    fleet = { env: { 'smsc-sim': { SIM_BEHAVIOUR: behaviour } }, ...extra };
  }
  const result = await standardRun({
    name: o.name,
    options,
    fleet,
    prepare: async (f) => {
      if (o.transport === 'smpp')
        await waitFor(
          'the dispatcher bound to the SMSC',
          async () => (await smppGet<{ binds: number }>(f, '/stats')).binds >= 1,
          60_000,
        );
    },
    fault,
    cleanup: async (f) => {
      await beforeCleanup?.();
      if (o.transport === 'smpp')
        smppDuplicates = sumDuplicates(await smppGet<{ count: number }[]>(f, '/counts?duplicatesOnly=1'));
    },
  });
  return o.transport === 'smpp' ? { ...result, providerDuplicates: smppDuplicates } : result;
}

const tenth = (options: ScenarioOptions) => Math.max(1, Math.round((options.rate ?? DEFAULT_RATE) / 10));

export const smscDropScenario = smscScenario({
  name: 'smsc-drop-every-500',
  description: `HTTP provider keeps every ${DROP_EVERY}th message and drops its connection without an answer`,
  transport: 'http',
  behaviour: () => ({ dropEvery: DROP_EVERY }),
  note: () => `HTTP connection dropped every ${DROP_EVERY} messages`,
});

export const smppDropScenario = smscScenario({
  name: 'smpp-drop-every-500',
  description: `SMPP SMSC closes the connection on every ${DROP_EVERY}th submit_sm (kept, unanswered)`,
  transport: 'smpp',
  behaviour: () => ({ dropEvery: DROP_EVERY }),
  note: () => `SMPP connection dropped every ${DROP_EVERY} submit_sm`,
});

export const smscThrottleScenario = smscScenario({
  name: 'smsc-throttle-tenth',
  description: 'HTTP provider answers 429 over a tenth of the offered rate',
  transport: 'http',
  behaviour: (o) => ({ throttlePerSecond: tenth(o), retryAfterS: 1 }),
  note: (o) => `HTTP provider limited to ${tenth(o)}/s (429 over it)`,
});

export const smppThrottleScenario = smscScenario({
  name: 'smpp-throttle-tenth',
  description: 'SMPP SMSC answers ESME_RTHROTTLED over a tenth of the offered rate',
  transport: 'smpp',
  behaviour: (o) => ({ throttleAfterPerSecond: tenth(o) }),
  note: (o) => `SMPP SMSC limited to ${tenth(o)}/s (ESME_RTHROTTLED over it)`,
});

/**
 * Redis killed while the verifier correlates SMPP delivery receipts through it (receipt store,
 * final-state gate): every message must still end `delivered` from its receipt.
 */
export function redisKillReceiptsScenario(downMs = INFRA_DOWN_MS): Scenario {
  return smscScenario({
    name: 'redis-kill-smpp-receipts',
    description: `SMPP with delivery receipts on a transceiver bind; private Redis killed -9 at 40 %, back after ${downMs} ms`,
    transport: 'smpp',
    bind: 'transceiver',
    behaviour: () => ({ receiptDelayMs: 200 }),
    note: () => 'receipts',
    redisFault: (redis, ctx) => killAndRestart(redis, 'redis', ctx, downMs),
  });
}

/** The infrastructure fault scenarios of `./smsfleet chaos`, in order. */
export const INFRA_SCENARIOS: Scenario[] = [
  redisKillScenario(),
  redisKillReceiptsScenario(),
  natsKillScenario(),
  mariadbOutageScenario(),
  smscDropScenario,
  smppDropScenario,
  smscThrottleScenario,
  smppThrottleScenario,
];
