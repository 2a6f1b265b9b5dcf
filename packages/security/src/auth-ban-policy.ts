import { ipAllowed, parseIpAllowList, type IpAllowList } from '@smsfleet/core';

/**
 * The pure part of the failed-authentication ban list: thresholds, the delay for a number of
 * recent failures, and the verdict for a request from the known state.
 */
export interface AuthBanSettings {
  /** Sliding window over which failures are counted (s). */
  windowSec: number;
  /** Failures in the window after which answers are slowed down (0: never). */
  slowAfter: number;
  /** Delay added per failure beyond `slowAfter` (ms). */
  delayMs: number;
  /** The largest delay (ms). */
  maxDelayMs: number;
  /** Failures from one client address in the window that ban the address (0: never). */
  addressAfter: number;
  /** Failures for one user name in the window that ban the user name (0: never). */
  userAfter: number;
  /** How long a ban lasts (s). */
  banSec: number;
  /**
   * Client addresses never counted nor banned (addresses and CIDR ranges separated by `,`, `;` or
   * spaces; empty: none), e.g. the loopback the operator's own tools call from. User names are
   * still counted for them.
   */
  ignoreAddresses: string;
}

export const DEFAULT_AUTH_BAN: Readonly<AuthBanSettings> = Object.freeze({
  windowSec: 600,
  slowAfter: 5,
  delayMs: 500,
  maxDelayMs: 5000,
  addressAfter: 20,
  userAfter: 50,
  banSec: 900,
  ignoreAddresses: '127.0.0.1, ::1',
});

/** The `authban_*` keys of the global config (a ConfigSnapshot has them). */
export interface AuthBanConfig {
  authban_window: number;
  authban_slowafter: number;
  authban_delayms: number;
  authban_maxdelayms: number;
  authban_addressafter: number;
  authban_userafter: number;
  authban_time: number;
  authban_ignoreip: string;
}

export function authBanSettingsFrom(c: AuthBanConfig): AuthBanSettings {
  return {
    windowSec: c.authban_window,
    slowAfter: c.authban_slowafter,
    delayMs: c.authban_delayms,
    maxDelayMs: c.authban_maxdelayms,
    addressAfter: c.authban_addressafter,
    userAfter: c.authban_userafter,
    banSec: c.authban_time,
    ignoreAddresses: c.authban_ignoreip,
  };
}

export type BanScope = 'address' | 'user';

/** Who an authentication attempt came from and for. */
export interface AuthSubject {
  address?: string | undefined;
  user?: string | undefined;
}

export type AuthVerdict =
  { banned: false; delayMs: number } | { banned: true; scope: BanScope; until: number; reason: string };

/** State known about one address or user: its ban end (epoch ms) and recent failure count. */
export interface SubjectState {
  bannedUntil?: number;
  failures?: number;
}

const MAX_ID = 200;

/** `::ffff:10.0.0.1` -> `10.0.0.1`; trimmed and bounded. Empty: no address. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  const a = address.trim().toLowerCase();
  return (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a).slice(0, MAX_ID);
}

let ignoreCache: { raw: string; list: IpAllowList | undefined } | undefined;

/** Whether `address` is in the `ignoreAddresses` list (never counted, never banned). */
export function isIgnoredAddress(address: string, ignoreAddresses: string): boolean {
  if (ignoreCache?.raw !== ignoreAddresses)
    ignoreCache = {
      raw: ignoreAddresses,
      list: ignoreAddresses.trim() === '' ? undefined : parseIpAllowList(ignoreAddresses),
    };
  return ignoreCache.list !== undefined && address !== '' && ipAllowed(ignoreCache.list, address);
}

export function normalizeUser(user: string | undefined): string {
  return (user ?? '').slice(0, MAX_ID);
}

/** The member name of a subject in the ban structures: `a:<address>` or `u:<user>`. */
export function memberOf(scope: BanScope, id: string): string {
  return `${scope === 'address' ? 'a' : 'u'}:${id}`;
}

export function parseMember(member: string): { scope: BanScope; id: string } | undefined {
  if (member.startsWith('a:')) return { scope: 'address', id: member.slice(2) };
  if (member.startsWith('u:')) return { scope: 'user', id: member.slice(2) };
  return undefined;
}

/** How long to hold an answer after `failures` recent failures. */
export function delayFor(failures: number, s: AuthBanSettings): number {
  if (s.slowAfter <= 0 || failures < s.slowAfter) return 0;
  return Math.min(s.maxDelayMs, s.delayMs * (failures - s.slowAfter + 1));
}

export function banReason(until: number): string {
  return `too many failed logins, banned until ${new Date(until).toISOString()}`;
}

/** The verdict for an attempt: banned if the address or the user is, else the delay to apply. */
export function verdictFor(
  address: SubjectState | undefined,
  user: SubjectState | undefined,
  s: AuthBanSettings,
  now: number,
): AuthVerdict {
  for (const [scope, st] of [
    ['address', address],
    ['user', user],
  ] as const) {
    if (st?.bannedUntil !== undefined && st.bannedUntil > now)
      return { banned: true, scope, until: st.bannedUntil, reason: banReason(st.bannedUntil) };
  }
  return {
    banned: false,
    delayMs: Math.max(delayFor(address?.failures ?? 0, s), delayFor(user?.failures ?? 0, s)),
  };
}
