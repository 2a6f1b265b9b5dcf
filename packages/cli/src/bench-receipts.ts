import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { EventBus } from '@smsfleet/bus';
import type { ReceiptEvent, SmsEvent } from '@smsfleet/core';
import { CliError } from './cli-error.js';
type Out = (line: string) => void;
import type { CliContext } from './context.js';
import { cpuMs, pidsOf } from './cpu.js';
import { pidFiles } from './fleet.js';

/**
 * `smsfleet bench-receipts --count N`: how many delivery receipts per second the running verifier
 * correlates. Publishes N submitted messages that wait for receipts (gateway id 0, ids `b<run>-<n>`),
 * then N receipts (half of them in the decimal form of a hex id), and times until every final
 * state is out. The finals go on to billing like any others (user 0).
 */
export async function benchReceiptsCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { count: { type: 'string', default: '20000' }, batch: { type: 'string', default: '200' } },
    strict: true,
  });
  const count = Number(values.count);
  const batch = Number(values.batch);
  if (!Number.isInteger(count) || count < 1) throw new CliError('--count must be a positive integer');
  if (!Number.isInteger(batch) || batch < 1 || batch > 1000) throw new CliError('--batch must be 1..1000');
  const verifier = pidFiles().find((p) => p.name === 'verifier');
  if (!verifier) throw new CliError('the fleet is not running: start it with `./smsfleet up --detach`', 1);
  const run = randomBytes(3).toString('hex');
  const bus = await EventBus.connect({
    url: ctx.infra.natsUrl,
    prefix: ctx.infra.eventPrefix,
    name: 'bench-receipts',
  });
  const seen = new Set<string>();
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const sub = bus.nc.subscribe(bus.subject('final'), {
    callback: (_err, m) => {
      const b = JSON.parse(new TextDecoder().decode(m.data)) as { events: SmsEvent[] };
      for (const e of b.events) if (e.smsid.startsWith(`b${run}-`)) seen.add(e.smsid);
      if (seen.size >= count) done();
    },
  });
  const infraPids = [...pidsOf('redis-server'), ...pidsOf('nats-server')];
  const pids = [verifier.pid, ...infraPids];
  const before = pids.map(cpuMs);
  // Hex ids for even messages: their receipts carry the decimal value, as some SMSCs do.
  const idOf = (i: number) => (i % 2 === 0 ? (0x10000000 + i).toString(16).toUpperCase() : `r${run}-${i}`);
  const receiptIdOf = (i: number) => (i % 2 === 0 ? String(0x10000000 + i) : `r${run}-${i}`);
  const now = Date.now();
  for (let i = 0; i < count; i += batch) {
    const evs: SmsEvent[] = [];
    for (let k = i; k < Math.min(count, i + batch); k++) {
      const smsid = `b${run}-${k}`;
      evs.push({
        smsid,
        state: 'submitted',
        at: now,
        submittedAt: now,
        providerMessageId: idOf(k),
        awaitReceipt: true,
        msg: {
          smsid,
          userId: 0,
          gatewayId: 0,
          from: 'bench',
          to: '36700000000',
          text: 'receipt bench',
          encoding: 'GSM7',
          segments: 1,
          clientIp: '127.0.0.1',
          acceptedAt: now,
        },
      });
    }
    await bus.publish('submitted', evs);
  }
  const t0 = performance.now();
  for (let i = 0; i < count; i += batch) {
    const rs: ReceiptEvent[] = [];
    for (let k = i; k < Math.min(count, i + batch); k++)
      rs.push({
        gatewayId: 0,
        providerMessageId: receiptIdOf(k),
        stat: 'DELIVRD',
        receivedAt: Date.now(),
        source: 'smpp',
      });
    await bus.publish('receipt', rs);
  }
  const timeout = setTimeout(done, 10 * 60_000);
  await finished;
  clearTimeout(timeout);
  const secs = (performance.now() - t0) / 1000;
  const after = pids.map(cpuMs);
  sub.unsubscribe();
  await bus.close();
  const verifierMs = after[0]! - before[0]!;
  const infraMs = after.slice(1).reduce((a, b) => a + b, 0) - before.slice(1).reduce((a, b) => a + b, 0);
  out(
    `receipts: ${count} correlated to final states in ${secs.toFixed(2)} s = ${Math.round(seen.size / secs)} receipts/s${seen.size < count ? ` (ONLY ${seen.size})` : ''}`,
  );
  out(
    `CPU ms/receipt: verifier ${(verifierMs / count).toFixed(3)}, redis+nats ${(infraMs / count).toFixed(3)}`,
  );
  if (seen.size < count)
    throw new CliError(`only ${seen.size} of ${count} receipts produced a final state`, 1);
}
