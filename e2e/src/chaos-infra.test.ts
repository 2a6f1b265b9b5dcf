import { describe, expect, test } from 'vitest';
import {
  mariadbOutageScenario,
  natsKillScenario,
  redisKillReceiptsScenario,
  redisKillScenario,
  resultLine,
  smppDropScenario,
  smppThrottleScenario,
  smscDropScenario,
  smscThrottleScenario,
  type Scenario,
  type ScenarioOptions,
} from '@smsfleet/chaos';

/**
 * The infrastructure faults of `./smsfleet chaos` in a short form: a few hundred messages each,
 * against a real fleet (Redis and NATS private servers killed with SIGKILL, MariaDB cut off by a
 * proxy, a simulator that drops connections or throttles). Nothing accepted may be lost, no CDR
 * written twice, and the credit must match the CDRs to the cent.
 */

async function check(
  s: Scenario,
  opts: Omit<ScenarioOptions, 'log'>,
  /** Messages the provider may have received twice (answers lost with a dropped connection). */
  maxProviderDuplicates?: number,
): Promise<void> {
  const lines: string[] = [];
  const r = await s.run({ ...opts, log: (l) => lines.push(l), settleStallMs: 45_000 });
  console.log([...lines, resultLine(r)].join('\n'));
  expect(r.accepted).toBeGreaterThan(0);
  expect({ lost: r.lost, duplicateCdrs: r.duplicateCdrs }).toEqual({ lost: 0, duplicateCdrs: 0 });
  // Exact decimal: "0" (or "0.000000" as the money type writes it), never a cent off.
  expect(r.creditDifference).toMatch(/^0(\.0+)?$/);
  expect(r.finals).toBe(r.accepted);
  // Refusals during a fault are clean answers (e.g. 503 "temporarily unavailable"), never a crash.
  // (Refusal reasons are listed as "(<status> <answer>: <count>; ...)" after the load line.)
  expect(lines.join('\n')).not.toMatch(/internal error|(\(|; )500 /);
  if (maxProviderDuplicates !== undefined)
    expect(r.providerDuplicates).toBeLessThanOrEqual(maxProviderDuplicates);
}

const T = 300_000;

describe('infrastructure faults under load (short form)', () => {
  test(
    'Redis (AOF, appendfsync always) killed -9 and restarted',
    () => check(redisKillScenario(), { messages: 800, rate: 200 }),
    T,
  );

  test(
    'Redis killed -9 while the verifier correlates SMPP receipts through it',
    () => check(redisKillReceiptsScenario(), { messages: 800, rate: 200 }),
    T,
  );

  test(
    'NATS (JetStream file storage) killed -9 and restarted',
    () => check(natsKillScenario(), { messages: 800, rate: 200 }, 0),
    T,
  );

  test(
    'MariaDB unreachable for 10 s',
    () => check(mariadbOutageScenario(10_000), { messages: 800, rate: 100 }, 0),
    T,
  );

  test(
    'HTTP provider drops the connection every 500 messages',
    () => check(smscDropScenario, { messages: 1000, rate: 400 }, 1000 / 500 + 1),
    T,
  );

  test(
    'SMPP SMSC drops the connection every 500 submit_sm',
    () => check(smppDropScenario, { messages: 1000, rate: 400 }, 1000 / 500 + 1),
    T,
  );

  test(
    'HTTP provider throttles at a tenth of the offered rate',
    () => check(smscThrottleScenario, { messages: 400, rate: 200 }, 0),
    T,
  );

  test(
    'SMPP SMSC throttles at a tenth of the offered rate',
    () => check(smppThrottleScenario, { messages: 400, rate: 200 }, 0),
    T,
  );
});
