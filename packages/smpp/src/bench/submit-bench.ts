/**
 * submit_sm/s through ONE bind at windows 1, 10 and 50, against the SMPP simulator running as its
 * own process (so the figure is the client's, not client + server sharing one event loop).
 *
 *   pnpm run build && node packages/smpp/dist/bench/submit-bench.js [--count 20000] [--windows 1,10,50] [--port P]
 *
 * Without --port it starts `node packages/smsc-sim/dist/main.js` on ephemeral ports. Prints one
 * line per window: messages, seconds, submit_sm/s, client CPU µs per submit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseSmppUrl, type OutboundSms } from '@smsfleet/core';
import { SmppTransport } from '../index.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    windows: { type: 'string', default: '1,10,50' },
    port: { type: 'string' },
    user: { type: 'string', default: 'smsfleet' },
    password: { type: 'string', default: 'smsfleet' },
  },
});

async function startSim(): Promise<{ port: number; child: ChildProcess }> {
  const main = fileURLToPath(new URL('../../../smsc-sim/dist/main.js', import.meta.url));
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, SIM_HTTP_PORT: '0', SIM_SMPP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        try {
          const j = JSON.parse(line) as { msg?: string; port?: number };
          if (j.msg === 'smsc-sim smpp listening' && j.port) resolve(j.port);
        } catch {
          // partial line
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return { port, child };
}

async function run(port: number, window: number, count: number): Promise<void> {
  const config = parseSmppUrl(
    `SMPP;server=127.0.0.1;serverport=${port};username=${values.user};password=${values.password};window=${window};binds=1;registereddelivery=0`,
  );
  const t = new SmppTransport({ gatewayId: 1, config });
  await t.waitForBinds(1);
  const msg = (i: number): OutboundSms => ({
    smsid: `b${window}-${i}`,
    userId: 1,
    gatewayId: 1,
    from: '1000',
    to: '36201234567',
    text: `benchmark message ${i}`,
    encoding: 'GSM7',
    segments: 1,
    clientIp: '127.0.0.1',
    acceptedAt: Date.now(),
  });
  // Warm-up (JIT, socket buffers).
  await Promise.all(Array.from({ length: Math.min(2000, count / 5) }, (_, i) => t.send(msg(-i - 1))));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // Keep the window full: 4x the window of sends outstanding, never one per message at once.
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      const r = await t.send(msg(next++));
      if (!r.ok) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(4, window * 4) }, worker));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await t.close();
  const us = (cpu.user + cpu.system) / count;
  console.log(
    `window ${String(window).padStart(3)}: ${count} submit_sm in ${secs.toFixed(2)} s = ${Math.round(count / secs)} submit_sm/s, client CPU ${us.toFixed(0)} µs/submit${failed ? `, ${failed} failed` : ''}`,
  );
}

const count = Number(values.count);
const sim = values.port ? undefined : await startSim();
const port = values.port ? Number(values.port) : (sim?.port ?? 0);
try {
  for (const w of values.windows.split(',').map(Number))
    await run(port, w, w === 1 ? Math.min(count, 10000) : count);
} finally {
  sim?.child.kill('SIGTERM');
}
