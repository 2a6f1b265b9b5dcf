import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { Redis } from '@smsfleet/queue';
import { EventBus } from '@smsfleet/bus';
import { dropDatabase } from '@smsfleet/db';
import { REPO_ROOT, freePort, freeSipPort, waitFor } from './fleet.js';

const run = promisify(execFile);

describe('./smsfleet up, the printed curl, ./smsfleet cdr list, ./smsfleet down', () => {
  const id = randomBytes(4).toString('hex');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'smsfleet-up-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    DATABASE_URL: `mysql://root@127.0.0.1:3306/smsfleet_up_${id}`,
    QUEUE_PREFIX: `up-${id}`,
    EVENT_PREFIX: `up${id}`,
    SMSFLEET_HOME: home,
  };
  afterAll(async () => {
    await run(path.join(REPO_ROOT, 'smsfleet'), ['down'], { env, cwd: REPO_ROOT }).catch(() => undefined);
    await dropDatabase(env.DATABASE_URL!).catch(() => undefined);
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const keys = await redis.keys(`${env.QUEUE_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    const bus = await EventBus.connect({
      url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
      prefix: env.EVENT_PREFIX,
    });
    await bus.deleteStream();
    await bus.close();
  }, 60_000);

  test('a new user follows the quick start', async () => {
    for (const name of [
      'API_GATEWAY',
      'DISPATCHER',
      'VERIFIER',
      'BILLING',
      'INBOUND',
      'SIP_GATEWAY',
      'SMSC_SIM',
    ])
      env[`${name}_PORT`] = String(await freePort());
    env.SIP_PORT = String(await freeSipPort());
    const up = await run(path.join(REPO_ROOT, 'smsfleet'), ['up', '--detach'], {
      env,
      cwd: REPO_ROOT,
      timeout: 240_000,
    });
    expect(up.stdout).toContain('smsfleet is up');
    expect(up.stdout).toContain('created demo SMS gateway');
    const curl = /curl '([^']+apientry=asendsms[^']+)'/.exec(up.stdout)?.[1];
    expect(curl).toBeDefined();
    expect(curl).toContain(`127.0.0.1:${env.API_GATEWAY_PORT}`);

    // The printed command, exactly as printed.
    const sent = await run('curl', ['-s', curl!], { env });
    expect(sent.stdout).toMatch(/^OK [0-9a-f-]{36}$/);
    const smsid = sent.stdout.slice(3);
    const received = await waitFor('the simulator got it', async () => {
      const r = (await (
        await fetch(`http://127.0.0.1:${env.SMSC_SIM_PORT}/_sim/messages?smsid=${smsid}`)
      ).json()) as { text: string }[];
      return r.length ? r : undefined;
    });
    expect(received[0]!.text).toBe('Hello from smsfleet');
    const cdr = await waitFor('cdr list shows it', async () => {
      const r = await run(path.join(REPO_ROOT, 'smsfleet'), ['cdr', 'list'], { env, cwd: REPO_ROOT });
      return r.stdout.includes(smsid) ? r.stdout : undefined;
    });
    expect(cdr).toMatch(/\tSMS\t/);

    const again = await run(path.join(REPO_ROOT, 'smsfleet'), ['up', '--detach'], {
      env,
      cwd: REPO_ROOT,
    }).catch((e: { code: number; stderr: string }) => e);
    expect((again as { code: number }).code).not.toBe(0);
    expect((again as { stderr: string }).stderr).toMatch(/already running/);

    const down = await run(path.join(REPO_ROOT, 'smsfleet'), ['down'], {
      env,
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    expect(down.stdout).toMatch(/stopped api-gateway/);
    await expect(fetch(`http://127.0.0.1:${env.API_GATEWAY_PORT}/healthz`)).rejects.toThrow();
  });
});
