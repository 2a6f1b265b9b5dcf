import { describe, expect, test } from 'vitest';
import { PROCESS_SCENARIOS, resultLine, type Scenario } from '@smsfleet/chaos';

/**
 * The process faults of `./smsfleet chaos` in a short form (the infrastructure faults are in
 * chaos-infra.test.ts): SIGKILL of each service of the send path in the middle of a run, then a
 * restart, and a rolling SIGTERM of all of them. Each runs on a fresh fleet under a steady load of
 * single and batch requests; afterwards nothing accepted may be lost, no CDR written twice, the
 * credit must match the CDRs exactly, and a graceful stop must send nothing twice.
 */
const MESSAGES = 600;

async function run(s: Scenario) {
  const lines: string[] = [];
  const r = await s.run({ messages: MESSAGES, log: (l) => lines.push(l), settleStallMs: 60_000 });
  console.log([...lines, resultLine(r)].join('\n'));
  // The fault did not stop the run: most messages were accepted (a client retries refusals).
  expect(r.accepted).toBeGreaterThan(MESSAGES / 2);
  expect({ lost: r.lost, duplicateCdrs: r.duplicateCdrs, creditDifference: r.creditDifference }).toEqual({
    lost: 0,
    duplicateCdrs: 0,
    creditDifference: '0',
  });
  expect(r.finals).toBe(r.accepted);
  return r;
}

describe('process faults under load (short form of ./smsfleet chaos)', () => {
  for (const s of PROCESS_SCENARIOS.filter((x) => x.name.startsWith('kill-'))) {
    test(
      s.description,
      async () => {
        const r = await run(s);
        // Only what was in flight may reach the provider twice: a few chunks at most.
        expect(r.providerDuplicates).toBeLessThanOrEqual(4 * 200);
      },
      300_000,
    );
  }

  test('SIGTERM of every service in turn: nothing lost, nothing sent twice', async () => {
    const s = PROCESS_SCENARIOS.find((x) => x.name === 'sigterm-rolling')!;
    const r = await run(s);
    expect(r.providerDuplicates).toBe(0);
    // Every service exited by itself (code 0) within its shutdown deadline.
    expect(r.notes).toMatch(/api-gateway exit 0/);
    expect(r.notes).toMatch(/dispatcher exit 0/);
    expect(r.notes).toMatch(/verifier exit 0/);
    expect(r.notes).toMatch(/billing exit 0/);
  }, 300_000);
});
