/**
 * SMS commands (the seed's "SMS callback"): callback `b`, register `n`, phone to phone `p`, add
 * credit `c`, and the general form without a keyword. Pure parsing and the authentication rules;
 * the inbound service looks the users up and runs the action.
 *
 * One text can mean several things until the user lookup settles it (a lone token is a pincode or
 * a number), so the parser returns candidates in the order they are tried.
 */

export type CommandAuth =
  | { kind: 'userpass'; username: string; password: string }
  | { kind: 'pin'; pin: string }
  /** Caller-id: the sender's number is registered to the user. */
  | { kind: 'cli' }
  /** No authentication: only `c rechargecode number2` (the code is the secret, number2 the account). */
  | { kind: 'none' };

export type CommandAction =
  /** Call `number` back (absent: the sender's number). */
  | { kind: 'callback'; number?: string }
  /** Connect `number1` (absent: the sender's number) with `number2`. */
  | { kind: 'p2p'; number1?: string; number2: string }
  | { kind: 'register'; number: string }
  /** Credit from a recharge code to the account of `number` (a registered number) or the user's. */
  | { kind: 'credit'; code: string; number?: string }
  /** No keyword: p2p when two numbers are known (the sender's counts), else callback. */
  | { kind: 'general'; numbers: string[] };

export interface CommandCandidate {
  auth: CommandAuth;
  action: CommandAction;
}

export type ParsedCommand =
  | { ok: true; keyword: 'b' | 'n' | 'p' | 'c' | ''; candidates: CommandCandidate[] }
  | { ok: false; reason: string };

const KEYWORDS: Record<string, 'b' | 'n' | 'p' | 'c'> = {
  b: 'b',
  cb: 'b',
  callback: 'b',
  n: 'n',
  register: 'n',
  p: 'p',
  p2p: 'p',
  c: 'c',
  credit: 'c',
};

const NUMBER_RE = /^\+?\d{3,20}$/;

/** A phone number as SMS commands accept it (digits, optional leading +). */
export function isCommandNumber(s: string): boolean {
  return NUMBER_RE.test(s);
}

/** Tokens of a command: words separated by spaces or commas ("number1, number2" in the seed). */
export function commandTokens(text: string): string[] {
  return text
    .trim()
    .split(/[\s,;]+/)
    .filter((t) => t !== '');
}

const MAX_TOKENS = 6;

function bad(reason: string): ParsedCommand {
  return { ok: false, reason };
}

function needNumbers(
  keyword: 'b' | 'n' | 'p' | 'c' | '',
  candidates: CommandCandidate[],
  numbers: string[],
): ParsedCommand {
  for (const n of numbers) if (!isCommandNumber(n)) return bad(`not a phone number: ${n.slice(0, 24)}`);
  return { ok: true, keyword, candidates };
}

