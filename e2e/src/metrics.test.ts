import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Fleet, waitFor, type ServiceName } from './fleet.js';

/** Sum of a metric's samples whose labels contain every `labels` pair (all samples without labels). */
function sample(text: string, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== metric) continue;
    const l = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

describe('Prometheus /metrics after a run', () => {
  const fleet = new Fleet({
    config: { smsprice: '0.01' },
    only: ['smsc-sim', 'api-gateway', 'dispatcher', 'verifier', 'billing'],
    readyTimeoutMs: 120_000,
  });
  beforeAll(() => fleet.start(), 180_000);
  afterAll(() => fleet.stop(), 60_000);

  test('every service counts exactly the messages sent, with bounded labels', async () => {
    // 1200 messages: 1000 GSM7 (1 segment) + 200 UCS2 of 2 segments, in bulk requests.
    const send = async (count: number, offset: number, message: string) => {
      const to = Array.from({ length: count }, (_, k) => `3640${String(offset + k).padStart(7, '0')}`);
      const { body } = await fleet.mizu(
        { apientry: 'asendsms', authkey: fleet.apiKey },
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ bnum: to.join(','), message }).toString(),
        },
      );
      expect(body).toMatch(/^OK /);
    };
    await send(1000, 0, 'metrics run');
    await send(200, 1000, 'ő'.repeat(71));
    const total = 1200;
    await waitFor(
      'every CDR',
      async () => ((await fleet.cdrCount()) === total ? true : undefined),
      120_000,
      250,
    );

    const scrape = async (name: ServiceName) => (await fetch(`${fleet.url(name)}/metrics`)).text();
    const gw = { gateway: String(fleet.gatewayId) };
    // The last figures are written when the batches finish; scrape until they settle.
    const texts = await waitFor(
      'metrics to settle',
      async () => {
        const t = {
          api: await scrape('api-gateway'),
          disp: await scrape('dispatcher'),
          ver: await scrape('verifier'),
          bill: await scrape('billing'),
        };
        return sample(t.bill, 'smsfleet_cdrs_written_total') === total &&
          sample(t.ver, 'smsfleet_messages_final_by_gateway_total', gw) === total &&
          // Fleet-wide Redis counters: written by each process within a second.
          sample(t.disp, 'smsfleet_queue_messages_pending', gw) === 0
          ? t
          : undefined;
      },
      30_000,
      250,
    );

    expect(sample(texts.api, 'smsfleet_messages_accepted_total', gw)).toBe(total);
    expect(sample(texts.api, 'smsfleet_segments_accepted_total', gw)).toBe(1000 + 200 * 2);
    expect(sample(texts.disp, 'smsfleet_messages_submitted_total', { ...gw, state: 'submitted' })).toBe(
      total,
    );
    expect(sample(texts.disp, 'smsfleet_messages_submitted_total', { ...gw, state: 'failed' })).toBe(0);
    expect(sample(texts.disp, 'smsfleet_segments_submitted_total', gw)).toBe(1400);
    expect(sample(texts.disp, 'smsfleet_provider_latency_seconds_count', gw)).toBe(total);
    expect(sample(texts.disp, 'smsfleet_retries_total', gw)).toBe(0);
    expect(sample(texts.ver, 'smsfleet_messages_final_by_gateway_total', { ...gw, state: 'unknown' })).toBe(
      total,
    );
    expect(sample(texts.ver, 'smsfleet_end_to_end_latency_seconds_count', gw)).toBe(total);
    expect(sample(texts.bill, 'smsfleet_cdrs_written_total')).toBe(total);
    expect(sample(texts.bill, 'smsfleet_billing_oldest_unbilled_seconds')).toBe(0);
    // Queue depth from BullMQ: drained, and nothing failed.
    for (const state of ['waiting', 'delayed', 'active', 'failed'])
      expect(texts.disp).toMatch(
        new RegExp(`smsfleet_queue_jobs\\{[^}]*gateway="${fleet.gatewayId}"[^}]*state="${state}"[^}]*\\} 0`),
      );
    expect(sample(texts.disp, 'smsfleet_queue_messages_pending', gw)).toBe(0);

    // Labels stay bounded: no number or message id ever becomes a label value.
    for (const t of Object.values(texts)) {
      expect(t).not.toMatch(/3640\d{7}/);
      expect(t).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    }
  });
});
