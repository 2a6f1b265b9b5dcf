import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commandTokens,
  isCommandNumber,
  parseSmsCommand,
  pinMatches,
  pinForms,
  resolveCall,
  type CommandCandidate,
} from './sms-command.js';

const numRuns = Number(process.env['FC_NUM_RUNS'] ?? 500);

const KEYWORDS = ['b', 'cb', 'callback', 'n', 'register', 'p', 'p2p', 'c', 'credit'];
const token = fc.oneof(
  fc.constantFrom(...KEYWORDS, ...KEYWORDS.map((k) => k.toUpperCase())),
  // names of Object members: a dictionary lookup must not take them for keywords
  fc.constantFrom('constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'),
  fc.stringMatching(/^\+?[0-9]{1,22}$/),
  fc.stringMatching(/^[A-Za-z0-9_.@-]{1,12}$/),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }),
);
const sep = fc.constantFrom(' ', ',', ';', '  ', '\t', ', ', '\n');
const command = fc
  .tuple(fc.array(token, { maxLength: 8 }), sep, fc.constantFrom('', ' ', '\n'))
  .map(([toks, s, pad]) => `${pad}${toks.join(s)}${pad}`);

/** Every string an interpretation takes from the text. */
function used(c: CommandCandidate): string[] {
  const out: string[] = [];
  if (c.auth.kind === 'userpass') out.push(c.auth.username, c.auth.password);
  if (c.auth.kind === 'pin') out.push(c.auth.pin);
  const a = c.action;
  if (a.kind === 'callback' && a.number) out.push(a.number);
  if (a.kind === 'p2p') out.push(...(a.number1 ? [a.number1] : []), a.number2);
  if (a.kind === 'register') out.push(a.number);
  if (a.kind === 'credit') out.push(a.code, ...(a.number ? [a.number] : []));
  if (a.kind === 'general') out.push(...a.numbers);
  return out;
}

describe('SMS command parser', () => {
  it('never throws; a command uses its words in order and every number is a phone number', () => {
    fc.assert(
      fc.property(command, (text) => {
        const r = parseSmsCommand(text);
        const toks = commandTokens(text);
        if (!r.ok) {
          expect(r.reason.length).toBeGreaterThan(0);
          return;
        }
        const isKw = r.keyword !== '';
        if (isKw) expect(KEYWORDS).toContain(toks[0]!.toLowerCase());
        else expect(KEYWORDS).not.toContain(toks[0]!.toLowerCase());
        const args = isKw ? toks.slice(1) : toks;
        expect(r.candidates.length).toBeGreaterThan(0);
        for (const c of r.candidates) {
          const u = used(c);
          // each argument word is used at most once, in the order written, and nothing else
          let from = 0;
          for (const w of u) {
            const i = args.indexOf(w, from);
            expect(i).toBeGreaterThanOrEqual(0);
            from = i + 1;
          }
          const a = c.action;
          const numbers =
            a.kind === 'general'
              ? a.numbers
              : a.kind === 'p2p'
                ? [a.number1, a.number2]
                : a.kind === 'credit'
                  ? [a.number]
                  : ['number' in a ? a.number : undefined];
          for (const n of numbers) if (n !== undefined) expect(isCommandNumber(n)).toBe(true);
        }
        // the main interpretation leaves no word unused
        const longest = Math.max(...r.candidates.map((c) => used(c).length));
        expect(longest).toBe(args.length);
      }),
      { numRuns },
    );
  });

  it('resolveCall only dials numbers from the text or the sender', () => {
    fc.assert(
      fc.property(
        command,
        fc.oneof(fc.constant(''), fc.stringMatching(/^\+?[0-9]{3,15}$/), fc.string()),
        (text, aNumber) => {
          const r = parseSmsCommand(text);
          if (!r.ok) return;
          for (const c of r.candidates) {
            const call = resolveCall(c.action, aNumber);
            if ('error' in call) continue;
            const dialled = call.kind === 'callback' ? [call.number] : [call.number1, call.number2];
            for (const n of dialled) {
              expect(isCommandNumber(n)).toBe(true);
              expect(used(c).includes(n) || n === aNumber).toBe(true);
            }
          }
        },
      ),
      { numRuns },
    );
  });

  it('empty secrets never authenticate', () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 20 }), fc.string(), fc.string(), (mode, name, token) => {
        const user = { name, password: '', pin: '' };
        const ok = pinMatches(token, user, pinForms(mode));
        if (ok) expect(token).toBe(name); // only the username form can match
        expect(pinMatches('', { name: '', password: '', pin: '' }, pinForms(mode))).toBe(false);
      }),
      { numRuns },
    );
  });
});
