import {
  cliAuthAllowed,
  isCommandNumber,
  parseSmsCommand,
  pinChecks,
  pinForms,
  registerAllowed,
  resolveCall,
  type CommandAuth,
  type CommandCandidate,
  type MoMessage,
} from '@smsfleet/core';
import type {
  CallbackRequest,
  CallbackRequestInsert,
  InboundUser,
  RedeemResult,
  RegisterResult,
} from '@smsfleet/db';
import { SecretVerifier, verifyDummy, type AuthGuard } from '@smsfleet/security';

/** What command execution needs from the outside world (one object per store, no DI container). */
export interface CommandDeps {
  userByName(name: string): Promise<InboundUser | undefined>;
  usersByNumbers(numbers: readonly string[]): Promise<Map<string, InboundUser>>;
  pinCandidates(token: string): Promise<InboundUser[]>;
  registerNumber(userId: number, number: string): Promise<RegisterResult>;
  redeem(code: string, userId: number, ref: string): Promise<RedeemResult>;
  storeCallRequest(r: CallbackRequestInsert): Promise<CallbackRequest>;
  /** Publishes call.callback / call.p2p for a VoIP switch (stored: JetStream). */
  publishCall(kind: 'callback' | 'p2p', event: CallEvent, msgId: string): Promise<void>;
  /** Checks passwords and pins against their scrypt hashes (cached); a fresh one when omitted. */
  verifier?: SecretVerifier;
  /**
   * The failed-authentication ban list: a command whose password or pincode is wrong counts for the
   * sender's number (as address `sms:<number>`) and the named user; while banned, commands from
   * that number or for that user are refused. Omitted: nothing is counted.
   */
  guard?: Pick<AuthGuard, 'check' | 'fail'>;
}

/** The event a VoIP switch acts on. */
export interface CallEvent {
  type: 'call.callback' | 'call.p2p';
  requestId: number;
  moId: string;
  userId: number;
  /** callback: the number to call; p2p: the first party. */
  number1: string;
  /** p2p: the second party; empty for a callback. */
  number2: string;
  /** `defcallbackivr`: the campaign with the IVR content for callbacks. */
  ivr: string;
  at: number;
}

export interface CommandSettings {
  callingcardauth: number;
  anumberhandling: number;
  defcallbackivr: string;
}

export interface CommandOutcome {
  ok: boolean;
  /** Short name of the command run, for the inbox and logs ('' when none was recognised). */
  command: string;
  /** The SMS answer to the sender. */
  answer: string;
  /** The authenticated (or credited) user; 0 when none. */
  userId: number;
}

/** Every failed authentication reads the same, so user names and pins cannot be probed. */
const AUTH_FAILED = 'ERROR authentication failed';

/**
 * Authenticates and runs one SMS command. Bad or unauthenticated commands get an answer and change
 * nothing. Every action is idempotent on the SMS id (a redelivered SMS repeats no effect).
 */
export class CommandRunner {
  private readonly verifier: SecretVerifier;

  constructor(private readonly deps: CommandDeps) {
    this.verifier = deps.verifier ?? new SecretVerifier();
  }

  /** Whether the token identifies `u` under `forms` (pin/password checked against their hashes). */
  private async pinIdentifies(
    token: string,
    u: InboundUser,
    forms: ReturnType<typeof pinForms>,
  ): Promise<boolean> {
    for (const c of pinChecks(token, u.name, forms)) {
      if (c.secret === 'name') return true;
      const stored = c.secret === 'pin' ? u.pinHash : u.passwordHash;
      if (await this.verifier.verify(`${c.secret}:${u.id}`, c.value, stored)) return true;
    }
    return false;
  }

