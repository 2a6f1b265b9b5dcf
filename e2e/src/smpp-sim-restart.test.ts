import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './cli.js';
import { Fleet, freePort, waitFor } from './fleet.js';

/**
 * The SMSC dies in the middle of a 5,000-message batch sent over SMPP and comes back on the same
 * port: the binds reconnect with backoff, what was in flight on the dropped binds is resent, and
 * every message ends submitted with its provider id (one CDR each).
 */
const TOTAL = 5000;

describe('SMPP: the simulator is killed mid-batch and restarted', () => {
  let smppPort = 0;
  let fleet: Fleet;

  beforeAll(async () => {
    smppPort = await freePort();
    fleet = new Fleet({
      env: { 'smsc-sim': { SIM_SMPP_PORT: String(smppPort) } },
      config: {
        smsrouting: '0',
        smsurl: `SMPP;server=127.0.0.1;serverport=${smppPort};username=smsfleet;password=smsfleet;window=10;binds=2;timeout=5`,
      },
    });
    await fleet.start();
  }, 120_000);
  afterAll(() => fleet.stop(), 60_000);

  const smpp = async <T>(path: string, init?: RequestInit): Promise<T> =>
    (await (await fetch(`${fleet.url('smsc-sim')}/_sim/smpp${path}`, init)).json()) as T;
  const slow = () =>
    smpp('/behaviour', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Slow answers keep the batch running long enough to kill the SMSC in the middle.
      body: JSON.stringify({ responseDelayMs: 20 }),
    });

  test('all 5,000 end submitted', async () => {
    await waitFor(
      'the dispatcher bound',
      async () => (await smpp<{ binds: number }>('/stats')).binds >= 1,
      30_000,
    );
    await slow();
    const accepted: string[] = [];
    for (let i = 0; i < TOTAL / 500; i++) {
      const numbers = Array.from({ length: 500 }, (_, k) => `3640${String(i * 500 + k).padStart(7, '0')}`);
      const res = await fetch(`${fleet.url('api-gateway')}/mvapireq/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          apientry: 'asendsms',
          authkey: fleet.apiKey,
          bnum: numbers.join(','),
          message: `smpp restart ${i}`,
        }).toString(),
      });
      const body = await res.text();
      expect(body).toMatch(/^OK /);
      accepted.push(...body.slice(3).split(','));
    }
    expect(new Set(accepted).size).toBe(TOTAL);

    const before = await waitFor(
      'a fifth of the batch at the SMSC',
      async () => {
        const s = await smpp<{ submitAccepted: number }>('/stats');
        return s.submitAccepted >= TOTAL / 5 ? s.submitAccepted : undefined;
      },
      120_000,
      20,
    );
    await fleet.kill('smsc-sim', 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    await fleet.startService('smsc-sim');

    await waitFor('a CDR for every message', async () => (await fleet.cdrCount()) >= TOTAL, 240_000, 250);
    const rows: Array<{ state: string; provider_msgid: string | null; disconnect_reason: string }> =
      await fleet.db('cdr').select('state', 'provider_msgid', 'disconnect_reason');
    const after = await smpp<{ submitAccepted: number; submitReceived: number }>('/stats');
    console.log(
      `SMSC killed after ${before} accepted; the restarted SMSC accepted ${after.submitAccepted} (received ${after.submitReceived}); CDR states: ${JSON.stringify(
        rows.reduce<Record<string, number>>((a, r) => ({ ...a, [r.state]: (a[r.state] ?? 0) + 1 }), {}),
      )}`,
    );
    expect(rows).toHaveLength(TOTAL);
    const failed = rows.filter((r) => r.state === 'failed' || r.state === 'rejected');
    expect(failed.map((r) => r.disconnect_reason).slice(0, 5)).toEqual([]);
    expect(rows.every((r) => r.provider_msgid)).toBe(true);
    // Each message has its own SMSC id (ids are unique across the SMSC's two lives).
    expect(new Set(rows.map((r) => r.provider_msgid)).size).toBe(TOTAL);
    // The restarted SMSC got the rest of the batch (what the first one had not accepted).
    expect(after.submitAccepted).toBeGreaterThan(0);
    expect(after.submitAccepted).toBeLessThan(TOTAL);
  }, 300_000);

  test('the CLI refuses a malformed SMPP gateway and tests a good one, printing each PDU', async () => {
    const env = fleet.infraEnv;
    const bad = await runCli(
      ['gateway', 'add', '--name', 'badsmpp', '--url', `SMPP;server=127.0.0.1;serverport=99999;username=u`],
      env,
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr + bad.stdout).toMatch(/serverport must be between 1 and 65535/);
    const unknown = await runCli(
      ['gateway', 'add', '--name', 'badsmpp2', '--url', 'SMPP;server=h;username=u;colour=red'],
      env,
    );
    expect(unknown.stderr + unknown.stdout).toMatch(/unknown SMPP parameter "colour"/);
    const badCfg = await runCli(['config', 'set', 'smpp_allparameters', 'SMPP;SourceTON=9'], env);
    expect(badCfg.stderr + badCfg.stdout).toMatch(/SourceTON must be between 0 and 6/);

    const add = await runCli(
      [
        'gateway',
        'add',
        '--name',
        'smppgw',
        '--url',
        `SMPP;server=127.0.0.1;serverport=${smppPort};username=smsfleet;password=smsfleet;bind=transceiver`,
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    const id = /^gateway (\d+) /m.exec(add.stdout)?.[1];
    const test = await runCli(
      ['gateway', 'test', String(id), '--to', '36209998877', '--text', 'Hello € 😀 over SMPP'],
      env,
    );
    expect(test.code, test.stderr + test.stdout).toBe(0);
    expect(test.stdout).toMatch(/> \[.*\] bind_transceiver seq=1 .*password=\*{8}/);
    expect(test.stdout).toMatch(/< \[.*\] bind_transceiver_resp seq=1 status=ESME_ROK/);
    expect(test.stdout).toMatch(/> \[.*\] submit_sm seq=\d+ .*destination_addr="36209998877".*data_coding=8/);
    expect(test.stdout).toMatch(
      /< \[.*\] submit_sm_resp seq=\d+ status=ESME_ROK \(0x00000000\) message_id="\w+"/,
    );
    expect(test.stdout).toMatch(/> \[.*\] unbind seq=/);
    expect(test.stdout).toMatch(/result: submitted, 1 segment\(s\), message id\(s\) \w+/);
    expect(test.stdout).not.toContain('password="smsfleet"');
  }, 120_000);
});
