import { describe, expect, test } from 'vitest';
import { formatHttpRun, fuzzHttp } from '@smsfleet/fuzz';

/**
 * The HTTP fuzzer in its CI size: a few thousand malformed and hostile requests against the Mizu
 * API, /v1, the MO callback and the DLR endpoint of a fresh fleet (`./smsfleet fuzz http` runs
 * 100,000). Every answer is a clear refusal (no 5xx), nothing is queued, every service survives.
 */
const COUNT = Number(process.env['FUZZ_HTTP_COUNT'] ?? 3000);

describe('HTTP fuzzer', () => {
  test(`${COUNT} hostile requests: 0 failures, nothing queued, every service alive`, async () => {
    const run = await fuzzHttp({ count: COUNT, concurrency: 16, seed: `ci-${Date.now()}` });
    const lines = formatHttpRun(run);
    console.log(lines.join('\n'));
    expect(run.report.requests).toBe(COUNT);
    // Credentials that pass authentication are in a good share of the requests (each poisoned).
    expect(run.report.authed).toBeGreaterThan(COUNT / 5);
    expect(run.report.samples).toEqual([]);
    expect(run.report.failures).toBe(0);
    expect(run.report.byStatus['500'] ?? 0).toBe(0);
    expect(run.changed).toEqual([]);
    expect(run.dead).toEqual([]);
    expect(run.ok).toBe(true);
  }, 600_000);
});
