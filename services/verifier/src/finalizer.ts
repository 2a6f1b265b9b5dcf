import type { SmsEvent } from '@smsfleet/core';

/**
 * Turns dispatch transitions into final ones when nothing more will be learnt about a message:
 * no verify URL and no receipts are configured, so the submit result is final (`unknown` after a
 * successful submit, as in design.md), and a failure before submit is `failed`.
 */
export function finalizeImmediately(events: SmsEvent[], now = Date.now()): SmsEvent[] {
  const out: SmsEvent[] = [];
  for (const e of events) {
    if (e.state === 'submitted') {
      out.push({
        ...e,
        state: 'unknown',
        at: now,
        reason: e.reason ?? 'submitted, no verification configured',
      });
    } else if (e.state === 'failed') {
      out.push({ ...e, at: e.at });
    }
  }
  return out;
}

/** A stable id for the final batch derived from its messages, for JetStream de-duplication. */
export function finalBatchId(events: SmsEvent[]): string {
  const first = events[0]?.smsid ?? '';
  const last = events[events.length - 1]?.smsid ?? '';
  return `final:${first}:${last}:${events.length}`;
}
