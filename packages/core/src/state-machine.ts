import { FINAL_STATES, type SmsState } from './message.js';

/** Order of the non-final states: a message only moves forward. */
const RANK: Record<SmsState, number> = {
  accepted: 0,
  submitted: 1,
  delivered: 2,
  undelivered: 2,
  expired: 2,
  rejected: 2,
  failed: 2,
  unknown: 2,
};

export type TransitionVerdict = 'apply' | 'duplicate' | 'stale' | 'invalid';

/**
 * The message lifecycle of design.md: `accepted → submitted → delivered | undelivered | expired |
 * rejected | unknown`, and `failed` from any state before submit. A final state never moves again;
 * late or duplicate events are reported, never applied.
 */
export function judgeTransition(current: SmsState | undefined, next: SmsState): TransitionVerdict {
  if (current === undefined) return 'apply';
  if (current === next) return 'duplicate';
  if (FINAL_STATES.has(current)) return 'stale';
  if (next === 'failed' && current === 'submitted') return 'invalid';
  if (next !== 'failed' && FINAL_STATES.has(next) && next !== 'unknown' && current === 'accepted') {
    // A receipt or verify answer for a message whose submit we have not seen yet: the caller holds
    // it until the submit arrives.
    return 'invalid';
  }
  return RANK[next] > RANK[current] || (RANK[next] === RANK[current] && next !== current) ? 'apply' : 'stale';
}

/**
 * The final state of a multipart message from its parts: delivered only when every part is; the
 * first failure (in part order) wins otherwise; undefined while a part is still open.
 */
export function aggregatePartStates(parts: readonly (SmsState | undefined)[]): SmsState | undefined {
  let allDelivered = parts.length > 0;
  for (const p of parts) {
    if (p === undefined || !FINAL_STATES.has(p)) {
      allDelivered = false;
      continue;
    }
    if (p !== 'delivered') return p;
  }
  if (allDelivered) return 'delivered';
  return undefined;
}