  async run(mo: MoMessage, s: CommandSettings): Promise<CommandOutcome> {
    const parsed = parseSmsCommand(mo.text);
    if (!parsed.ok) return { ok: false, command: '', answer: `ERROR ${parsed.reason}`, userId: 0 };
    const name =
      parsed.keyword === ''
        ? 'general'
        : { b: 'callback', n: 'register', p: 'p2p', c: 'credit' }[parsed.keyword];
    // A secret guessed over SMS counts like any failed login: per sender number and user name.
    const userpass = parsed.candidates.find((c) => c.auth.kind === 'userpass')?.auth;
    const subject = {
      address: `sms:${mo.from}`,
      user: userpass?.kind === 'userpass' ? userpass.username : undefined,
    };
    const verdict = this.deps.guard?.check(subject);
    if (verdict?.banned) return { ok: false, command: name, answer: `ERROR ${verdict.reason}`, userId: 0 };
    let chosen: { c: CommandCandidate; user: InboundUser | undefined } | undefined;
    for (const c of parsed.candidates) {
      const r = await this.authenticate(c.auth, mo.from, s);
      if (r.ok) {
        chosen = { c, user: r.user };
        break;
      }
    }
    if (!chosen) {
      const guessed = parsed.candidates.some((c) => c.auth.kind === 'userpass' || c.auth.kind === 'pin');
      const after = guessed
        ? await this.deps.guard?.fail(subject, { wait: false }).catch(() => undefined)
        : undefined;
      return {
        ok: false,
        command: name,
        answer: after?.banned ? `ERROR authentication failed; ${after.reason}` : AUTH_FAILED,
        userId: 0,
      };
    }
    const { c, user } = chosen;
    const userId = user?.id ?? 0;
    const fail = (answer: string): CommandOutcome => ({ ok: false, command: name, answer, userId });
    const action = c.action;
    switch (action.kind) {
      case 'register': {
        if (!user) return fail(AUTH_FAILED);
        if (!registerAllowed(s.anumberhandling)) return fail('ERROR registering numbers is disabled');
        const r = await this.deps.registerNumber(user.id, action.number);
        if (r === 'taken') return fail(`ERROR ${action.number} is registered to another account`);
        return {
          ok: true,
          command: name,
          answer:
            r === 'added' ? `OK ${action.number} registered` : `OK ${action.number} was already registered`,
          userId,
        };
      }
      case 'credit': {
        let target = user;
        if (action.number !== undefined) {
          target = (await this.deps.usersByNumbers([action.number])).get(action.number);
          if (!target) return fail(`ERROR no account has the number ${action.number}`);
        }
        if (!target) return fail(AUTH_FAILED);
        const r = await this.deps.redeem(action.code, target.id, mo.id);
        if (!r.ok)
          return fail(
            r.reason === 'used'
              ? 'ERROR recharge code already used'
              : r.reason === 'unknown'
                ? 'ERROR unknown recharge code'
                : 'ERROR no such account',
          );
        return {
          ok: true,
          command: name,
          answer: `OK credit added: ${trimDecimal(r.value)}, balance ${trimDecimal(r.balance)}`,
          userId: target.id,
        };
      }
      default: {
        if (!user) return fail(AUTH_FAILED);
        const call = resolveCall(action, mo.from);
        if ('error' in call) return fail(`ERROR ${call.error}`);
        const req = await this.deps.storeCallRequest({
          moId: mo.id,
          kind: call.kind,
          userId: user.id,
          number1: call.kind === 'callback' ? call.number : call.number1,
          number2: call.kind === 'p2p' ? call.number2 : '',
          ivr: s.defcallbackivr,
        });
        const event: CallEvent = {
          type: call.kind === 'callback' ? 'call.callback' : 'call.p2p',
          requestId: req.id,
          moId: mo.id,
          userId: user.id,
          number1: req.number1,
          number2: req.number2,
          ivr: req.ivr,
          at: Date.now(),
        };
        await this.deps.publishCall(call.kind, event, `call:${mo.id}`);
        return {
          ok: true,
          command: call.kind,
          answer:
            call.kind === 'callback'
              ? `OK callback to ${call.number} requested`
              : `OK call ${call.number1} - ${call.number2} requested`,
          userId,
        };
      }
    }
  }

  private async authenticate(
    auth: CommandAuth,
    sender: string,
    s: CommandSettings,
  ): Promise<{ ok: true; user: InboundUser | undefined } | { ok: false }> {
    switch (auth.kind) {
      case 'none':
        return { ok: true, user: undefined };
      case 'userpass': {
        const u = await this.deps.userByName(auth.username);
        if (!u) {
          await verifyDummy(auth.password);
          return { ok: false };
        }
        if (u.enabled && (await this.verifier.verify(`password:${u.id}`, auth.password, u.passwordHash)))
          return { ok: true, user: u };
        return { ok: false };
      }
      case 'pin': {
        const forms = pinForms(s.callingcardauth);
        const matches: InboundUser[] = [];
        for (const u of await this.deps.pinCandidates(auth.pin))
          if (u.enabled && (await this.pinIdentifies(auth.pin, u, forms))) matches.push(u);
        // Two users answering to the same pincode: refuse rather than guess.
        return matches.length === 1 ? { ok: true, user: matches[0] } : { ok: false };
      }
      case 'cli': {
        if (!cliAuthAllowed(s.anumberhandling) || !isCommandNumber(sender)) return { ok: false };
        const u = (await this.deps.usersByNumbers([sender])).get(sender);
        return u && u.enabled ? { ok: true, user: u } : { ok: false };
      }
    }
  }
}

/** '10.500000' -> '10.5' (DECIMAL(18,6) strings in SMS answers). */
export function trimDecimal(v: string): string {
  return v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v;
}
