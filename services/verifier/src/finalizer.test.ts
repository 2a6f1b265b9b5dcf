import { describe, expect, test } from 'vitest';
import type { OutboundSms, SmsEvent } from '@smsfleet/core';
import { finalBatchId, finalizeImmediately } from './finalizer.js';

const msg: OutboundSms = {
  smsid: 'a',
  userId: 1,
  gatewayId: 2,
  from: '100',
  to: '200',
  text: 'hi',
  encoding: 'GSM7',
  segments: 1,
  clientIp: '127.0.0.1',
  acceptedAt: 1,
};

describe('finalizeImmediately', () => {
  test.each([
    ['submitted', 'unknown'],
    ['failed', 'failed'],
  ] as const)('%s becomes %s', (from, to) => {
    const e: SmsEvent = { smsid: 'a', state: from, at: 5, msg };
    const [f] = finalizeImmediately([e], 10);
    expect(f?.state).toBe(to);
    expect(f?.smsid).toBe('a');
  });

  test('other states are not finalised here', () => {
    expect(finalizeImmediately([{ smsid: 'a', state: 'accepted', at: 1, msg }])).toEqual([]);
  });

  test('batch id depends on the messages only', () => {
    const e = (smsid: string): SmsEvent => ({ smsid, state: 'unknown', at: 1, msg });
    expect(finalBatchId([e('x'), e('y')])).toBe(finalBatchId([e('x'), e('y')]));
    expect(finalBatchId([e('x'), e('y')])).not.toBe(finalBatchId([e('x'), e('z')]));
  });
});
