import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigRepo, UsersRepo } from '@smsfleet/db';
import { CliError } from './cli-error.js';
import { cliAudit } from './audit-commands.js';
import type { CliContext } from './context.js';
import { FLEET_PROCESSES, LOG_DIR, REPO_ROOT, RUN_DIR } from './paths.js';
import { resolveSecretKey } from './secret-key-file.js';

type Out = (line: string) => void;

interface Proc {
  name: string;
  entry: string;
  port: number;
  env: NodeJS.ProcessEnv;
  child?: ChildProcess;
  restarts: number;
}

function portOf(ctx: CliContext, name: string, fallback: number): number {
  const v = ctx.env[`${name.toUpperCase().replace(/-/g, '_')}_PORT`];
  return v ? Number(v) : fallback;
}

async function waitReady(url: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export function pidFiles(): { name: string; pid: number }[] {
  if (!fs.existsSync(RUN_DIR)) return [];
  return fs
    .readdirSync(RUN_DIR)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => ({ name: f.slice(0, -4), pid: Number(fs.readFileSync(path.join(RUN_DIR, f), 'utf8')) }))
    .filter((p) => Number.isInteger(p.pid) && p.pid > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `smsfleet up`: migrations, an API key and a demo gateway at the simulator when none exists, then
 * every service and the simulator as separate child processes. In the foreground it restarts a
 * child that dies and stops them all on Ctrl-C; with --detach it leaves them running.
 */
export async function upCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { detach: { type: 'boolean' }, smpp: { type: 'boolean' } },
    strict: true,
  });
  const running = pidFiles().filter((p) => alive(p.pid));
  if (running.length)
    throw new CliError(
      `the fleet is already running (${running.map((p) => `${p.name}:${p.pid}`).join(', ')}); run \`smsfleet down\` first`,
      1,
    );

  // The server secret (sealed passwords for authmd5, lookup tags): the environment's, else the
  // state folder's, else a new one stored there. Before the migrations, which seal with it.
  const secretKey = resolveSecretKey(ctx.env, { generate: true });
  const db = await ctx.database();
  const config = new ConfigRepo(db);
  const users = new UsersRepo(db);
  const simPort = portOf(ctx, 'smsc-sim', 9090);
  // --smpp: the simulator also runs its SMPP server (SMSC_SIM_SMPP_PORT, default 2775) and the
  // demo gateway is an SMPP one pointing at it.
  const smppPort = values.smpp ? portOf(ctx, 'smsc-sim-smpp', 2775) : undefined;
  let apiKey = await config.get('apiv2key');
  if (!apiKey) {
    apiKey = randomBytes(16).toString('hex');
    await config.set('apiv2key', apiKey);
    await cliAudit(ctx, 'config.set', 'apiv2key', { value: '***', generatedBy: 'up' });
    out('apiv2key was empty: generated one for this server');
  }
  const gateways = await users.listGateways();
  const smsurl = await config.get('smsurl');
  if (gateways.length === 0 && !smsurl && smppPort !== undefined) {
    const gw = await users.create({
      name: 'demo-smpp',
      password: '',
      type: 'smsgw',
      smsurl: `SMPP;server=127.0.0.1;serverport=${smppPort};username=smsfleet;password=smsfleet`,
    });
    await cliAudit(ctx, 'gateway.add', `gateway:${gw.id}`, {
      name: gw.name,
      url: gw.smsurl,
      createdBy: 'up',
    });
    out(`created demo SMS gateway ${gw.id} (demo-smpp) pointing at the built-in SMPP simulator`);
  } else if (smppPort !== undefined) {
    out(
      `gateways exist already and stay as they are; the SMPP simulator listens on 127.0.0.1:${smppPort} (system_id/password smsfleet/smsfleet)`,
    );
  }
  if (gateways.length === 0 && !smsurl && smppPort === undefined) {
    const gw = await users.create({
      name: 'demo-sim',
      password: '',
      type: 'smsgw',
      smsurl: `http://127.0.0.1:${simPort}/send?to=[tonum]&from=[fromnum]&text=[message]&id=[smsid]`,
    });
    await cliAudit(ctx, 'gateway.add', `gateway:${gw.id}`, {
      name: gw.name,
      url: gw.smsurl,
      createdBy: 'up',
    });
    out(`created demo SMS gateway ${gw.id} (demo-sim) pointing at the built-in simulator`);
  }

  fs.mkdirSync(RUN_DIR, { recursive: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const procs: Proc[] = FLEET_PROCESSES.map((p) => {
    const port = p.name === 'smsc-sim' ? simPort : portOf(ctx, p.name, p.defaultPort);
    return {
      name: p.name,
      entry: path.join(REPO_ROOT, p.entry),
      port,
      env: {
        ...ctx.env,
        ...(secretKey ? { SMSFLEET_SECRET_KEY: secretKey } : {}),
        [p.portEnv]: String(port),
        ...(p.name === 'smsc-sim' && smppPort !== undefined ? { SIM_SMPP_PORT: String(smppPort) } : {}),
        ...(p.name === 'sip-gateway'
          ? { SIP_API_URL: `http://127.0.0.1:${portOf(ctx, 'api-gateway', 8084)}/mvapireq/` }
          : {}),
      },
      restarts: 0,
    };
  });
  // Extra node flags for every service (e.g. --max-old-space-size=4096, --cpu-prof).
  const nodeArgs = (ctx.env.SMSFLEET_NODE_ARGS ?? '').split(' ').filter(Boolean);
  let stopping = false;
  const start = (p: Proc) => {
    const log = fs.openSync(path.join(LOG_DIR, `${p.name}.log`), 'a');
    const child = spawn(process.execPath, [...nodeArgs, p.entry], {
      env: p.env,
      stdio: ['ignore', log, log],
      detached: Boolean(values.detach),
    });
    fs.closeSync(log);
    p.child = child;
    fs.writeFileSync(path.join(RUN_DIR, `${p.name}.pid`), String(child.pid));
    if (values.detach) {
      child.unref();
      return;
    }
    child.on('exit', (code, signal) => {
      if (stopping) return;
      p.restarts++;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(p.restarts, 5));
      out(
        `${p.name} exited (${signal ?? code}); restarting in ${delay} ms (see ${path.join(LOG_DIR, `${p.name}.log`)})`,
      );
      setTimeout(() => !stopping && start(p), delay);
    });
  };
  for (const p of procs) start(p);
  for (const p of procs) {
    const ok = await waitReady(
      `http://127.0.0.1:${p.port}/${p.name === 'smsc-sim' ? 'healthz' : 'readyz'}`,
      60_000,
    );
    if (!ok) {
      for (const q of procs) q.child?.kill('SIGTERM');
      throw new CliError(`${p.name} did not become ready; see ${path.join(LOG_DIR, `${p.name}.log`)}`, 1);
    }
  }
  const api = procs.find((p) => p.name === 'api-gateway')!;
  out('');
  out('smsfleet is up:');
  for (const p of procs)
    out(
      `  ${p.name.padEnd(12)} http://127.0.0.1:${p.port}  (pid ${p.child?.pid}, log ${path.relative(process.cwd(), path.join(LOG_DIR, `${p.name}.log`))})`,
    );
  out('');
  out('Send a message:');
  out(
    `  curl 'http://127.0.0.1:${api.port}/mvapireq/?apientry=asendsms&authkey=${apiKey}&anum=1000&bnum=36201234567&message=Hello+from+smsfleet'`,
  );
  out('Then see it at the simulator and in the CDRs:');
  out(
    smppPort !== undefined
      ? `  curl 'http://127.0.0.1:${simPort}/_sim/smpp/messages?limit=5'   (SMPP simulator on port ${smppPort})`
      : `  curl 'http://127.0.0.1:${simPort}/_sim/messages?limit=5'`,
  );
  out('  ./smsfleet cdr list');
  out(
    `SIP MESSAGE to SMS: sip:<number>@127.0.0.1:${ctx.env.SIP_PORT ?? '5060'} (UDP/TCP, digest auth with a user's name and password)`,
  );
  if (values.detach) {
    out('');
    out('Running in the background; stop with ./smsfleet down');
    return;
  }
  out('');
  out('Press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      out('stopping...');
      let left = procs.length;
      for (const p of procs) {
        const c = p.child;
        if (!c || c.exitCode !== null) {
          if (--left === 0) resolve();
          continue;
        }
        c.once('exit', () => {
          fs.rmSync(path.join(RUN_DIR, `${p.name}.pid`), { force: true });
          if (--left === 0) resolve();
        });
        c.kill('SIGTERM');
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function downCommand(out: Out): Promise<void> {
  const procs = pidFiles();
  if (procs.length === 0) {
    out('the fleet is not running');
    return;
  }
  // Stop the front first so nothing new comes in, the simulator last.
  const order = ['api-gateway', 'dispatcher', 'verifier', 'billing', 'smsc-sim'];
  procs.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  for (const p of procs) {
    if (alive(p.pid)) {
      process.kill(p.pid, 'SIGTERM');
      const until = Date.now() + 20_000;
      while (alive(p.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
      out(`stopped ${p.name} (${p.pid})`);
    }
    fs.rmSync(path.join(RUN_DIR, `${p.name}.pid`), { force: true });
  }
}
