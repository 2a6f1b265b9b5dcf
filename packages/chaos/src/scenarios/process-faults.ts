import type { Fleet, ServiceName } from '@smsfleet/harness';
import { DEFAULT_RATE, standardRun } from '../run.js';
import type { Scenario } from '../scenario.js';

/** The services of the send path, killed in this order. */
export const PIPELINE_SERVICES = ['api-gateway', 'dispatcher', 'verifier', 'billing'] as const;

/** Waits (up to 10 s) until the provider is receiving messages right now. */
async function providerBusy(fleet: Fleet): Promise<void> {
  const until = Date.now() + 10_000;
  let last = (await fleet.simStats()).received;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 5));
    const now = (await fleet.simStats()).received;
    if (now > last) return;
    last = now;
  }
}

/**
 * SIGKILL of one service in the middle of the run, then a restart: nothing accepted may be lost,
 * no CDR written twice, credit exact; the provider may see the messages of in-flight chunks twice.
 */
export function killScenario(service: (typeof PIPELINE_SERVICES)[number]): Scenario {
  return {
    name: `kill-${service}`,
    description: `SIGKILL of ${service} in the middle of the run, then restart`,
    run: (options) =>
      standardRun({
        name: `kill-${service}`,
        options,
        async fault({ fleet, atShare, load, log }) {
          await atShare(0.4);
          // The API dies while it takes a batch (its answer never leaves).
          const inBatch = service === 'api-gateway' ? await load.batchInFlight() : false;
          // The dispatcher dies while it sends (the provider's count is moving), not between chunks.
          if (service === 'dispatcher') await providerBusy(fleet);
          const at = load.offered;
          const t0 = Date.now();
          await fleet.kill(service, 'SIGKILL');
          log(`  SIGKILL ${service} after ${at} messages offered`);
          await fleet.startService(service);
          return `killed at ${at}${inBatch ? ' during a batch' : ''}, back after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
        },
      }),
  };
}

/**
 * SIGTERM of every service of the send path in turn during one run (a rolling restart): each
 * must finish or hand back what it holds within its deadline, so nothing is lost and nothing is
 * sent twice (0 duplicates at the provider).
 */
export const sigtermRolling: Scenario = {
  name: 'sigterm-rolling',
  description: 'SIGTERM of api-gateway, dispatcher, verifier and billing in turn, each restarted',
  run: (options) =>
    standardRun({
      name: 'sigterm-rolling',
      options,
      // At least 30 s of load, so each of the four stops falls inside the run.
      load: { rate: Math.min(options.rate ?? DEFAULT_RATE, Math.max(20, options.messages / 30)) },
      async fault({ fleet, atShare, load, log }) {
        const notes: string[] = [];
        const services: ServiceName[] = [...PIPELINE_SERVICES];
        for (let i = 0; i < services.length; i++) {
          const service = services[i]!;
          await atShare((i + 1) / (services.length + 1));
          const at = load.offered;
          const t0 = Date.now();
          // The shutdown deadline is 15 s (packages/runtime Lifecycle); a process still there after
          // twice that is hung: killed, and the note says so.
          let timer: NodeJS.Timeout | undefined;
          const exited = await Promise.race([
            fleet.kill(service, 'SIGTERM').then(() => true),
            new Promise<false>((r) => (timer = setTimeout(() => r(false), 30_000))),
          ]);
          clearTimeout(timer);
          if (!exited) await fleet.kill(service, 'SIGKILL');
          const exitMs = Date.now() - t0;
          const code = exited ? fleet.procs.get(service)?.child?.exitCode : 'hung';
          log(`  SIGTERM ${service} after ${at} offered: exited ${String(code)} in ${exitMs} ms`);
          notes.push(`${service} exit ${String(code)} in ${(exitMs / 1000).toFixed(1)} s`);
          await fleet.startService(service);
        }
        return notes.join(', ');
      },
    }),
};

export const PROCESS_SCENARIOS: Scenario[] = [...PIPELINE_SERVICES.map(killScenario), sigtermRolling];
