import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { SmsfleetError } from '@smsfleet/core';
import {
  CMD,
  RESPONSE_BIT,
  decodePdu,
  encodePdu,
  headerOnly,
  isResponse,
  PduReader,
  type Pdu,
} from './smpp-lib.js';

/**
 * One SMPP connection and its bind. Owns what the smpp package does not: the window of
 * outstanding requests, a deadline per request, enquire_link on idle, answering the SMSC's
 * requests, unbind on close, and failing everything in flight when the connection goes.
 */

export type BindType = 'transmitter' | 'receiver' | 'transceiver';

export interface SmppSessionOptions {
  host: string;
  port: number;
  /** TLS options (SMPPS); undefined = plain TCP. */
  tls?: tls.ConnectionOptions;
  bindType: BindType;
  systemId: string;
  password: string;
  systemType: string;
  interfaceVersion: number;
  /** Outstanding requests at most. */
  window: number;
  /** A request fails when its response has not come this long after it was sent (0 = never). */
  requestTimeoutMs: number;
  /**
   * A request also fails when nothing at all arrived from the SMSC for this long while it waited
   * (the seed's inactivity `timeout`; 0 = off).
   */
  inactivityTimeoutMs: number;
  /** Send enquire_link after this long without traffic. */
  enquireLinkMs: number;
  connectTimeoutMs: number;
  /** deliver_sm / data_sm from the SMSC; the return value is the command_status we answer. */
  onDeliver?: (pdu: Pdu) => number | Promise<number>;
  /** Every PDU in and out (the gateway test prints them). */
  onTrace?: (dir: 'in' | 'out', pdu: Pdu) => void;
}

/** Why a request did not get an answer. `written` false: it never left, so resending is safe. */
export class SmppRequestError extends SmsfleetError {
  constructor(
    code: 'SMPP_CLOSED' | 'SMPP_TIMEOUT' | 'SMPP_NOT_WRITABLE',
    message: string,
    readonly written: boolean,
  ) {
    super(code, message);
  }
}

/** The bind was refused (bad password, bind failed ...) or the connection could not be made. */
export class SmppBindError extends SmsfleetError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super('SMPP_BIND', message);
  }
}

interface Pending {
  seq: number;
  command: number;
  sentAt: number;
  resolve(pdu: Pdu): void;
  reject(err: Error): void;
}

/** submit_sm_resp and submit_multi_resp: the hot path reads only message_id. */
function isSubmitResp(commandId: number): boolean {
  return commandId === (CMD.submit_sm | RESPONSE_BIT) >>> 0 || commandId === 0x80000021;
}

function submitRespFast(buf: Buffer): Pdu {
  const end = buf.indexOf(0, 16);
  return {
    command: buf.readUInt32BE(4) === 0x80000021 ? 'submit_multi_resp' : 'submit_sm_resp',
    command_id: buf.readUInt32BE(4),
    command_status: buf.readUInt32BE(8),
    sequence_number: buf.readUInt32BE(12),
    command_length: buf.length,
    message_id: buf.length > 16 ? buf.toString('latin1', 16, end < 0 ? buf.length : end) : '',
  };
}

const BIND_COMMAND: Record<BindType, string> = {
  transmitter: 'bind_transmitter',
  receiver: 'bind_receiver',
  transceiver: 'bind_transceiver',
};

export class SmppSession extends EventEmitter {
  private socket: net.Socket;
  private readonly reader = new PduReader();
  private readonly pending = new Map<number, Pending>();
  private readonly waiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private slotsInUse = 0;
  private corked = false;
  private seq = 0;
  private lastRx = Date.now();
  private lastTx = Date.now();
  private sweep: NodeJS.Timeout | undefined;
  private state: 'connecting' | 'binding' | 'bound' | 'closing' | 'closed' = 'connecting';
  private closeError: Error | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  /** Requests in flight plus callers waiting for a window slot. */
  load = 0;
  readonly remote: string;

