import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import {
  PduFormatError,
  RECEIPT_STATE,
  RECEIPT_STATS,
  decodeUserData,
  encodeMo,
  parseSubmitSmBody,
  receiptText,
  sarConcat,
  splitUdh,
  type ConcatInfo,
  type ReceiptStat,
} from './smpp/codec.js';
import {
  STATUS,
  createLibServer,
  newPdu,
  type LibPdu,
  type LibServer,
  type LibSession,
} from './smpp/smpp-lib.js';
import { FUZZ_PDU_KINDS, fuzzPdu, type FuzzPduKind } from './smpp/fuzz-pdus.js';

export type { ReceiptStat, ConcatInfo } from './smpp/codec.js';

export type SmppBindType = 'transmitter' | 'receiver' | 'transceiver';

/**
 * How the simulated SMSC behaves. Every submit_sm from a transmitter/transceiver bind is checked
 * in this order: `dropEvery`, `neverAnswer`, `rejectDestinations`, `queueFull`/`queueFullEvery`,
 * `throttleAfterPerSecond`; if none applies it is accepted.
 */
export interface SmppSimBehaviour {
  /** More than this many accepted submit_sm in one wall-clock second are answered ESME_RTHROTTLED (0x58). 0: off. */
  throttleAfterPerSecond: number;
  /** Answer every submit_sm ESME_RMSGQFUL (0x14). */
  queueFull: boolean;
  /** Answer every Nth submit_sm ESME_RMSGQFUL (0x14). 0: off. The count restarts when set. */
  queueFullEvery: number;
  /**
   * Destroy the connection on every Nth submit_sm without answering it. 0: off. The count restarts
   * when set. The SMSC keeps the message (outcome `dropped`): the client cannot know, which is
   * the one case where sending it again may make a duplicate.
   */
  dropEvery: number;
  /** Keep every submit_sm (outcome `unanswered`) and never answer it. enquire_link is still answered. */
  neverAnswer: boolean;
  /** Delay before each submit_sm_resp, in milliseconds. */
  responseDelayMs: number;
  /** submit_sm to these destination_addr values are answered ESME_RINVDSTADR (0x0B). */
  rejectDestinations: string[];
  /** Bound sessions at most; more binds get ESME_RBINDFAIL (0x0D). 0: unlimited. */
  maxBinds: number;
  /** Delay between accepting a message and sending its receipt, in milliseconds. */
  receiptDelayMs: number;
  /** Relative weights of receipt outcomes, e.g. { DELIVRD: 0.9, UNDELIV: 0.1 }. */
  receiptMix: Partial<Record<ReceiptStat, number>>;
  /** Format of the message_id in submit_sm_resp (and in the receipted_message_id TLV). */
  messageIdFormat: 'hex' | 'decimal';
  /** Format of the `id:` in the receipt text; differs from messageIdFormat in correlation tests. */
  receiptIdFormat: 'hex' | 'decimal';
  /** Send the receipt at once, before the submit_sm_resp (early-receipt races). */
  receiptBeforeResp: boolean;
  /** Add the receipted_message_id and message_state TLVs to receipts (SMPP 3.4 optional). */
  receiptTlvs: boolean;
  /**
   * Fuzz mode: every this many milliseconds write one malformed PDU (smpp/fuzz-pdus.ts) to a
   * bound session, round robin over sessions and kinds. 0: off.
   */
  fuzzEveryMs: number;
  /** Kinds of malformed PDUs to send (empty: all of FUZZ_PDU_KINDS). */
  fuzzKinds: FuzzPduKind[];
  /** Stop after this many malformed PDUs (counted in stats.fuzzSent). 0: no limit. */
  fuzzLimit: number;
}

export type SmppSubmitOutcome =
  'accepted' | 'throttled' | 'queueFull' | 'rejected' | 'dropped' | 'unanswered';

/** One submit_sm as received (one part of a multipart message). */
export interface SmppSimMessage {
  /** 1-based order of arrival since the last reset. */
  seq: number;
  systemId: string;
  sourceAddr: string;
  sourceTon: number;
  sourceNpi: number;
  destinationAddr: string;
  destTon: number;
  destNpi: number;
  esmClass: number;
  dataCoding: number;
  registeredDelivery: number;
  serviceType: string;
  /** This part's text, decoded by data_coding, without the UDH. */
  text: string;
  /** Hex of the UDH, when esm_class had UDHI. */
  udh?: string;
  concat?: ConcatInfo;
  /** The text came in the message_payload TLV. */
  payloadInTlv: boolean;
  outcome: SmppSubmitOutcome;
  /** command_status answered; undefined when no answer was sent (dropped, unanswered). */
  commandStatus?: number;
  /** The SMSC message id ('' when not accepted). dropped/unanswered ones have one too: the SMSC kept them. */
  messageId: string;
  receivedAt: number;
  /** Outcome of the receipt, once one was scheduled. */
  receiptStat?: ReceiptStat;
}

/** A whole message the SMSC kept: a single-part submit or a fully reassembled multipart one. */
export interface SmppSimWholeMessage {
  sourceAddr: string;
  destinationAddr: string;
  text: string;
  parts: number;
  messageIds: string[];
  /** Some part was dropped or unanswered: the client could not know the SMSC had it. */
  unknowable: boolean;
  completedAt: number;
}

/** How often one (destination, text) was kept by the SMSC. */
export interface SmppSimCount {
  destinationAddr: string;
  text: string;
  /** Whole messages kept (answered or not). More than 1 is a duplicate. */
  count: number;
  /** How many of those had an unknowable outcome (dropped/unanswered part). */
  unknowable: number;
}

