import { describe, expect, test } from 'vitest';
import { FUZZ_PDU_KINDS } from '@smsfleet/smsc-sim';
import { formatSmppRun, fuzzSmpp } from '@smsfleet/fuzz';

/**
 * The SMPP fuzzer in its CI size: while 600 messages flow over two transceiver binds, the
 * simulator writes 300 malformed PDUs of every kind to them. Broken framing makes the transport
 * drop the session and bind again; every message still ends with exactly one final state and
 * one CDR, and every service stays up.
 */
describe('SMPP fuzzer', () => {
  test('300 malformed PDUs: sessions re-established, nothing lost or billed twice', async () => {
    const run = await fuzzSmpp({ count: 300, messages: 600, everyMs: 25 });
    console.log(formatSmppRun(run).join('\n'));
    expect(run.fuzzSent).toBeGreaterThanOrEqual(300);
    for (const k of FUZZ_PDU_KINDS) expect(run.fuzzByKind[k] ?? 0).toBeGreaterThan(0);
    // Broken framing drops a session: the transport bound again (2 binds at the start).
    expect(run.binds).toBeGreaterThan(2 + 10);
    expect(run.messages).toBe(600);
    expect(run.lost).toBe(0);
    expect(run.duplicateCdrs).toBe(0);
    expect(run.finals).toBe(600);
    expect(run.dead).toEqual([]);
    expect(run.ok).toBe(true);
  }, 600_000);
});
