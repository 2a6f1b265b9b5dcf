import { describe, expect, test } from 'vitest';
import {
  cliAuthAllowed,
  parseSmsCommand,
  pinForms,
  pinMatches,
  registerAllowed,
  resolveCall,
  type CommandCandidate,
} from './sms-command.js';

const up = (username: string, password: string) => ({ kind: 'userpass', username, password });
const pin = (p: string) => ({ kind: 'pin', pin: p });
const cli = { kind: 'cli' };

describe('parseSmsCommand: every format of the seed', () => {
  const cases: [text: string, candidates: CommandCandidate[]][] = [
    // general
    [
      'alice secret 3611111 3622222',
      [
        { auth: up('alice', 'secret'), action: { kind: 'general', numbers: ['3611111', '3622222'] } },
      ] as CommandCandidate[],
    ],
    [
      'alice secret 3611111, 3622222',
      [
        { auth: up('alice', 'secret'), action: { kind: 'general', numbers: ['3611111', '3622222'] } },
      ] as CommandCandidate[],
    ],
    [
      'alice secret 3611111',
      [
        { auth: up('alice', 'secret'), action: { kind: 'general', numbers: ['3611111'] } },
      ] as CommandCandidate[],
    ],
    [
      '9876 3622222',
      [{ auth: pin('9876'), action: { kind: 'general', numbers: ['3622222'] } }] as CommandCandidate[],
    ],
    [
      '3622222',
      [
        { auth: cli, action: { kind: 'general', numbers: ['3622222'] } },
        { auth: pin('3622222'), action: { kind: 'general', numbers: [] } },
      ] as CommandCandidate[],
    ],
    ['pin4u', [{ auth: pin('pin4u'), action: { kind: 'general', numbers: [] } }] as CommandCandidate[]],
    // callback
    [
      'b alice secret 3622222',
      [
        { auth: up('alice', 'secret'), action: { kind: 'callback', number: '3622222' } },
      ] as CommandCandidate[],
    ],
    [
      'B 9876 3622222',
      [{ auth: pin('9876'), action: { kind: 'callback', number: '3622222' } }] as CommandCandidate[],
    ],
    [
      'b 3622222',
      [
        { auth: cli, action: { kind: 'callback', number: '3622222' } },
        { auth: pin('3622222'), action: { kind: 'callback' } },
      ] as CommandCandidate[],
    ],
    ['b abc', [{ auth: pin('abc'), action: { kind: 'callback' } }] as CommandCandidate[]],
    ['b', [{ auth: cli, action: { kind: 'callback' } }] as CommandCandidate[]],
    [
      'callback 9876 3622222',
      [{ auth: pin('9876'), action: { kind: 'callback', number: '3622222' } }] as CommandCandidate[],
    ],
    // register
    [
      'n alice secret 3633333',
      [
        { auth: up('alice', 'secret'), action: { kind: 'register', number: '3633333' } },
      ] as CommandCandidate[],
    ],
    [
      'n 9876 3633333',
      [{ auth: pin('9876'), action: { kind: 'register', number: '3633333' } }] as CommandCandidate[],
    ],
    ['n 3633333', [{ auth: cli, action: { kind: 'register', number: '3633333' } }] as CommandCandidate[]],
    // phone to phone
    [
      'p alice secret 3611111 3622222',
      [
        { auth: up('alice', 'secret'), action: { kind: 'p2p', number1: '3611111', number2: '3622222' } },
      ] as CommandCandidate[],
    ],
    [
      'p 9876 3611111 3622222',
      [
        { auth: pin('9876'), action: { kind: 'p2p', number1: '3611111', number2: '3622222' } },
      ] as CommandCandidate[],
    ],
    [
      'p 3611111 3622222',
      [{ auth: cli, action: { kind: 'p2p', number1: '3611111', number2: '3622222' } }] as CommandCandidate[],
    ],
    ['P +3622222', [{ auth: cli, action: { kind: 'p2p', number2: '+3622222' } }] as CommandCandidate[]],
    // add credit
    [
      'c alice secret CODE123 3644444',
      [
        { auth: up('alice', 'secret'), action: { kind: 'credit', code: 'CODE123', number: '3644444' } },
      ] as CommandCandidate[],
    ],
    [
      'c 9876 CODE123 3644444',
      [
        { auth: pin('9876'), action: { kind: 'credit', code: 'CODE123', number: '3644444' } },
      ] as CommandCandidate[],
    ],
    [
      'c CODE123 3644444',
      [
        { auth: { kind: 'none' }, action: { kind: 'credit', code: 'CODE123', number: '3644444' } },
      ] as CommandCandidate[],
    ],
    ['c CODE123', [{ auth: cli, action: { kind: 'credit', code: 'CODE123' } }] as CommandCandidate[]],
  ];
  test.each(cases)('%j', (text, candidates) => {
    const r = parseSmsCommand(text);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.candidates).toEqual(candidates);
  });

  const invalid: [text: string, reason: RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['n', /register/],
    ['n alice secret 3633333 extra', /register/],
    ['n 9876 notanumber', /not a phone number/],
    ['p', /phone to phone/],
    ['p 3611111 abc', /not a phone number/],
    ['b 9876 abc', /not a phone number/],
    ['c', /add credit/],
    ['c CODE abc', /not a phone number/],
    ['hello there how are you doing today', /too many words/],
    ['alice secret x y', /not a phone number/],
    ['a b c d e', /unknown command/],
  ];
  test.each(invalid)('invalid %j', (text, reason) => {
    const r = parseSmsCommand(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('resolveCall', () => {
  test.each([
    [{ kind: 'callback' }, '3611111', { kind: 'callback', number: '3611111' }],
    [{ kind: 'callback', number: '3622222' }, '3611111', { kind: 'callback', number: '3622222' }],
    [{ kind: 'callback' }, '', { error: 'no number to call back (your number is hidden)' }],
    [{ kind: 'p2p', number2: '3622222' }, '3611111', { kind: 'p2p', number1: '3611111', number2: '3622222' }],
    [{ kind: 'p2p', number2: '3622222' }, 'Unknown', { error: 'no first number (your number is hidden)' }],
    [
      { kind: 'p2p', number1: '3633333', number2: '3622222' },
      '3611111',
      { kind: 'p2p', number1: '3633333', number2: '3622222' },
    ],
    [
      { kind: 'general', numbers: ['3633333', '3622222'] },
      '3611111',
      { kind: 'p2p', number1: '3633333', number2: '3622222' },
    ],
    [
      { kind: 'general', numbers: ['3622222'] },
      '3611111',
      { kind: 'p2p', number1: '3611111', number2: '3622222' },
    ],
    [{ kind: 'general', numbers: ['3622222'] }, '', { kind: 'callback', number: '3622222' }],
    [{ kind: 'general', numbers: [] }, '3611111', { kind: 'callback', number: '3611111' }],
    [{ kind: 'general', numbers: [] }, '', { error: 'no number to call (your number is hidden)' }],
  ] as const)('%j from %j', (action, a, out) => {
    expect(resolveCall(action as never, a)).toEqual(out);
  });
});

describe('callingcardauth: pincode forms', () => {
  const user = { name: 'alice', password: 'secret', pin: '9876' };
  // token -> which modes accept it for alice
  const cases: [token: string, acceptedModes: number[]][] = [
    ['9876', [0, 9, 10, 11]],
    ['alice', [1, 4, 8, 11, 12]],
    ['secret', [2, 5, 10, 11]],
    ['alicesecret', [3, 6, 7, 8, 11, 12]],
    ['alice9876', [7, 8, 11, 12]],
    ['wrong', []],
    ['', []],
  ];
  test.each(cases)('token %j', (token, accepted) => {
    const modes = Array.from({ length: 13 }, (_, m) => m).filter((m) => pinMatches(token, user, pinForms(m)));
    expect(modes).toEqual(accepted);
  });

  test('an empty pin or password never matches', () => {
    const noPin = { name: 'bob', password: '', pin: '' };
    expect(pinMatches('bob', noPin, pinForms(11))).toBe(true);
    expect(pinMatches('', noPin, pinForms(11))).toBe(false);
    expect(pinMatches('bob', noPin, pinForms(3))).toBe(false);
  });
});

describe('anumberhandling', () => {
  test.each([
    [0, false, false],
    [1, false, true],
    [2, true, false],
    [3, true, true],
    [4, true, true],
  ])('mode %i: authenticate %s, register %s', (mode, auth, reg) => {
    expect(cliAuthAllowed(mode)).toBe(auth);
    expect(registerAllowed(mode)).toBe(reg);
  });
});
