import { describe, expect, test } from 'vitest';
import type { SmsState } from './message.js';
import { aggregatePartStates, judgeTransition } from './state-machine.js';

describe('judgeTransition', () => {
  test.each<[SmsState | undefined, SmsState, string]>([
    [undefined, 'accepted', 'apply'],
    ['accepted', 'submitted', 'apply'],
    ['accepted', 'failed', 'apply'],
    ['submitted', 'delivered', 'apply'],
    ['submitted', 'undelivered', 'apply'],
    ['submitted', 'expired', 'apply'],
    ['submitted', 'rejected', 'apply'],
    ['submitted', 'unknown', 'apply'],
    ['submitted', 'submitted', 'duplicate'],
    ['delivered', 'delivered', 'duplicate'],
    ['delivered', 'undelivered', 'stale'],
    ['failed', 'submitted', 'stale'],
    ['unknown', 'delivered', 'stale'],
    ['submitted', 'accepted', 'stale'],
    ['submitted', 'failed', 'invalid'],
    ['accepted', 'delivered', 'invalid'],
  ])('%s -> %s: %s', (from, to, verdict) => {
    expect(judgeTransition(from, to)).toBe(verdict);
  });
});

describe('aggregatePartStates', () => {
  test.each<[(SmsState | undefined)[], SmsState | undefined]>([
    [['delivered', 'delivered', 'delivered'], 'delivered'],
    [['delivered', 'undelivered', 'expired'], 'undelivered'],
    [['expired', 'undelivered'], 'expired'],
    [['delivered', undefined], undefined],
    [['delivered', 'submitted'], undefined],
    [['undelivered', undefined], 'undelivered'],
    [[], undefined],
  ])('%j -> %s', (parts, want) => expect(aggregatePartStates(parts)).toBe(want));
});
