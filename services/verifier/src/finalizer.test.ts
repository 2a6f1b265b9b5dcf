import { describe, expect, test } from 'vitest';
import type { OutboundSms, SmsEvent } from '@smsfleet/core';
import { finalBatchId } from './finalizer.js';

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

describe('finalBatchId', () => {
  test('depends on the messages only', () => {
    const e = (smsid: string): SmsEvent => ({ smsid, state: 'unknown', at: 1, msg });
    expect(finalBatchId([e('x'), e('y')])).toBe(finalBatchId([e('x'), e('y')]));
    expect(finalBatchId([e('x'), e('y')])).not.toBe(finalBatchId([e('x'), e('z')]));
  });
});