export interface SmppSimStats {
  /** Sessions bound right now. */
  binds: number;
  /** Every submit_sm received, whatever its answer. */
  submitReceived: number;
  /** Answered ESME_ROK. */
  submitAccepted: number;
  throttled: number;
  queueFull: number;
  /** Answered ESME_RINVDSTADR. */
  rejected: number;
  /** Connection destroyed without an answer (dropEvery). */
  dropped: number;
  /** Kept and never answered (neverAnswer). */
  unanswered: number;
  /** Malformed submit_sm, answered ESME_RINVMSGLEN. */
  invalid: number;
  /** Receipts acknowledged by the ESME with deliver_sm_resp status 0. */
  receiptsSent: number;
  /** Receipts scheduled or waiting for a receiver/transceiver bind. */
  receiptsPending: number;
  /** MO parts acknowledged by the ESME with deliver_sm_resp status 0. */
  moSent: number;
  /** MO parts waiting for a receiver/transceiver bind or for their deliver_sm_resp. */
  moPending: number;
  /** Distinct (destination, text) whole messages kept. */
  uniqueMessages: number;
  /** Whole messages kept beyond the first of each (destination, text). */
  duplicates: number;
  /** Whole messages kept (single parts plus completed multipart). */
  wholeMessages: number;
  /** Multipart messages still missing a part. */
  incompleteMessages: number;
  /** A part arrived again while its message was still incomplete. */
  duplicateParts: number;
  bindFailures: number;
  enquireLinks: number;
  /** Receipts/MO given up because 100,000 already waited for a receiver bind. */
  outExpired: number;
  /** Successful binds since the start (a client that reconnects binds again). */
  bindsAccepted: number;
  /** Malformed PDUs written in fuzz mode, in total and per kind. */
  fuzzSent: number;
  fuzzByKind: Partial<Record<FuzzPduKind, number>>;
}

export interface SmppSimMessageFilter {
  destinationAddr?: string;
  text?: string;
  outcome?: SmppSubmitOutcome;
  messageId?: string;
  /** Only messages with seq greater than this. */
  afterSeq?: number;
  /** At most this many, oldest first. */
  limit?: number;
}

export interface SmppSimWholeFilter {
  destinationAddr?: string;
  text?: string;
  limit?: number;
}

export interface SmppMoRequest {
  from: string;
  to: string;
  text: string;
  /** Cut into this many parts (UDH IEI 0x00); default: as many as the text needs. */
  parts?: number;
  /** Order of sending as 1-based part numbers, e.g. [3, 1, 2]; default ascending. */
  order?: number[];
  /** Bind of this system_id to deliver to; default the configured one. */
  systemId?: string;
}

export interface SmppSimOptions {
  /** 0 (the default) picks an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 'smsfleet'. */
  systemId?: string;
  /** Default 'smsfleet'. */
  password?: string;
  /** PEM key and certificate: the server speaks SMPP over TLS (SMPPS). */
  tls?: { key: string; cert: string };
  /**
   * Append every received submit_sm (as a SmppSimMessage JSON line) to this file before it is
   * answered, and replay the file on start: counts and messages then survive a kill -9 and
   * restart of the simulator process (e2e crash tests). reset() truncates it.
   */
  journalPath?: string;
  behaviour?: Partial<SmppSimBehaviour>;
}

export interface SmppSimBind {
  systemId: string;
  type: SmppBindType;
}

export interface SmppSim {
  port: number;
  host: string;
  tls: boolean;
  systemId: string;
  stats(): SmppSimStats;
  /** Received submit_sm (parts), oldest first. */
  messages(filter?: SmppSimMessageFilter): SmppSimMessage[];
  /** Whole messages kept (reassembled), oldest first. */
  wholeMessages(filter?: SmppSimWholeFilter): SmppSimWholeMessage[];
  /** Per (destination, text) counts; `duplicatesOnly` keeps those with count > 1. */
  counts(opts?: { duplicatesOnly?: boolean }): SmppSimCount[];
  behaviour(): SmppSimBehaviour;
  /** Merges into the current behaviour and returns the result. Throws on invalid values. */
  setBehaviour(b: Partial<SmppSimBehaviour>): SmppSimBehaviour;
  /** Clears counters, stored messages and pending receipts/MO; binds and behaviour stay. */
  reset(): void;
  binds(): SmppSimBind[];
  /** Queues an MO message (deliver_sm, esm_class 0 / 0x40) for a receiver/transceiver bind. */
  sendMo(mo: SmppMoRequest): { parts: number; reference: number };
  /** Idempotent: closes every session and the listener. */
  close(): Promise<void>;
}

export const SMPP_SIM_DEFAULT_BEHAVIOUR: Readonly<SmppSimBehaviour> = Object.freeze({
  throttleAfterPerSecond: 0,
  queueFull: false,
  queueFullEvery: 0,
  dropEvery: 0,
  neverAnswer: false,
  responseDelayMs: 0,
  rejectDestinations: [] as string[],
  maxBinds: 0,
  receiptDelayMs: 0,
  receiptMix: { DELIVRD: 1 },
  messageIdFormat: 'hex' as const,
  receiptIdFormat: 'hex' as const,
  receiptBeforeResp: false,
  receiptTlvs: true,
  fuzzEveryMs: 0,
  fuzzKinds: [] as FuzzPduKind[],
  fuzzLimit: 0,
});

/** Stored parts and whole messages beyond these overwrite the oldest. */
export const SMPP_SIM_MAX_STORED = 500_000;
/** A receipt or MO part refused or not acknowledged this many times is given up. */
const MAX_DELIVER_ATTEMPTS = 10;
const DELIVER_RETRY_MS = 500;
/** Receipts and MO waiting for a receiver bind, per system_id, at most. */
const MAX_QUEUED_OUT = 100_000;
/** How long a receipt sent before its submit_sm_resp leads it on another connection. */
const EARLY_RECEIPT_LEAD_MS = 20;

