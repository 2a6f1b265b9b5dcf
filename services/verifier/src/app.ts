import { EventBus, type Consumption } from '@smsfleet/bus';
import {
  Counter,
  Lifecycle,
  createMetricsRegistry,
  startServiceServer,
  type InfraEnv,
  type Logger,
} from '@smsfleet/runtime';
import { finalBatchId, finalizeImmediately } from './finalizer.js';

export interface VerifierOptions {
  infra: InfraEnv;
  httpPort: number;
  log: Logger;
}

/** The verifier: turns `sms.submitted` / `sms.failed` transitions into `sms.final`. */
export async function startVerifier(
  opts: VerifierOptions,
): Promise<{ close: () => Promise<string[]>; port: number }> {
  const { infra, log } = opts;
  const life = new Lifecycle();
  let ready = false;
  const registry = createMetricsRegistry('verifier');
  const finals = new Counter({
    name: 'smsfleet_messages_final_total',
    help: 'Final states published',
    labelNames: ['state'],
    registers: [registry],
  });
  const server = await startServiceServer({ port: opts.httpPort, registry, ready: () => ready });
  life.add('http', () => server.close());
  const bus = await EventBus.connect({ url: infra.natsUrl, prefix: infra.eventPrefix, name: 'verifier' });
  life.add('nats', () => bus.close());

  const consumptions: Consumption[] = [];
  for (const state of ['submitted', 'failed'] as const) {
    consumptions.push(
      await bus.consume(
        `verifier-${state}`,
        state,
        async (events) => {
          const final = finalizeImmediately(events);
          await bus.publish('final', final, finalBatchId(final));
          for (const e of final) {
            finals.inc({ state: e.state });
            log.info({ smsid: e.smsid, gatewayId: e.msg.gatewayId, state: e.state }, 'sms state');
          }
        },
        { onError: (err) => log.error({ err: (err as Error).message }, 'verifier batch failed') },
      ),
    );
  }
  life.add('consumers', async () => {
    await Promise.allSettled(consumptions.map((c) => c.stop()));
  });
  ready = true;
  life.add('readiness', () => {
    ready = false;
  });
  log.info({ port: server.port }, 'verifier started');
  return { close: () => life.close(), port: server.port };
}