/** Parses one SMS into command candidates, or says why it is not a valid command. */
export function parseSmsCommand(text: string): ParsedCommand {
  const tokens = commandTokens(text);
  if (tokens.length === 0) return bad('empty command');
  if (tokens.length > MAX_TOKENS) return bad('too many words for a command');
  const first = tokens[0]!.toLowerCase();
  // Own keys only: `constructor` or `__proto__` is a word of the command, not a keyword.
  const kw = Object.hasOwn(KEYWORDS, first) ? KEYWORDS[first] : undefined;
  const a = kw ? tokens.slice(1) : tokens;
  const [a0 = '', a1 = '', a2 = '', a3 = ''] = a;
  const up = { kind: 'userpass' as const, username: a0, password: a1 };
  const pin = (p: string) => ({ kind: 'pin' as const, pin: p });
  const cli = { kind: 'cli' as const };
  switch (kw) {
    case 'b':
      switch (a.length) {
        case 0:
          return { ok: true, keyword: 'b', candidates: [{ auth: cli, action: { kind: 'callback' } }] };
        case 1:
          // "b number" (caller-id) or "b pincode" (call the sender back).
          return {
            ok: true,
            keyword: 'b',
            candidates: isCommandNumber(a0)
              ? [
                  { auth: cli, action: { kind: 'callback', number: a0 } },
                  { auth: pin(a0), action: { kind: 'callback' } },
                ]
              : [{ auth: pin(a0), action: { kind: 'callback' } }],
          };
        case 2:
          return needNumbers('b', [{ auth: pin(a0), action: { kind: 'callback', number: a1 } }], [a1]);
        case 3:
          return needNumbers('b', [{ auth: up, action: { kind: 'callback', number: a2 } }], [a2]);
        default:
          return bad('callback: b [username password | pincode] [number]');
      }
    case 'n':
      switch (a.length) {
        case 1:
          return needNumbers('n', [{ auth: cli, action: { kind: 'register', number: a0 } }], [a0]);
        case 2:
          return needNumbers('n', [{ auth: pin(a0), action: { kind: 'register', number: a1 } }], [a1]);
        case 3:
          return needNumbers('n', [{ auth: up, action: { kind: 'register', number: a2 } }], [a2]);
        default:
          return bad('register: n [username password | pincode] number');
      }
    case 'p':
      switch (a.length) {
        case 1:
          return needNumbers('p', [{ auth: cli, action: { kind: 'p2p', number2: a0 } }], [a0]);
        case 2:
          return needNumbers(
            'p',
            [{ auth: cli, action: { kind: 'p2p', number1: a0, number2: a1 } }],
            [a0, a1],
          );
        case 3:
          return needNumbers(
            'p',
            [{ auth: pin(a0), action: { kind: 'p2p', number1: a1, number2: a2 } }],
            [a1, a2],
          );
        case 4:
          return needNumbers(
            'p',
            [{ auth: up, action: { kind: 'p2p', number1: a2, number2: a3 } }],
            [a2, a3],
          );
        default:
          return bad('phone to phone: p [username password | pincode] [number1] number2');
      }
    case 'c':
      switch (a.length) {
        case 1:
          return {
            ok: true,
            keyword: 'c',
            candidates: [{ auth: cli, action: { kind: 'credit', code: a0 } }],
          };
        case 2:
          return needNumbers(
            'c',
            [{ auth: { kind: 'none' }, action: { kind: 'credit', code: a0, number: a1 } }],
            [a1],
          );
        case 3:
          return needNumbers(
            'c',
            [{ auth: pin(a0), action: { kind: 'credit', code: a1, number: a2 } }],
            [a2],
          );
        case 4:
          return needNumbers('c', [{ auth: up, action: { kind: 'credit', code: a2, number: a3 } }], [a3]);
        default:
          return bad('add credit: c [username password | pincode] rechargecode [number2]');
      }
    default:
      switch (a.length) {
        case 1:
          return {
            ok: true,
            keyword: '',
            candidates: isCommandNumber(a0)
              ? [
                  { auth: cli, action: { kind: 'general', numbers: [a0] } },
                  { auth: pin(a0), action: { kind: 'general', numbers: [] } },
                ]
              : [{ auth: pin(a0), action: { kind: 'general', numbers: [] } }],
          };
        case 2:
          return needNumbers('', [{ auth: pin(a0), action: { kind: 'general', numbers: [a1] } }], [a1]);
        case 3:
          return needNumbers('', [{ auth: up, action: { kind: 'general', numbers: [a2] } }], [a2]);
        case 4:
          return needNumbers('', [{ auth: up, action: { kind: 'general', numbers: [a2, a3] } }], [a2, a3]);
        default:
          return bad('unknown command (use b, n, p, c or: [username password | pincode] number [number])');
      }
  }
}

/** A call request after authentication: what the VoIP switch is asked to do. */
export type CallRequest =
  { kind: 'callback'; number: string } | { kind: 'p2p'; number1: string; number2: string };

/**
 * Callback, p2p and general actions as the call to make, given the sender's number (`aNumber`,
 * empty when hidden). The seed: a general request is p2p when two numbers are known, one of them
 * may be the sender's; with one number known it is a callback to that number.
 */