function cloneBehaviour(b: SmppSimBehaviour): SmppSimBehaviour {
  return {
    ...b,
    rejectDestinations: [...b.rejectDestinations],
    receiptMix: { ...b.receiptMix },
    fuzzKinds: [...b.fuzzKinds],
  };
}

function nonNegInt(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${key} must be a number >= 0`);
  }
  return Math.floor(value);
}

/** Validates `patch` and returns `base` with it applied. Throws a TypeError/RangeError on a bad value. */
export function mergeSmppBehaviour(
  base: SmppSimBehaviour,
  patch: Partial<SmppSimBehaviour>,
): SmppSimBehaviour {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new TypeError('behaviour must be an object');
  }
  const next = cloneBehaviour(base);
  for (const [key, value] of Object.entries(patch) as [string, unknown][]) {
    if (value === undefined) continue;
    switch (key) {
      case 'throttleAfterPerSecond':
      case 'queueFullEvery':
      case 'dropEvery':
      case 'responseDelayMs':
      case 'maxBinds':
      case 'receiptDelayMs':
      case 'fuzzEveryMs':
      case 'fuzzLimit':
        next[key] = nonNegInt(key, value);
        break;
      case 'fuzzKinds':
        if (!Array.isArray(value) || !value.every((k) => (FUZZ_PDU_KINDS as readonly unknown[]).includes(k)))
          throw new TypeError(`fuzzKinds must be an array of: ${FUZZ_PDU_KINDS.join(', ')}`);
        next.fuzzKinds = [...(value as FuzzPduKind[])];
        break;
      case 'queueFull':
      case 'neverAnswer':
      case 'receiptBeforeResp':
      case 'receiptTlvs':
        if (typeof value !== 'boolean') throw new TypeError(`${key} must be a boolean`);
        next[key] = value;
        break;
      case 'rejectDestinations':
        if (!Array.isArray(value) || !value.every((n) => typeof n === 'string' || typeof n === 'number')) {
          throw new TypeError('rejectDestinations must be an array of strings');
        }
        next.rejectDestinations = value.map(String);
        break;
      case 'messageIdFormat':
      case 'receiptIdFormat':
        if (value !== 'hex' && value !== 'decimal') throw new TypeError(`${key} must be 'hex' or 'decimal'`);
        next[key] = value;
        break;
      case 'receiptMix': {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          throw new TypeError('receiptMix must be an object of stat -> weight');
        }
        const mix: Partial<Record<ReceiptStat, number>> = {};
        let sum = 0;
        for (const [stat, w] of Object.entries(value as Record<string, unknown>)) {
          if (!(RECEIPT_STATS as readonly string[]).includes(stat)) {
            throw new TypeError(`receiptMix: unknown stat ${stat} (one of ${RECEIPT_STATS.join(', ')})`);
          }
          if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
            throw new RangeError(`receiptMix.${stat} must be a number >= 0`);
          }
          mix[stat as ReceiptStat] = w;
          sum += w;
        }
        if (!(sum > 0)) throw new RangeError('receiptMix weights must add up to more than 0');
        next.receiptMix = mix;
        break;
      }
      default:
        throw new TypeError(`unknown behaviour key: ${key}`);
    }
  }
  return next;
}

interface SessionState {
  session: LibSession;
  bound: SmppSimBind | undefined;
  /** The last raw octets the library read from the socket: the body of the PDU being handled. */
  lastRead: Buffer | undefined;
  /** deliver_sm written and not yet answered, by sequence number. */
  inFlight: Map<number, OutItem>;
  closed: boolean;
  corked: boolean;
}

interface OutItem {
  kind: 'receipt' | 'mo';
  systemId: string;
  pdu: Record<string, unknown>;
  attempts: number;
}

interface DueReceipt {
  dueAt: number;
  item: OutItem;
}

interface ConcatGroup {
  parts: Map<number, SmppSimMessage>;
  total: number;
}

/** Ring buffer that overwrites its oldest entries beyond `max`. */
class Ring<T> {
  private items: T[] = [];
  private start = 0;
  constructor(private readonly max: number) {}
  push(v: T): void {
    if (this.items.length < this.max) this.items.push(v);
    else {
      this.items[this.start] = v;
      this.start = (this.start + 1) % this.max;
    }
  }
  *values(): Generator<T> {
    const n = this.items.length;
    for (let i = 0; i < n; i++) yield this.items[(this.start + i) % n]!;
  }
  clear(): void {
    this.items = [];
    this.start = 0;
  }
}

function pickStat(mix: Partial<Record<ReceiptStat, number>>): ReceiptStat {
  const entries = Object.entries(mix) as [ReceiptStat, number][];
  let sum = 0;
  for (const [, w] of entries) sum += w;
  let r = Math.random() * sum;
  for (const [stat, w] of entries) {
    if (r < w) return stat;
    r -= w;
  }
  return entries[entries.length - 1]?.[0] ?? 'DELIVRD';
}

/** Should a receipt go out for this registered_delivery and outcome (SMPP 3.4 5.2.17)? */
function receiptRequested(registeredDelivery: number, stat: ReceiptStat): boolean {
  switch (registeredDelivery & 0x03) {
    case 1:
      return true;
    case 2:
      return stat !== 'DELIVRD' && stat !== 'ACCEPTD';
    case 3: // SMPP 5.0: success only
      return stat === 'DELIVRD';
    default:
      return false;
  }
}

const BIND_TYPES: Record<string, SmppBindType> = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};

/**
 * An SMPP 3.4 SMSC for tests, demos and benchmarks, on the `smpp` package's server. One account
 * (system_id/password); every bind type; submit_sm answered with ids; delivery receipts and MO
 * as deliver_sm to receiver/transceiver binds of the account; the misbehaviours of
 * `SmppSimBehaviour`. It counts what it kept per (destination, text) so tests can prove that
 * nothing was sent twice.
 */
export async function startSmppSim(opts: SmppSimOptions = {}): Promise<SmppSim> {
  const host = opts.host ?? '127.0.0.1';
  const systemId = opts.systemId ?? 'smsfleet';
  const password = opts.password ?? 'smsfleet';
  let behaviour = mergeSmppBehaviour(cloneBehaviour(SMPP_SIM_DEFAULT_BEHAVIOUR), opts.behaviour ?? {});
  let rejectDestinations = new Set(behaviour.rejectDestinations);

  // Ids are unique across restarts of the simulator (an e2e test restarts it mid-batch): they
  // start at the current time in microseconds, which outruns any plausible message rate.
  let nextId = Date.now() * 1000;

  const sessions = new Set<SessionState>();
  const timers = new Set<NodeJS.Timeout>();

  // Counters and stores, cleared by reset().
  const zeroCounters = () => ({
    submitReceived: 0,
    submitAccepted: 0,
    throttled: 0,
    queueFull: 0,
    rejected: 0,
    dropped: 0,
    unanswered: 0,
    invalid: 0,
    receiptsSent: 0,
    moSent: 0,
    wholeMessages: 0,
    duplicateParts: 0,
    bindFailures: 0,
    enquireLinks: 0,
    outExpired: 0,
    bindsAccepted: 0,
    fuzzSent: 0,
  });
  let c = zeroCounters();
  let fuzzByKind: Partial<Record<FuzzPduKind, number>> = {};
  let seq = 0;
  let dropCounter = 0;
  let queueFullCounter = 0;
  let throttleSecond = 0;
  let acceptedThisSecond = 0;
  let moReference = 0;
  const stored = new Ring<SmppSimMessage>(SMPP_SIM_MAX_STORED);
  const wholes = new Ring<SmppSimWholeMessage>(SMPP_SIM_MAX_STORED);
  const counts = new Map<string, SmppSimCount>();
  const groups = new Map<string, ConcatGroup>();
  // Receipts wait here until due (FIFO: the delay is the same for all of them), then in `outbox`.
  let due: DueReceipt[] = [];
  let dueHead = 0;
  let dueTimer: NodeJS.Timeout | undefined;
  const outbox = new Map<string, OutItem[]>();
  let rrCursor = 0;
  const flushRetry = new Set<string>();

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  function formatId(n: number, format: 'hex' | 'decimal'): string {
    return format === 'hex' ? n.toString(16) : String(n);
  }

  // ---- outbound deliver_sm (receipts and MO) ----

  function receivers(forSystemId: string): SessionState[] {
    const out: SessionState[] = [];
    for (const s of sessions) {
      if (!s.closed && s.bound && s.bound.systemId === forSystemId && s.bound.type !== 'transmitter')
        out.push(s);
    }
    return out;
  }

  function enqueueOut(item: OutItem, front = false): void {
    let q = outbox.get(item.systemId);
    if (!q) outbox.set(item.systemId, (q = []));
    // A transmitter-only client (Mizu binds so) never collects receipts: past the cap new ones
    // expire at once, like an SMSC giving up on undeliverable receipts, instead of growing
    // without bound (and cheaply: no shifting of a long array).
    if (q.length >= MAX_QUEUED_OUT) {
      c.outExpired++;
      return;
    }
    if (front) q.unshift(item);
    else q.push(item);
  }

  function flushOut(forSystemId: string): void {
    const q = outbox.get(forSystemId);
    if (!q || q.length === 0) return;
    const targets = receivers(forSystemId);
    if (targets.length === 0) return;
    let i = 0;
    for (; i < q.length; i++) {
      const s = targets[rrCursor++ % targets.length]!;
      if (!writeDeliver(s, q[i]!)) break;
    }
    q.splice(0, i);
    // A socket that is not writable takes nothing: try again shortly rather than on the next event.
    if (q.length > 0 && !flushRetry.has(forSystemId)) {
      flushRetry.add(forSystemId);
      later(DELIVER_RETRY_MS, () => {
        flushRetry.delete(forSystemId);
        flushOut(forSystemId);
      });
    }
  }

  /**
   * Holds this session's writes until the current burst of work is done: the library writes each
   * PDU on its own, and one syscall per answer was a fifth of the simulator's CPU at load.
   */
  function cork(s: SessionState): void {
    if (s.corked) return;
    s.corked = true;
    s.session.socket.cork();
    process.nextTick(() => {
      s.corked = false;
      s.session.socket.uncork();
    });
  }

  function writeDeliver(s: SessionState, item: OutItem): boolean {
    cork(s);
    item.attempts++;
    let sequence = 0;
    const ok = s.session.deliver_sm({ ...item.pdu }, (resp) => {
      s.inFlight.delete(sequence);
      if (resp.command_status === STATUS.ESME_ROK) {
        if (item.kind === 'receipt') c.receiptsSent++;
        else c.moSent++;
        return;
      }
      retryOut(item);
    });
    if (!ok) {
      item.attempts--;
      return false;
    }
    // The library numbers the PDU synchronously inside deliver_sm(): the newest number is ours.
    sequence = (s.session as unknown as { sequence: number }).sequence;
    s.inFlight.set(sequence, item);
    return true;
  }

  function retryOut(item: OutItem): void {
    if (item.attempts >= MAX_DELIVER_ATTEMPTS) return;
    later(DELIVER_RETRY_MS, () => {
      enqueueOut(item);
      flushOut(item.systemId);
    });
  }

  function scheduleDue(): void {
    if (dueTimer !== undefined || dueHead >= due.length) return;
    const wait = Math.max(0, due[dueHead]!.dueAt - Date.now());
    dueTimer = setTimeout(runDue, wait);
  }

  function runDue(): void {
    dueTimer = undefined;
    const now = Date.now();
    const touched = new Set<string>();
    while (dueHead < due.length && due[dueHead]!.dueAt <= now) {
      const { item } = due[dueHead++]!;
      enqueueOut(item);
      touched.add(item.systemId);
    }
    if (dueHead > 1024 && dueHead * 2 > due.length) {
      due = due.slice(dueHead);
      dueHead = 0;
    }
    for (const id of touched) flushOut(id);
    scheduleDue();
  }

  function buildReceipt(m: SmppSimMessage, stat: ReceiptStat, idNumber: number): OutItem {
    const now = Date.now();
    const text = receiptText({
      id: formatId(idNumber, behaviour.receiptIdFormat),
      stat,
      submitAt: m.receivedAt,
      doneAt: now,
      text: m.text,
    });
    const pdu: Record<string, unknown> = {
      // A receipt goes back from the handset to the sender: addresses swapped.
      source_addr_ton: m.destTon,
      source_addr_npi: m.destNpi,
      source_addr: m.destinationAddr,
      dest_addr_ton: m.sourceTon,
      dest_addr_npi: m.sourceNpi,
      destination_addr: m.sourceAddr,
      esm_class: 0x04,
      data_coding: 0,
      short_message: Buffer.from(text, 'latin1'),
    };
    if (behaviour.receiptTlvs) {
      pdu['receipted_message_id'] = m.messageId;
      pdu['message_state'] = RECEIPT_STATE[stat].messageState;
    }
    return { kind: 'receipt', systemId: m.systemId, pdu, attempts: 0 };
  }

  // ---- accounting ----

  function keep(m: SmppSimMessage): void {
    if (!m.concat || m.concat.total <= 1) {
      addWhole(m.sourceAddr, m.destinationAddr, m.text, [m]);
      return;
    }
    const cc = m.concat;
    const key = `${m.sourceAddr}\u0000${m.destinationAddr}\u0000${cc.via === 'udh16' || cc.via === 'sar' ? 'r16' : 'r8'}\u0000${cc.ref}\u0000${cc.total}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { parts: new Map(), total: cc.total }));
    if (g.parts.has(cc.seqNum)) c.duplicateParts++;
    g.parts.set(cc.seqNum, m);
    if (g.parts.size < g.total) return;
    groups.delete(key);
    const ordered: SmppSimMessage[] = [];
    for (let i = 1; i <= g.total; i++) {
      const p = g.parts.get(i);
      // Part numbers outside 1..total never complete a message: keep waiting would leak, so count it as is.
      if (p) ordered.push(p);
    }
    addWhole(m.sourceAddr, m.destinationAddr, ordered.map((p) => p.text).join(''), ordered);
  }

  function addWhole(
    sourceAddr: string,
    destinationAddr: string,
    text: string,
    parts: SmppSimMessage[],
  ): void {
    const unknowable = parts.some((p) => p.outcome !== 'accepted');
    c.wholeMessages++;
    wholes.push({
      sourceAddr,
      destinationAddr,
      text,
      parts: parts.length,
      messageIds: parts.map((p) => p.messageId),
      unknowable,
      completedAt: Date.now(),
    });
    const key = `${destinationAddr}\u0000${text}`;
    const entry = counts.get(key);
    if (entry) {
      entry.count++;
      if (unknowable) entry.unknowable++;
    } else {
      counts.set(key, { destinationAddr, text, count: 1, unknowable: unknowable ? 1 : 0 });
    }
  }

  // ---- PDU handling ----

  function respond(s: SessionState, pdu: LibPdu, options: Record<string, unknown>): void {
    if (!s.closed) s.session.send(pdu.response(options));
  }

  function onBind(s: SessionState, pdu: LibPdu): void {
    const type = BIND_TYPES[pdu.command]!;
    let status: number = STATUS.ESME_ROK;
    if (s.bound) status = STATUS.ESME_RALYBND;
    else if (pdu['system_id'] !== systemId) status = STATUS.ESME_RINVSYSID;
    else if (pdu['password'] !== password) status = STATUS.ESME_RINVPASWD;
    else if (behaviour.maxBinds > 0 && countBinds() >= behaviour.maxBinds) status = STATUS.ESME_RBINDFAIL;
    if (status !== STATUS.ESME_ROK) {
      c.bindFailures++;
      respond(s, pdu, { command_status: status });
      return;
    }
    s.bound = { systemId, type };
    c.bindsAccepted++;
    const options: Record<string, unknown> = { system_id: 'smsc-sim' };
    // Announce 3.4 to clients that speak 3.4 or later (SMPP 3.4 5.3.2.25).
    if (typeof pdu['interface_version'] === 'number' && pdu['interface_version'] >= 0x34) {
      options['sc_interface_version'] = 0x34;
    }
    respond(s, pdu, options);
    if (type !== 'transmitter') flushOut(systemId);
  }

  function countBinds(): number {
    let n = 0;
    for (const s of sessions) if (s.bound && !s.closed) n++;
    return n;
  }

  function onSubmit(s: SessionState, pdu: LibPdu): void {
    if (!s.bound || s.bound.type === 'receiver') {
      respond(s, pdu, { command_status: STATUS.ESME_RINVBNDSTS });
      return;
    }
    c.submitReceived++;
    const body = s.lastRead;
    let m: SmppSimMessage;
    try {
      // lastRead is the PDU after its 4-octet length: command_id, status, sequence, then the body.
      if (!body || body.length < 12 || body.readUInt32BE(8) !== pdu.sequence_number) {
        throw new PduFormatError('raw PDU not captured');
      }
      const sm = parseSubmitSmBody(body.subarray(12));
      const { udh, payload, concat: udhConcat } = splitUdh(sm.userData, sm.esmClass);
      const concat = udhConcat ?? sarConcat(sm.tlvs);
      m = {
        seq: ++seq,
        systemId: s.bound.systemId,
        sourceAddr: sm.sourceAddr,
        sourceTon: sm.sourceTon,
        sourceNpi: sm.sourceNpi,
        destinationAddr: sm.destinationAddr,
        destTon: sm.destTon,
        destNpi: sm.destNpi,
        esmClass: sm.esmClass,
        dataCoding: sm.dataCoding,
        registeredDelivery: sm.registeredDelivery,
        serviceType: sm.serviceType,
        text: decodeUserData(sm.dataCoding, payload),
        payloadInTlv: sm.payloadInTlv,
        outcome: 'accepted',
        messageId: '',
        receivedAt: Date.now(),
      };
      if (udh) m.udh = udh.toString('hex');
      if (concat) m.concat = concat;
    } catch (err) {
      if (!(err instanceof PduFormatError)) throw err;
      c.invalid++;
      respond(s, pdu, { command_status: STATUS.ESME_RINVMSGLEN });
      return;
    }
    if (behaviour.dropEvery > 0 && ++dropCounter % behaviour.dropEvery === 0) {
      c.dropped++;
      m.outcome = 'dropped';
      m.messageId = formatId(++nextId, behaviour.messageIdFormat);
      keep(m);
      record(m);
      // Answers already given in this burst still leave (they are corked): only the Nth is lost.
      // Nothing more is read or answered on this connection.
      s.closed = true;
      s.session.pause();
      const socket = s.session.socket;
      socket.uncork();
      socket.end();
      later(1000, () => socket.destroy());
      return;
    }
    if (behaviour.neverAnswer) {
      c.unanswered++;
      m.outcome = 'unanswered';
      m.messageId = formatId(++nextId, behaviour.messageIdFormat);
      keep(m);
      record(m);
      return;
    }
    let status: number = STATUS.ESME_ROK;
    if (rejectDestinations.size > 0 && rejectDestinations.has(m.destinationAddr)) {
      status = STATUS.ESME_RINVDSTADR;
      m.outcome = 'rejected';
      c.rejected++;
    } else if (
      behaviour.queueFull ||
      (behaviour.queueFullEvery > 0 && ++queueFullCounter % behaviour.queueFullEvery === 0)
    ) {
      status = STATUS.ESME_RMSGQFUL;
      m.outcome = 'queueFull';
      c.queueFull++;
    } else if (behaviour.throttleAfterPerSecond > 0) {
      const second = Math.floor(Date.now() / 1000);
      if (second !== throttleSecond) {
        throttleSecond = second;
        acceptedThisSecond = 0;
      }
      if (acceptedThisSecond >= behaviour.throttleAfterPerSecond) {
        status = STATUS.ESME_RTHROTTLED;
        m.outcome = 'throttled';
        c.throttled++;
      } else {
        acceptedThisSecond++;
      }
    }
    if (status !== STATUS.ESME_ROK) {
      m.commandStatus = status;
      record(m);
      answerLater(s, pdu, { command_status: status }, behaviour.responseDelayMs);
      return;
    }

    c.submitAccepted++;
    const idNumber = ++nextId;
    m.messageId = formatId(idNumber, behaviour.messageIdFormat);
    m.commandStatus = STATUS.ESME_ROK;
    keep(m);
    const stat = pickStat(behaviour.receiptMix);
    let delay = behaviour.responseDelayMs;
    if (receiptRequested(m.registeredDelivery, stat)) {
      m.receiptStat = stat;
      const item = buildReceipt(m, stat, idNumber);
      if (behaviour.receiptBeforeResp) {
        enqueueOut(item);
        flushOut(item.systemId);
        // On the same connection TCP keeps the order; on another one give the receipt a lead.
        if (delay < EARLY_RECEIPT_LEAD_MS && receivers(item.systemId).some((r) => r !== s)) {
          delay = EARLY_RECEIPT_LEAD_MS;
        }
      } else {
        due.push({ dueAt: Date.now() + behaviour.receiptDelayMs, item });
        scheduleDue();
      }
    }
    record(m);
    answerLater(s, pdu, { message_id: m.messageId }, delay);
  }

  /** Stores a decided submit_sm, and journals it before any answer to it can leave (answers are corked). */
  function record(m: SmppSimMessage): void {
    stored.push(m);
    if (journalFd !== undefined) fs.writeSync(journalFd, `${JSON.stringify(m)}\n`);
  }

  function replayJournal(path: string): void {
    if (!fs.existsSync(path)) return;
    for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let m: SmppSimMessage;
      try {
        m = JSON.parse(line) as SmppSimMessage;
      } catch {
        continue; // a line cut short by a kill
      }
      c.submitReceived++;
      seq = Math.max(seq, m.seq);
      stored.push(m);
      switch (m.outcome) {
        case 'accepted':
          c.submitAccepted++;
          break;
        case 'dropped':
          c.dropped++;
          break;
        case 'unanswered':
          c.unanswered++;
          break;
        case 'rejected':
          c.rejected++;
          break;
        case 'queueFull':
          c.queueFull++;
          break;
        case 'throttled':
          c.throttled++;
          break;
      }
      if (m.outcome === 'accepted' || m.outcome === 'dropped' || m.outcome === 'unanswered') keep(m);
    }
  }

  function answerLater(
    s: SessionState,
    pdu: LibPdu,
    options: Record<string, unknown>,
    delayMs: number,
  ): void {
    if (delayMs <= 0) respond(s, pdu, options);
    else later(delayMs, () => respond(s, pdu, options));
  }

  function onPdu(s: SessionState, pdu: LibPdu): void {
    if (pdu.isResponse()) return; // deliver_sm_resp reach their callbacks in the library
    switch (pdu.command) {
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        onBind(s, pdu);
        return;
      case 'submit_sm':
        onSubmit(s, pdu);
        return;
      case 'enquire_link':
        c.enquireLinks++;
        respond(s, pdu, {});
        return;
      case 'unbind':
        respond(s, pdu, {});
        s.bound = undefined;
        // Let the unbind_resp leave before the socket ends.
        s.session.close();
        return;
      case 'generic_nack':
        return;
      case 'unknown':
        // The library turns the response of an unknown command into generic_nack ESME_RINVCMDID.
        respond(s, pdu, {});
        return;
      default: {
        // Known to SMPP but not simulated (query_sm, data_sm, submit_multi, outbind, ...).
        let nack: LibPdu;
        try {
          nack = pdu.response({ command_status: STATUS.ESME_RINVCMDID });
        } catch {
          // Commands without a _resp (outbind, alert_notification) get a generic_nack.
          nack = newPdu('generic_nack', {
            sequence_number: pdu.sequence_number,
            command_status: STATUS.ESME_RINVCMDID,
          });
        }
        if (!s.closed) s.session.send(nack);
      }
    }
  }

  function onSession(session: LibSession): void {
    const s: SessionState = {
      session,
      bound: undefined,
      lastRead: undefined,
      inFlight: new Map(),
      closed: false,
      corked: false,
    };
    sessions.add(s);
    const socket = session.socket;
    socket.setNoDelay(true);
    // The library reads each PDU with socket.read(4) then socket.read(length - 4) and emits it
    // synchronously: remembering the last read gives the raw octets of the PDU being handled.
    const read = socket.read.bind(socket) as (size?: number) => unknown;
    socket.read = ((size?: number) => {
      const chunk = read(size);
      if (Buffer.isBuffer(chunk)) s.lastRead = chunk;
      return chunk;
    }) as typeof socket.read;
    session.on('pdu', (pdu: LibPdu) => {
      try {
        cork(s);
        onPdu(s, pdu);
      } catch {
        // A handler bug must not escape into the socket listener (stack.md): drop this client.
        s.closed = true;
        session.destroy();
      }
    });
    // After a decode error the library stops reading but keeps the socket: close it.
    session.on('error', () => {
      s.closed = true;
      session.destroy();
    });
    session.on('close', () => {
      s.closed = true;
      sessions.delete(s);
      const wasReceiver = s.bound !== undefined && s.bound.type !== 'transmitter';
      s.bound = undefined;
      // deliver_sm not acknowledged are sent again on the next receiver bind, first.
      const pending = [...s.inFlight.values()].reverse();
      s.inFlight.clear();
      for (const item of pending) enqueueOut(item, true);
      if (wasReceiver) for (const id of new Set(pending.map((p) => p.systemId))) flushOut(id);
    });
  }

  let journalFd: number | undefined;
  if (opts.journalPath !== undefined) {
    replayJournal(opts.journalPath);
    journalFd = fs.openSync(opts.journalPath, 'a');
  }

  const server: LibServer = createLibServer(
    opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {},
    onSession,
  );
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // A later listener error (none expected once listening) must not crash the process.
  server.on('error', () => undefined);
  const port = (server.address() as AddressInfo).port;

  function stats(): SmppSimStats {
    let receiptsPending = due.length - dueHead;
    let moPending = 0;
    const tally = (i: OutItem): void => {
      if (i.kind === 'receipt') receiptsPending++;
      else moPending++;
    };
    for (const q of outbox.values()) q.forEach(tally);
    for (const s of sessions) s.inFlight.forEach(tally);
    return {
      binds: countBinds(),
      submitReceived: c.submitReceived,
      submitAccepted: c.submitAccepted,
      throttled: c.throttled,
      queueFull: c.queueFull,
      rejected: c.rejected,
      dropped: c.dropped,
      unanswered: c.unanswered,
      invalid: c.invalid,
      receiptsSent: c.receiptsSent,
      receiptsPending,
      moSent: c.moSent,
      moPending,
      uniqueMessages: counts.size,
      duplicates: c.wholeMessages - counts.size,
      wholeMessages: c.wholeMessages,
      incompleteMessages: groups.size,
      duplicateParts: c.duplicateParts,
      bindFailures: c.bindFailures,
      enquireLinks: c.enquireLinks,
      outExpired: c.outExpired,
      bindsAccepted: c.bindsAccepted,
      fuzzSent: c.fuzzSent,
      fuzzByKind: { ...fuzzByKind },
    };
  }

  // ---- fuzz mode: malformed PDUs to bound sessions ----
  let fuzzTimer: NodeJS.Timeout | undefined;
  let fuzzN = 0;
  // Deterministic octets (mulberry32): a failing run can be repeated.
  let fuzzState = 0x5eed;
  const fuzzRand = (): number => {
    fuzzState = (fuzzState + 0x6d2b79f5) >>> 0;
    let t = fuzzState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  function armFuzz(): void {
    if (fuzzTimer) clearInterval(fuzzTimer);
    fuzzTimer = behaviour.fuzzEveryMs > 0 ? setInterval(fuzzTick, behaviour.fuzzEveryMs) : undefined;
  }
  function fuzzTick(): void {
    if (behaviour.fuzzLimit > 0 && c.fuzzSent >= behaviour.fuzzLimit) return;
    const bound = [...sessions].filter((s) => s.bound && !s.closed);
    if (bound.length === 0) return;
    const kinds = behaviour.fuzzKinds.length ? behaviour.fuzzKinds : FUZZ_PDU_KINDS;
    const s = bound[fuzzN % bound.length]!;
    const kind = kinds[fuzzN % kinds.length]!;
    fuzzN++;
    s.session.socket.write(fuzzPdu(kind, fuzzRand, fuzzN));
    c.fuzzSent++;
    fuzzByKind[kind] = (fuzzByKind[kind] ?? 0) + 1;
  }

  function messages(filter: SmppSimMessageFilter = {}): SmppSimMessage[] {
    const limit = filter.limit ?? Infinity;
    const out: SmppSimMessage[] = [];
    if (limit <= 0) return out;
    for (const m of stored.values()) {
      if (filter.afterSeq !== undefined && m.seq <= filter.afterSeq) continue;
      if (filter.destinationAddr !== undefined && m.destinationAddr !== filter.destinationAddr) continue;
      if (filter.text !== undefined && m.text !== filter.text) continue;
      if (filter.outcome !== undefined && m.outcome !== filter.outcome) continue;
      if (filter.messageId !== undefined && m.messageId !== filter.messageId) continue;
      out.push(m.concat ? { ...m, concat: { ...m.concat } } : { ...m });
      if (out.length >= limit) break;
    }
    return out;
  }

  function wholeMessages(filter: SmppSimWholeFilter = {}): SmppSimWholeMessage[] {
    const limit = filter.limit ?? Infinity;
    const out: SmppSimWholeMessage[] = [];
    if (limit <= 0) return out;
    for (const w of wholes.values()) {
      if (filter.destinationAddr !== undefined && w.destinationAddr !== filter.destinationAddr) continue;
      if (filter.text !== undefined && w.text !== filter.text) continue;
      out.push({ ...w, messageIds: [...w.messageIds] });
      if (out.length >= limit) break;
    }
    return out;
  }

  function countsOf(o: { duplicatesOnly?: boolean } = {}): SmppSimCount[] {
    const out: SmppSimCount[] = [];
    for (const e of counts.values()) if (!o.duplicatesOnly || e.count > 1) out.push({ ...e });
    return out;
  }

  function setBehaviour(patch: Partial<SmppSimBehaviour>): SmppSimBehaviour {
    const next = mergeSmppBehaviour(behaviour, patch);
    behaviour = next;
    rejectDestinations = new Set(next.rejectDestinations);
    if (patch.dropEvery !== undefined) dropCounter = 0;
    if (patch.queueFullEvery !== undefined) queueFullCounter = 0;
    if (patch.fuzzEveryMs !== undefined) armFuzz();
    return cloneBehaviour(next);
  }

  function reset(): void {
    c = zeroCounters();
    fuzzByKind = {};
    seq = dropCounter = queueFullCounter = acceptedThisSecond = 0;
    stored.clear();
    if (journalFd !== undefined) fs.ftruncateSync(journalFd, 0);
    wholes.clear();
    counts.clear();
    groups.clear();
    due = [];
    dueHead = 0;
    if (dueTimer !== undefined) clearTimeout(dueTimer);
    dueTimer = undefined;
    outbox.clear();
    // Answers already owed to clients stay; retries of old deliver_sm do not.
    for (const s of sessions) s.inFlight.clear();
  }

  function sendMo(mo: SmppMoRequest): { parts: number; reference: number } {
    if (typeof mo.from !== 'string' || typeof mo.to !== 'string' || typeof mo.text !== 'string') {
      throw new TypeError('from, to and text must be strings');
    }
    if (mo.to === '') throw new TypeError('to must not be empty');
    moReference = (moReference + 1) & 0xff;
    const parts = encodeMo(mo.text, moReference, mo.parts);
    let order = parts.map((p) => p.seqNum);
    if (mo.order !== undefined) {
      const sorted = [...mo.order].sort((a, b) => a - b);
      if (sorted.length !== parts.length || sorted.some((v, i) => v !== i + 1)) {
        throw new RangeError(`order must list each part number 1..${parts.length} once`);
      }
      order = mo.order;
    }
    const target = mo.systemId ?? systemId;
    const alpha = /[^0-9+]/.test(mo.from);
    for (const n of order) {
      const p = parts[n - 1]!;
      enqueueOut({
        kind: 'mo',
        systemId: target,
        attempts: 0,
        pdu: {
          source_addr_ton: alpha ? 5 : 1,
          source_addr_npi: alpha ? 0 : 1,
          source_addr: mo.from.replace(/^\+/, ''),
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: mo.to.replace(/^\+/, ''),
          esm_class: p.esmClass,
          data_coding: p.dataCoding,
          short_message: p.shortMessage,
        },
      });
    }
    flushOut(target);
    return { parts: parts.length, reference: moReference };
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      if (fuzzTimer) clearInterval(fuzzTimer);
      fuzzTimer = undefined;
      if (dueTimer !== undefined) clearTimeout(dueTimer);
      dueTimer = undefined;
      if (journalFd !== undefined) fs.closeSync(journalFd);
      journalFd = undefined;
      server.close(() => resolve());
      for (const s of sessions) {
        s.closed = true;
        s.session.destroy();
      }
    });
    return closing;
  }

  armFuzz();
  return {
    port,
    host,
    tls: opts.tls !== undefined,
    systemId,
    stats,
    messages,
    wholeMessages,
    counts: countsOf,
    behaviour: () => cloneBehaviour(behaviour),
    setBehaviour,
    reset,
    binds: () => [...sessions].filter((s) => s.bound && !s.closed).map((s) => ({ ...s.bound! })),
    sendMo,
    close,
  };
}
