import { afterEach, describe, expect, it } from 'vitest';
import { defaultSnapshot } from '@smsfleet/config';
import { startSmppSim, type SmppSim } from '@smsfleet/smsc-sim';
import { testSmppGateway } from './gateway-test-smpp.js';

let sim: SmppSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('smsfleet gateway test ID for an SMPP gateway', () => {
  it('binds, sends, prints each PDU with the password masked, unbinds', async () => {
    sim = await startSmppSim({ systemId: 'esme', password: 'pw123' });
    const lines: string[] = [];
    await testSmppGateway(
      {
        id: 5,
        name: 'smsc',
        url: `SMPP;server=127.0.0.1;serverport=${sim.port};username=esme;password=pw123;bind=transceiver`,
      },
      defaultSnapshot(),
      { to: '36201234567', text: 'Hello € 😀', from: '1000' },
      (l) => lines.push(l),
    );
    const out = lines.join('\n');
    expect(out).toMatch(/> \[.*\] bind_transceiver seq=1 system_id="esme" password=\*{8}/);
    expect(out).toMatch(/< \[.*\] bind_transceiver_resp seq=1 status=ESME_ROK \(0x00000000\)/);
    expect(out).toMatch(/> \[.*\] submit_sm seq=2 .*destination_addr="36201234567".*data_coding=8/);
    expect(out).toMatch(/< \[.*\] submit_sm_resp seq=2 status=ESME_ROK \(0x00000000\) message_id="\w+"/);
    expect(out).toMatch(/receipt: id \w+ stat DELIVRD/);
    expect(out).toMatch(/> \[.*\] unbind seq=\d+/);
    expect(out).toMatch(/result: submitted, 1 segment\(s\), message id\(s\) \w+/);
    expect(out).not.toContain('pw123');
  });

  it('fails with the bind error for a wrong password, and a clear error for a bad URL', async () => {
    sim = await startSmppSim({ systemId: 'esme', password: 'right' });
    const lines: string[] = [];
    await expect(
      testSmppGateway(
        {
          id: 5,
          name: 'smsc',
          url: `SMPP;server=127.0.0.1;serverport=${sim.port};username=esme;password=wrong`,
        },
        defaultSnapshot(),
        { to: '36201234567', text: 'x', from: '' },
        (l) => lines.push(l),
        { timeoutMs: 1000 },
      ),
    ).rejects.toThrow(/temporary failure: .*ESME_RINVPASWD/);
    expect(lines.join('\n')).toMatch(/bind_transmitter_resp seq=1 status=ESME_RINVPASWD/);
    await expect(
      testSmppGateway(
        { id: 5, name: 'x', url: 'SMPP;server=h;username=u;window=0' },
        defaultSnapshot(),
        { to: '1', text: 'x', from: '' },
        () => undefined,
      ),
    ).rejects.toThrow(/window must be between 1 and 1000/);
  });
});
