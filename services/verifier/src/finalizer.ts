import type { SmsEvent } from '@smsfleet/core';

/** A stable id for a final batch derived from its messages, for JetStream de-duplication. */
export function finalBatchId(events: SmsEvent[]): string {
  const first = events[0]?.smsid ?? '';
  const last = events[events.length - 1]?.smsid ?? '';
  return `final:${first}:${last}:${events.length}`;
}