export function resolveCall(action: CommandAction, aNumber: string): CallRequest | { error: string } {
  const a = isCommandNumber(aNumber) ? aNumber : '';
  switch (action.kind) {
    case 'callback': {
      const n = action.number ?? a;
      return n
        ? { kind: 'callback', number: n }
        : { error: 'no number to call back (your number is hidden)' };
    }
    case 'p2p': {
      const n1 = action.number1 ?? a;
      return n1
        ? { kind: 'p2p', number1: n1, number2: action.number2 }
        : { error: 'no first number (your number is hidden)' };
    }
    case 'general': {
      const known = a ? [a, ...action.numbers] : [...action.numbers];
      // Numbers from the SMS come first; the sender's number fills in the missing first one.
      const nums = action.numbers.length >= 2 ? action.numbers : known;
      if (nums.length >= 2) return { kind: 'p2p', number1: nums[0]!, number2: nums[1]! };
      if (nums.length === 1) return { kind: 'callback', number: nums[0]! };
      return { error: 'no number to call (your number is hidden)' };
    }
    default:
      return { error: `${action.kind} is not a call` };
  }
}

/** How a single pincode token may identify a user. */
export type PinForm = 'pin' | 'username' | 'password' | 'username+password' | 'username+pin';

/**
 * `callingcardauth` (0-12) as the forms a pincode may take. Every user counts as "any user"
 * (smsfleet has no separate calling-card accounts), so the calling-card-only modes accept the same
 * forms for every user. Modes 3, 6, 7, 8, 11 and 12 let the pincode be username and password typed
 * together ("Pincode can represent the concatenated username and password").
 */
export function pinForms(callingcardauth: number): ReadonlySet<PinForm> {
  const m: Record<number, PinForm[]> = {
    0: ['pin'],
    1: ['username'],
    2: ['password'],
    3: ['username+password'],
    4: ['username'],
    5: ['password'],
    6: ['username+password'],
    7: ['username+password', 'username+pin'],
    8: ['username', 'username+password', 'username+pin'],
    9: ['pin'],
    10: ['password', 'pin'],
    11: ['pin', 'username', 'password', 'username+password', 'username+pin'],
    12: ['username', 'username+password', 'username+pin'],
  };
  return new Set(m[callingcardauth] ?? ['pin']);
}

export interface PinUser {
  name: string;
  password: string;
  /** Empty: the user has no pincode. */
  pin: string;
}

/**
 * One way a pincode token may identify a user: it IS the user name, or a part of it must match the
 * user's (hashed) pin or password.
 */
export type PinCheck = { secret: 'name' } | { secret: 'pin' | 'password'; value: string };

/**
 * The checks under which `token` identifies the user called `name` in one of `forms`: the token
 * identifies the user when ANY of them holds. Secrets are stored hashed, so the caller verifies the
 * `pin`/`password` values against the hashes; no check carries an empty value.
 */
export function pinChecks(token: string, name: string, forms: ReadonlySet<PinForm>): PinCheck[] {
  if (token === '') return [];
  const out: PinCheck[] = [];
  if (forms.has('pin')) out.push({ secret: 'pin', value: token });
  if (forms.has('username') && token === name) out.push({ secret: 'name' });
  if (forms.has('password')) out.push({ secret: 'password', value: token });
  const rest = token.length > name.length && token.startsWith(name) ? token.slice(name.length) : '';
  if (rest !== '' && forms.has('username+password')) out.push({ secret: 'password', value: rest });
  if (rest !== '' && forms.has('username+pin')) out.push({ secret: 'pin', value: rest });
  return out;
}

/** Whether `token` identifies `user` (secrets in clear) in one of `forms`. Empty secrets never match. */
export function pinMatches(token: string, user: PinUser, forms: ReadonlySet<PinForm>): boolean {
  return pinChecks(token, user.name, forms).some(
    (c) => c.secret === 'name' || (user[c.secret] !== '' && user[c.secret] === c.value),
  );
}

/**
 * `anumberhandling`: 0 disabled, 1 only add (register, never authenticate by it), 2 only accept,
 * 3 add and accept (default), 4 A-number access only.
 */
export function cliAuthAllowed(anumberhandling: number): boolean {
  return anumberhandling === 2 || anumberhandling === 3 || anumberhandling === 4;
}

export function registerAllowed(anumberhandling: number): boolean {
  return anumberhandling === 1 || anumberhandling === 3 || anumberhandling === 4;
}
