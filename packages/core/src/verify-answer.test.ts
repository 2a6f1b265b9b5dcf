import { describe, expect, test } from 'vitest';
import { classifyVerifyAnswer } from './verify-answer.js';

describe('classifyVerifyAnswer', () => {
  test.each([
    [200, '{"status":"delivered"}', 'delivered'],
    [200, '{"status":"DELIVRD"}', 'delivered'],
    [200, '{"state":"failed","error":"absent subscriber"}', 'undelivered'],
    [200, '{"status":"pending"}', 'pending'],
    [200, '{"messages":[{"status":"EXPIRED"}]}', 'expired'],
    [200, 'id:123 stat:UNDELIV err:001', 'undelivered'],
    [200, 'DELIVERED', 'delivered'],
    [200, 'Message queued', 'pending'],
    [200, 'REJECTED by operator', 'rejected'],
    [503, 'busy', 'pending'],
    [429, '', 'pending'],
    [404, 'no such message', 'unknown'],
    [200, '', 'unknown'],
    [200, 'hello', 'unknown'],
  ])('%i %j -> %s', (status, body, want) => expect(classifyVerifyAnswer(status, body)).toBe(want));
});
