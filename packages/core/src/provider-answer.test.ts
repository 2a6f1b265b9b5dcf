import { describe, expect, it } from 'vitest';
import { classifyHttpAnswer, extractProviderId, type HttpAnswerInput } from './provider-answer.js';

type Expect = { ok: boolean; permanent: boolean; id?: string; reason?: RegExp };

const cases: Array<[string, HttpAnswerInput, Expect]> = [
  // Configured strings
  [
    'fail string wins',
    { status: 200, body: 'OK but REJECTED', failString: 'REJECTED', successString: 'OK' },
    { ok: false, permanent: true, reason: /fail string/ },
  ],
  [
    'success string present',
    { status: 200, body: 'result=SENT id=77', successString: 'SENT' },
    { ok: true, permanent: false },
  ],
  [
    'success string present wins over 500',
    { status: 500, body: 'SENT', successString: 'SENT' },
    { ok: true, permanent: false },
  ],
  [
    'success string missing',
    { status: 200, body: '{"status":"ok"}', successString: 'SENT' },
    { ok: false, permanent: true, reason: /success string missing/ },
  ],
  [
    'success string missing on 503 stays temporary',
    { status: 503, body: 'down', successString: 'SENT' },
    { ok: false, permanent: false },
  ],
  [
    'success string is case-sensitive',
    { status: 200, body: 'invalid token', successString: 'OK' },
    { ok: false, permanent: true },
  ],
  [
    'fail string absent, no success string: guess',
    { status: 200, body: 'OK 123', failString: 'ERR' },
    { ok: true, permanent: false, id: '123' },
  ],
  [
    'success string with id regex',
    { status: 200, body: 'SENT ref=ab12', successString: 'SENT', idRegex: 'ref=(\\w+)' },
    { ok: true, permanent: false, id: 'ab12' },
  ],

  // HTTP status
  [
    '500',
    { status: 500, body: 'Internal Server Error' },
    { ok: false, permanent: false, reason: /^HTTP 500: Internal Server Error$/ },
  ],
  ['502 empty', { status: 502, body: '' }, { ok: false, permanent: false, reason: /^HTTP 502$/ }],
  ['408', { status: 408, body: '' }, { ok: false, permanent: false }],
  ['429', { status: 429, body: '{"error":"Too Many Requests"}' }, { ok: false, permanent: false }],
  [
    '400 Twilio',
    {
      status: 400,
      body: '{"code":21211,"message":"The \'To\' number +1555 is not a valid phone number.","status":400}',
    },
    { ok: false, permanent: true, reason: /^HTTP 400:/ },
  ],
  ['401', { status: 401, body: 'Unauthorized' }, { ok: false, permanent: true }],
  [
    '402 no credit',
    { status: 402, body: '{"error":"insufficient balance"}' },
    { ok: false, permanent: true },
  ],
  ['404', { status: 404, body: '<html><body>Not Found</body></html>' }, { ok: false, permanent: true }],
  ['302 redirect', { status: 302, body: '' }, { ok: false, permanent: true }],
  [
    'Kannel 202',
    { status: 202, body: '0: Accepted for delivery' },
    { ok: true, permanent: false, id: undefined },
  ],
  ['Kannel queued', { status: 202, body: '3: Queued for later delivery' }, { ok: true, permanent: false }],
  [
    'Kannel with id',
    { status: 202, body: '0: Accepted for delivery. ID: 9f1c-22' },
    { ok: true, permanent: false, id: '9f1c-22' },
  ],
  [
    'Kannel 4xx text',
    { status: 403, body: 'Authorization failed for sendsms' },
    { ok: false, permanent: true },
  ],

  // 2xx JSON
  ['empty 200', { status: 200, body: '' }, { ok: true, permanent: false, reason: /empty body/ }],
  ['whitespace 204', { status: 204, body: ' \n' }, { ok: true, permanent: false }],
  [
    'status ok',
    { status: 200, body: '{"status":"ok","messageId":"abc-1"}' },
    { ok: true, permanent: false, id: 'abc-1' },
  ],
  [
    'status OK uppercase, message_id',
    { status: 200, body: '{"status":"OK","message_id":"m1"}' },
    { ok: true, permanent: false, id: 'm1' },
  ],
  [
    'status error',
    { status: 200, body: '{"status":"error","message":"Invalid sender"}' },
    { ok: false, permanent: true, reason: /error: Invalid sender/ },
  ],
  [
    'status error but throttled',
    { status: 200, body: '{"status":"error","message":"Rate limit exceeded, try again"}' },
    { ok: false, permanent: false },
  ],
  [
    'success false',
    { status: 200, body: '{"success":false,"error":"Invalid destination"}' },
    { ok: false, permanent: true, reason: /Invalid destination/ },
  ],
  [
    'success true msgid',
    { status: 200, body: '{"success":true,"msgid":12345}' },
    { ok: true, permanent: false, id: '12345' },
  ],
  [
    'error field',
    { status: 200, body: '{"error":"Number blacklisted"}' },
    { ok: false, permanent: true, reason: /Number blacklisted/ },
  ],
  [
    'error object',
    { status: 200, body: '{"error":{"code":7,"message":"Bad API key"}}' },
    { ok: false, permanent: true, reason: /Bad API key/ },
  ],
  [
    'errors array',
    { status: 200, body: '{"errors":[{"code":"E1","description":"No credit"}]}' },
    { ok: false, permanent: true, reason: /No credit/ },
  ],
  [
    'error null is not an error',
    { status: 200, body: '{"error":null,"id":"x9"}' },
    { ok: true, permanent: false, id: 'x9' },
  ],
  [
    'errors empty array',
    { status: 200, body: '{"errors":[],"status":"queued","msgId":"q1"}' },
    { ok: true, permanent: false, id: 'q1' },
  ],
  ['status 0', { status: 200, body: '{"status":0,"id":42}' }, { ok: true, permanent: false, id: '42' }],
  [
    'status 200 echo',
    { status: 200, body: '{"status":200,"data":{"id":"d-1"}}' },
    { ok: true, permanent: false, id: 'd-1' },
  ],
  [
    'status numeric non-zero',
    { status: 200, body: '{"status":14,"message":"Invalid credentials"}' },
    { ok: false, permanent: true, reason: /status 14 Invalid credentials/ },
  ],
  [
    'Twilio 201 queued',
    {
      status: 201,
      body: '{"account_sid":"AC1","sid":"SM9a8b","status":"queued","error_code":null,"error_message":null}',
    },
    { ok: true, permanent: false, id: 'SM9a8b' },
  ],
  [
    'Vonage ok',
    {
      status: 200,
      body: '{"message-count":"1","messages":[{"to":"447700900000","message-id":"0A0000000123ABCD1","status":"0","remaining-balance":"3.14"}]}',
    },
    { ok: true, permanent: false, id: '0A0000000123ABCD1' },
  ],
  [
    'Vonage error in messages[0]',
    {
      status: 200,
      body: '{"message-count":"1","messages":[{"status":"2","error-text":"Missing to param"}]}',
    },
    { ok: false, permanent: true, reason: /Missing to param/ },
  ],
  [
    'Vonage throttled',
    { status: 200, body: '{"message-count":"1","messages":[{"status":"1","error-text":"Throttled"}]}' },
    { ok: false, permanent: false },
  ],
  [
    'Infobip pending',
    {
      status: 200,
      body: '{"messages":[{"to":"41793026727","status":{"groupId":1,"groupName":"PENDING","id":26,"name":"PENDING_ENROUTE"},"messageId":"2250be2d4219-3af1-78856-aabe-1362af1edfd2"}]}',
    },
    { ok: true, permanent: false, id: '2250be2d4219-3af1-78856-aabe-1362af1edfd2' },
  ],
  [
    'Infobip rejected',
    {
      status: 200,
      body: '{"messages":[{"to":"1","status":{"groupId":5,"groupName":"REJECTED","name":"REJECTED_DESTINATION"},"messageId":"r1"}]}',
    },
    { ok: false, permanent: true, reason: /REJECTED/ },
  ],
  [
    'Clickatell accepted',
    {
      status: 202,
      body: '{"messages":[{"apiMessageId":"1d1f2a3b","accepted":true,"to":"2799900001","errorCode":null,"error":null}],"error":null}',
    },
    { ok: true, permanent: false, id: '1d1f2a3b' },
  ],
  [
    'Clickatell not accepted',
    {
      status: 202,
      body: '{"messages":[{"apiMessageId":"","accepted":false,"to":"x","error":"Invalid destination"}],"error":null}',
    },
    { ok: false, permanent: true, reason: /Invalid destination/ },
  ],
  [
    'Plivo',
    {
      status: 202,
      body: '{"api_id":"e4f0","message":"message(s) queued","message_uuid":["db3ce55a-7f1d-11e1-8ea7-1231380bc196"]}',
    },
    { ok: true, permanent: false, id: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196' },
  ],
  [
    'JSON without any signal',
    { status: 200, body: '{"foo":"bar"}' },
    { ok: true, permanent: false, reason: /no status field/ },
  ],
  [
    'JSON array',
    { status: 200, body: '[{"status":"sent","id":"a1"}]' },
    { ok: true, permanent: false, id: 'a1' },
  ],
  [
    '64-bit id keeps its digits',
    { status: 200, body: '{"status":"ok","id":9007199254740993123}' },
    { ok: true, permanent: false, id: '9007199254740993123' },
  ],
  ['broken JSON falls back to text', { status: 200, body: '{"status":' }, { ok: true, permanent: false }],

  // 2xx text
  ['OK id', { status: 200, body: 'OK 1234567' }, { ok: true, permanent: false, id: '1234567' }],
  ['OK: id', { status: 200, body: 'OK: 5f3a9c\n' }, { ok: true, permanent: false, id: '5f3a9c' }],
  ['OK alone', { status: 200, body: 'OK' }, { ok: true, permanent: false, id: undefined }],
  [
    'Clickatell legacy ID',
    { status: 200, body: 'ID: 2d3c4b5a6e7f8a9b' },
    { ok: true, permanent: false, id: '2d3c4b5a6e7f8a9b' },
  ],
  [
    'ERR',
    { status: 200, body: 'ERR: 001, Authentication failed' },
    { ok: false, permanent: true, reason: /ERR: 001/ },
  ],
  ['ERROR', { status: 200, body: 'ERROR: invalid number' }, { ok: false, permanent: true }],
  ['FAIL', { status: 200, body: 'FAILED' }, { ok: false, permanent: true }],
  [
    'ERROR temporary',
    { status: 200, body: 'ERROR: service temporarily unavailable' },
    { ok: false, permanent: false },
  ],
  [
    'BulkSMS in progress',
    { status: 200, body: '0|IN_PROGRESS|1234567890' },
    { ok: true, permanent: false, id: '1234567890' },
  ],
  ['BulkSMS error', { status: 200, body: '23|invalid credentials|' }, { ok: false, permanent: true }],
  [
    'plain text with failure word',
    { status: 200, body: 'Invalid username or password' },
    { ok: false, permanent: true },
  ],
  ['plain text otherwise ok', { status: 200, body: 'Message submitted' }, { ok: true, permanent: false }],
  [
    'text with id regex',
    { status: 200, body: 'Message submitted, ref #A-77', idRegex: 'ref #(\\S+)' },
    { ok: true, permanent: false, id: 'A-77' },
  ],
];

describe('classifyHttpAnswer', () => {
  it.each(cases)('%s', (_name, input, expected) => {
    const r = classifyHttpAnswer(input);
    expect({ ok: r.ok, permanent: r.permanent }).toEqual({ ok: expected.ok, permanent: expected.permanent });
    if ('id' in expected) expect(r.providerMessageId).toBe(expected.id);
    if (expected.reason) expect(r.reason).toMatch(expected.reason);
    expect(r.reason.length).toBeLessThanOrEqual(200);
    expect(r.reason).not.toMatch(/[\r\n]/);
    if (!r.ok) expect(r.providerMessageId).toBeUndefined();
  });

  it('keeps reason short and single-line for huge bodies', () => {
    const r = classifyHttpAnswer({ status: 500, body: `<html>\n${'x'.repeat(5000)}\n</html>` });
    expect(r.reason.length).toBe(200);
    expect(r.reason).toMatch(/^HTTP 500: <html> x+…$/);
  });
});

describe('extractProviderId', () => {
  it.each<[string, string, string | undefined, string | undefined]>([
    ['regex capture group wins', '{"id":"json-id","ref":"R-1"}', '"ref":"([^"]+)"', 'R-1'],
    ['regex without group uses whole match', 'msg 998877 queued', '\\d{6}', '998877'],
    ['regex miss falls back to guessing', '{"messageId":"m-5"}', 'nomatch=(\\d+)', 'm-5'],
    ['nested data.id', '{"data":{"id":"d9"}}', undefined, 'd9'],
    ['nested messages[0].id', '{"messages":[{"id":"n1"}]}', undefined, 'n1'],
    ['root wins over nested', '{"msgId":"root","messages":[{"id":"n1"}]}', undefined, 'root'],
    ['text OK id', 'OK 42', undefined, '42'],
    ['Kannel ID', '0: Accepted for delivery ID: k-1', undefined, 'k-1'],
    ['nothing', 'Thanks', undefined, undefined],
    ['id with spaces is ignored', '{"id":"a b"}', undefined, undefined],
  ])('%s', (_name, body, regex, id) => expect(extractProviderId(body, regex)).toBe(id));

  it('throws on an invalid configured regex', () => {
    expect(() => extractProviderId('x', '(')).toThrow(SyntaxError);
  });
});
