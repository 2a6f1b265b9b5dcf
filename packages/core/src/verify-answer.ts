import type { SmsState } from './message.js';
import { receiptState } from './receipt.js';

export type VerifyVerdict = SmsState | 'pending';

const WORDS: [RegExp, VerifyVerdict][] = [
  [/\b(delivrd|delivered|delivery_success|success)\b/i, 'delivered'],
  [/\b(undeliv|undelivered|undeliverable|failed|failure|error)\b/i, 'undelivered'],
  [/\b(expired)\b/i, 'expired'],
  [/\b(rejectd|rejected)\b/i, 'rejected'],
  [/\b(pending|enroute|queued|accepted|acceptd|sent|buffered|submitted|scheduled)\b/i, 'pending'],
];

function fromWord(v: unknown): VerifyVerdict | undefined {
  if (typeof v !== 'string') return undefined;
  const byStat = receiptState(v.toUpperCase());
  if (byStat) return byStat;
  for (const [re, verdict] of WORDS) if (re.test(v)) return verdict;
  return undefined;
}

/**
 * Classifies a provider's answer to a verify request (`smsverifyurl`) into a final state, or
 * `pending` when the provider does not know yet. JSON `status`/`state`/`stat` fields win over the
 * body text; an HTTP error is `pending` (ask again later), an empty answer is `unknown`.
 */
export function classifyVerifyAnswer(status: number, body: string): VerifyVerdict {
  if (status >= 500 || status === 429 || status === 408) return 'pending';
  const text = body.trim();
  if (status >= 400) return 'unknown';
  if (!text) return 'unknown';
  if (text.startsWith('{')) {
    try {
      const obj = JSON.parse(text) as Record<string, unknown>;
      for (const k of ['status', 'state', 'stat', 'deliveryStatus', 'delivery_status', 'dlr_status']) {
        const v = fromWord(obj[k]);
        if (v) return v;
      }
      const nested =
        (obj.messages as Record<string, unknown>[] | undefined)?.[0] ??
        (obj.data as Record<string, unknown> | undefined);
      if (nested && typeof nested === 'object') {
        for (const k of ['status', 'state', 'stat']) {
          const v = fromWord(nested[k]);
          if (v) return v;
        }
      }
    } catch {
      // not JSON after all: read it as text
    }
  }
  const stat = /stat:\s*([A-Za-z]+)/i.exec(text)?.[1];
  return (stat && fromWord(stat)) || fromWord(text) || 'unknown';
}