  private constructor(readonly opts: SmppSessionOptions) {
    super();
    this.remote = `${opts.host}:${opts.port}`;
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.socket = opts.tls
      ? tls.connect({ host: opts.host, port: opts.port, ...opts.tls })
      : net.connect({ host: opts.host, port: opts.port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.destroy(err));
    this.socket.on('close', () => this.onClose());
  }

  /** Connects and binds; rejects with SmppBindError when either fails. */
  static async open(opts: SmppSessionOptions): Promise<SmppSession> {
    const s = new SmppSession(opts);
    try {
      await s.connectAndBind();
      return s;
    } catch (err) {
      s.destroy();
      throw err;
    }
  }

  get bound(): boolean {
    return this.state === 'bound';
  }
  get inFlight(): number {
    return this.pending.size;
  }
  /** Resolves when the connection is gone (after close() or any failure). */
  get closed(): Promise<void> {
    return this.closedPromise;
  }
  get error(): Error | undefined {
    return this.closeError;
  }

  private async connectAndBind(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const ev = this.opts.tls ? 'secureConnect' : 'connect';
      const timer = setTimeout(
        () => reject(new SmppBindError(`connect to ${this.remote} timed out`)),
        this.opts.connectTimeoutMs,
      );
      const onErr = (err: Error) => {
        clearTimeout(timer);
        reject(new SmppBindError(`connect to ${this.remote} failed: ${err.message}`));
      };
      this.socket.once('error', onErr);
      this.socket.once('close', () => onErr(new Error('connection closed')));
      this.socket.once(ev, () => {
        clearTimeout(timer);
        this.socket.off('error', onErr);
        resolve();
      });
    });
    this.state = 'binding';
    this.sweep = setInterval(() => this.onSweep(), 100);
    this.sweep.unref();
    const resp = await this.request(
      BIND_COMMAND[this.opts.bindType],
      {
        system_id: this.opts.systemId,
        password: this.opts.password,
        system_type: this.opts.systemType,
        interface_version: this.opts.interfaceVersion,
        addr_ton: 0,
        addr_npi: 0,
        address_range: '',
      },
      {},
      { timeoutMs: this.opts.connectTimeoutMs },
    ).catch((err: Error) => {
      throw new SmppBindError(`bind to ${this.remote} failed: ${err.message}`);
    });
    if (resp.command_status !== 0) {
      throw new SmppBindError(`bind refused by ${this.remote}`, resp.command_status);
    }
    this.state = 'bound';
  }

  /** Waits for a window slot (never longer than the session lives). */
  private async slot(signal?: AbortSignal): Promise<void> {
    // Counted synchronously: callers arriving in the same tick must not all see a free window.
    if (this.slotsInUse < this.opts.window && this.waiters.length === 0) {
      this.slotsInUse++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const w = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  private freeSlot(): void {
    this.slotsInUse--;
    while (this.waiters.length && this.slotsInUse < this.opts.window) {
      this.slotsInUse++;
      this.waiters.shift()?.resolve();
    }
  }

  /**
   * Sends a request (in the window) and resolves with its response, whatever its status.
   * Rejects with SmppRequestError: `written` tells whether the SMSC may have got it.
   */
  async submit(
    command: string,
    fields: Record<string, unknown>,
    tlvs: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Pdu> {
    if (this.state !== 'bound') throw new SmppRequestError('SMPP_CLOSED', 'session is not bound', false);
    this.load++;
    try {
      await this.slot(signal);
      try {
        if (this.state !== 'bound') throw new SmppRequestError('SMPP_CLOSED', 'session is not bound', false);
        return await this.request(command, fields, tlvs, {});
      } finally {
        this.freeSlot();
      }
    } finally {
      this.load--;
    }
  }

  private request(
    command: string,
    fields: Record<string, unknown>,
    tlvs: Record<string, unknown>,
    o: { timeoutMs?: number },
  ): Promise<Pdu> {
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    const seq = this.seq;
    // Encoding errors (a short_message over 255 octets) throw here, before anything is written.
    const buf = encodePdu(command, fields, { sequence_number: seq, tlvs });
    return new Promise<Pdu>((resolve, reject) => {
      if (!this.socket.writable) {
        // The peer ended the connection and 'close' has not come yet: stop offering this session.
        this.destroy(new Error('connection is not writable'));
        reject(new SmppRequestError('SMPP_NOT_WRITABLE', 'connection is not writable', false));
        return;
      }
      const p: Pending = { seq, command: buf.readUInt32BE(4), sentAt: Date.now(), resolve, reject };
      if (o.timeoutMs) {
        const t = setTimeout(() => {
          if (this.pending.delete(seq)) {
            reject(new SmppRequestError('SMPP_TIMEOUT', `no response in ${o.timeoutMs} ms`, true));
          }
        }, o.timeoutMs);
        p.resolve = (pdu) => {
          clearTimeout(t);
          resolve(pdu);
        };
        p.reject = (e) => {
          clearTimeout(t);
          reject(e);
        };
      }
      this.pending.set(seq, p);
      this.write(buf);
    });
  }

  private write(buf: Buffer): void {
    this.lastTx = Date.now();
    if (this.opts.onTrace) this.trace('out', buf);
    // PDUs written in the same tick leave in one write (one syscall for a whole window).
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(buf);
  }

  private trace(dir: 'in' | 'out', buf: Buffer): void {
    try {
      this.opts.onTrace?.(dir, decodePdu(buf));
    } catch {
      // tracing never breaks the session
    }
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      // A framing error: nothing after it can be trusted.
      this.destroy(err as Error);
      return;
    }
    for (const f of frames) {
      if (this.state === 'closed') return;
      this.onFrame(f);
    }
  }

  private onFrame(buf: Buffer): void {
    const commandId = buf.readUInt32BE(4);
    const status = buf.readUInt32BE(8);
    const seq = buf.readUInt32BE(12);
    if (isResponse(commandId)) {
      const p = this.pending.get(seq);
      if (!p) return; // late answer to a request that already timed out
      let pdu: Pdu;
      try {
        pdu = isSubmitResp(commandId) && !this.opts.onTrace ? submitRespFast(buf) : decodePdu(buf);
      } catch {
        pdu = {
          command: 'undecodable',
          command_id: commandId,
          command_status: status,
          sequence_number: seq,
          command_length: buf.length,
        };
      }
      if (this.opts.onTrace) this.opts.onTrace('in', pdu);
      this.pending.delete(seq);
      // generic_nack for our request: the SMSC could not read it (its status says why).
      p.resolve(commandId === CMD.generic_nack && status === 0 ? { ...pdu, command_status: 0x03 } : pdu);
      return;
    }
    let pdu: Pdu | undefined;
    try {
      pdu = decodePdu(buf);
    } catch {
      pdu = undefined;
    }
    if (pdu && this.opts.onTrace) this.opts.onTrace('in', pdu);
    switch (commandId) {
      case CMD.enquire_link:
        this.write(headerOnly(CMD.enquire_link | RESPONSE_BIT, 0, seq));
        return;
      case CMD.unbind:
        this.write(headerOnly(CMD.unbind | RESPONSE_BIT, 0, seq));
        this.state = 'closing';
        this.socket.end();
        return;
      case CMD.deliver_sm:
      case CMD.data_sm: {
        const respCmd = commandId === CMD.deliver_sm ? 'deliver_sm_resp' : 'data_sm_resp';
        const answer = (status: number) => {
          if (this.state === 'closed') return; // the SMSC redelivers what we did not answer
          this.write(
            encodePdu(respCmd, { message_id: '' }, { sequence_number: seq, command_status: status }),
          );
        };
        if (!pdu) {
          answer(0x02);
          return;
        }
        // The answer waits for the handler (the event is stored before we take responsibility);
        // a failing handler answers ESME_RX_T_APPN so the SMSC redelivers later.
        let result: number | Promise<number>;
        try {
          result = this.opts.onDeliver ? this.opts.onDeliver(pdu) : 0;
        } catch {
          result = 0x64;
        }
        if (typeof result === 'number') answer(result);
        else result.then(answer, () => answer(0x64));
        return;
      }
      default:
        // An unknown or unexpected request: answer generic_nack ESME_RINVCMDID, keep the session.
        this.write(headerOnly(CMD.generic_nack, 0x03, seq));
    }
  }

  /** Per-request deadlines and the idle enquire_link, on one timer for the whole session. */
  private onSweep(): void {
    const now = Date.now();
    const { requestTimeoutMs: abs, inactivityTimeoutMs: idle } = this.opts;
    let expired = false;
    for (const p of this.pending.values()) {
      if ((abs > 0 && now - p.sentAt > abs) || (idle > 0 && now - Math.max(p.sentAt, this.lastRx) > idle)) {
        expired = true;
        break;
      }
    }
    if (expired) {
      // A request without an answer means the SMSC or the link is broken; its outcome is
      // unknown. Tear the session down so every request fails over to a fresh bind.
      this.destroy(new SmppRequestError('SMPP_TIMEOUT', `no response from ${this.remote} in time`, true));
      return;
    }
    if (
      this.state === 'bound' &&
      this.opts.enquireLinkMs > 0 &&
      now - Math.max(this.lastRx, this.lastTx) > this.opts.enquireLinkMs
    ) {
      this.request(
        'enquire_link',
        {},
        {},
        { timeoutMs: this.opts.requestTimeoutMs || this.opts.enquireLinkMs },
      ).catch((err: Error) => this.destroy(err));
    }
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.sweep) clearInterval(this.sweep);
    const err = this.closeError;
    const reason = err ? `connection lost: ${err.message}` : 'connection closed';
    for (const p of this.pending.values()) {
      p.reject(
        err instanceof SmppRequestError && err.code === 'SMPP_TIMEOUT'
          ? new SmppRequestError('SMPP_TIMEOUT', err.message, true)
          : new SmppRequestError('SMPP_CLOSED', reason, true),
      );
    }
    this.pending.clear();
    for (const w of this.waiters.splice(0)) w.reject(new SmppRequestError('SMPP_CLOSED', reason, false));
    this.resolveClosed();
    this.emit('close', err);
  }

  /** Abort: close the socket now; everything in flight fails (outcome unknown). */
  destroy(err?: Error): void {
    if (err && !this.closeError) this.closeError = err;
    if (this.state === 'closed') return;
    this.socket.destroy();
    // 'close' follows asynchronously; fail waiters now so no new request goes out.
    if (this.state !== 'closing') this.state = 'closing';
  }

  /**
   * Graceful close: no new requests, wait for outstanding responses (up to drainMs), unbind,
   * wait for unbind_resp (up to 2 s), end the connection. Idempotent.
   */
  async close(drainMs = 5000): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'bound') {
      this.state = 'closing';
      for (const w of this.waiters.splice(0))
        w.reject(new SmppRequestError('SMPP_CLOSED', 'session closing', false));
      const until = Date.now() + drainMs;
      while (this.pending.size > 0 && Date.now() < until && this.socket.writable) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (this.socket.writable) {
        this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
        const seq = this.seq;
        const answered = new Promise<void>((resolve) => {
          this.pending.set(seq, {
            seq,
            command: CMD.unbind,
            sentAt: Date.now(),
            resolve: () => resolve(),
            reject: () => resolve(),
          });
        });
        this.write(headerOnly(CMD.unbind, 0, seq));
        await Promise.race([answered, new Promise((r) => setTimeout(r, 2000))]);
      }
      this.socket.end();
      const t = setTimeout(() => this.socket.destroy(), 1000);
      await this.closedPromise;
      clearTimeout(t);
      return;
    }
    this.destroy();
    await this.closedPromise;
  }
}
