import { describe, expect, it } from 'vitest';
import { BadRequestError, NoCreditError, TemporaryError } from '@smsfleet/core';
import { SendError } from '../send-service.js';
import { PROBLEMS, ProblemError, toProblem } from './problem.js';

describe('the /v1 error table', () => {
  it.each([
    [
      new ProblemError('VALIDATION', 'bad', [{ pointer: '/to', detail: 'x' }]),
      422,
      '/v1/problems/validation',
    ],
    [new ProblemError('UNAUTHORIZED', 'no key'), 401, '/v1/problems/unauthorized'],
    [new SendError('NO_CREDIT', 'not enough credit'), 402, '/v1/problems/no-credit'],
    [new SendError('NOT_ALLOWED', 'user is disabled'), 403, '/v1/problems/forbidden'],
    [new SendError('BAD_REQUEST', 'empty message'), 422, '/v1/problems/validation'],
    [new SendError('UNAVAILABLE', 'try again'), 503, '/v1/problems/unavailable'],
    [new SendError('NO_GATEWAY', 'no gateway'), 503, '/v1/problems/unavailable'],
    [new NoCreditError('poor'), 402, '/v1/problems/no-credit'],
    [new BadRequestError('bad'), 422, '/v1/problems/validation'],
    [new TemporaryError('later'), 503, '/v1/problems/unavailable'],
    [
      Object.assign(new Error('Unexpected token'), { status: 400, type: 'entity.parse.failed' }),
      400,
      '/v1/problems/bad-request',
    ],
    [
      Object.assign(new Error('too large'), { status: 413, type: 'entity.too.large' }),
      413,
      '/v1/problems/too-large',
    ],
    // The router's error for a path parameter that is no valid percent-encoding (/v1/messages/%E0).
    [
      Object.assign(new URIError("Failed to decode param '%E0'"), { status: 400 }),
      400,
      '/v1/problems/bad-request',
    ],
    [
      Object.assign(new Error('unsupported charset "BOGUS"'), { status: 415 }),
      415,
      '/v1/problems/unsupported-media-type',
    ],
    [new Error('db exploded: password=secret'), 500, '/v1/problems/internal'],
  ])('%s -> %i', (err, status, type) => {
    const p = toProblem(err);
    expect(p.status).toBe(status);
    expect(p.type).toBe(type);
    expect(p.title).toBe(
      Object.values(PROBLEMS).find((x) => x.status === status && p.title === x.title)?.title,
    );
  });

  it('never leaks the text of an internal error', () => {
    expect(toProblem(new Error('db exploded: password=secret')).detail).toBe('internal error');
  });

  it('keeps the listed field errors', () => {
    const p = toProblem(
      new ProblemError('VALIDATION', '2 invalid', [{ pointer: '/recipients/3/to', detail: 'bad' }]),
    );
    expect(p.errors).toEqual([{ pointer: '/recipients/3/to', detail: 'bad' }]);
  });
});
