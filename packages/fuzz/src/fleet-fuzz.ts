import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { GatewaySettingsRepo } from '@smsfleet/db';
import type { Fleet } from '@smsfleet/harness';
import type { FuzzCredentials } from './http-cases.js';

/** Everything that would show a request taken as a send, an incoming SMS or a report. */
export interface FuzzSinks {
  /** api-gateway `smsfleet_messages_accepted_total`. */
  acceptedMetric: number;
  /** Messages the HTTP SMSC simulator received. */
  simReceived: number;
  cdrs: number;
  inbox: number;
  batches: number;
  creditHolds: number;
  /** Entries of the fleet's BullMQ event streams (`added` is written for every queued job). */
  queueEvents: number;
  /** Job hashes of the fleet's queues. */
  queueJobs: number;
}

async function tableCount(fleet: Fleet, table: string): Promise<number> {
  if (!(await fleet.db.schema.hasTable(table))) return 0;
  const r = await fleet.db(table).count({ n: '*' }).first();
  return Number(r?.n ?? 0);
}

async function queueFigures(fleet: Fleet): Promise<{ events: number; jobs: number }> {
  const redis = new Redis(fleet.infraEnv.REDIS_URL!, { maxRetriesPerRequest: 3 });
  try {
    let events = 0;
    let jobs = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${fleet.queuePrefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const type = await redis.type(k);
        if (type === 'stream' && k.endsWith(':events')) events += await redis.xlen(k);
        else if (type === 'hash' && !k.endsWith(':meta')) jobs++;
      }
    } while (cursor !== '0');
    return { events, jobs };
  } finally {
    redis.disconnect();
  }
}

export async function readSinks(fleet: Fleet): Promise<FuzzSinks> {
  const q = await queueFigures(fleet);
  return {
    acceptedMetric: await fleet.metric('api-gateway', 'smsfleet_messages_accepted_total'),
    simReceived: (await fleet.simStats()).received,
    cdrs: await fleet.cdrCount(),
    inbox: await tableCount(fleet, 'inbox'),
    batches: await tableCount(fleet, 'batches'),
    creditHolds: await tableCount(fleet, 'credit_holds'),
    queueEvents: q.events,
    queueJobs: q.jobs,
  };
}

/** Sinks that changed between two readings (empty: nothing was queued). */
export function sinkChanges(before: FuzzSinks, after: FuzzSinks): string[] {
  return (Object.keys(before) as (keyof FuzzSinks)[])
    .filter((k) => before[k] !== after[k])
    .map((k) => `${k} ${before[k]} -> ${after[k]}`);
}

/** Services that died or stopped answering /readyz (empty: all alive). */
export async function deadServices(fleet: Fleet): Promise<string[]> {
  const dead: string[] = [];
  for (const [name, p] of fleet.procs) {
    if (!p.child) continue;
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      dead.push(`${name} exited (${p.child.exitCode ?? p.child.signalCode})`);
      continue;
    }
    try {
      const r = await fetch(`${fleet.url(name)}/${name === 'smsc-sim' ? 'healthz' : 'readyz'}`);
      if (!r.ok) dead.push(`${name} not ready (${r.status})`);
    } catch (err) {
      dead.push(`${name} unreachable: ${(err as Error).message}`);
    }
  }
  return dead;
}

/**
 * Config of a fleet started for fuzzing: the failed-authentication ban list is off, or the
 * fuzzer's address would be banned within seconds and every later request refused at the door
 * (the ban list has its own tests); bad input must be refused by the checks behind it.
 */
export const FUZZ_FLEET_CONFIG: Readonly<Record<string, string>> = {
  authban_slowafter: '0',
  authban_addressafter: '0',
  authban_userafter: '0',
};

/**
 * Credentials for the fuzzer on a started fleet: the server key, the admin, and a DLR secret set
 * on the fleet's gateway so that reports with the right secret get past the door.
 */
export async function fuzzCredentials(fleet: Fleet): Promise<FuzzCredentials> {
  const dlrSecret = randomBytes(9).toString('hex');
  await new GatewaySettingsRepo(fleet.db).merge(fleet.gatewayId, { dlrSecret });
  return {
    apiKey: fleet.apiKey,
    adminName: 'admin',
    adminPassword: fleet.adminPassword,
    dlrSecret,
    dlrGatewayId: fleet.gatewayId,
  };
}
