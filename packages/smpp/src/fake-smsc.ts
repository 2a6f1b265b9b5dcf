import net from 'node:net';
import {
  CMD,
  RESPONSE_BIT,
  decodePdu,
  encodePdu,
  field,
  headerOnly,
  isResponse,
  PduReader,
  type Pdu,
} from './smpp-lib.js';

/**
 * A tiny misbehaving SMSC on a real TCP socket, for the contract tests of this package (one
 * misbehaviour per switch, after Jasmin's fake SMSCs). The fleet's simulator lives in
 * packages/smsc-sim; this one stays here so the client's tests do not depend on its progress.
 */

export interface FakeSmscBehaviour {
  systemId?: string;
  password?: string;
  /** Answer ESME_RTHROTTLED to submits above this many per second (per server). */
  throttlePerSec?: number;
  /** Answer ESME_RMSGQFUL to every Nth submit. */
  queueFullEvery?: number;
  /** Drop the connection on every Nth submit, before answering it (outcome unknown). */
  dropEvery?: number;
  /** Never answer a submit (binds and enquire_link still work). */
  neverAnswer?: boolean;
  responseDelayMs?: number;
  /** Answer ESME_RSYSERR to every Nth submit. */
  sysErrEvery?: number;
  /** Destinations answered ESME_RINVDSTADR. */
  rejectDest?: string[];
  /** Send a delivery receipt for each accepted submit that asks for one (on a receiving bind). */
  receipts?: boolean;
}

export interface AcceptedSubmit {
  messageId: string;
  pdu: Pdu;
  dest: string;
  /** short_message (with UDH) or message_payload. */
  data: Buffer;
}

export interface FakeSmsc {
  port: number;
  accepted: AcceptedSubmit[];
  /** Every submit received, answered or not. */
  received: number;
  binds: Array<{ command: string; systemId: string; ok: boolean }>;
  /** Connections open now. */
  connections(): number;
  maxConcurrentBinds: number;
  behaviour: FakeSmscBehaviour;
  /** Sends a header-only request (enquire_link, an unknown command ...) to every bound session. */
  request(commandId: number): Promise<Array<{ commandId: number; status: number }>>;
  /** Sends a deliver_sm to every receiving bind; resolves with the answers' statuses. */
  deliver(fields: Record<string, unknown>, tlvs?: Record<string, unknown>): Promise<number[]>;
  close(): Promise<void>;
}

interface Conn {
  socket: net.Socket;
  bound: string | undefined;
  seq: number;
  waiting: Map<number, (status: number, commandId: number) => void>;
}

export async function startFakeSmsc(behaviour: FakeSmscBehaviour = {}): Promise<FakeSmsc> {
  const conns = new Set<Conn>();
  let nextId = 1;
  let windowStart = Date.now();
  let windowCount = 0;
  const state: FakeSmsc = {
    port: 0,
    accepted: [],
    received: 0,
    binds: [],
    maxConcurrentBinds: 0,
    behaviour,
    connections: () => conns.size,
    request: (commandId) =>
      Promise.all(
        [...conns]
          .filter((c) => c.bound)
          .map(
            (c) =>
              new Promise<{ commandId: number; status: number }>((resolve) => {
                c.seq++;
                c.waiting.set(c.seq, (status, id) => resolve({ commandId: id, status }));
                c.socket.write(headerOnly(commandId, 0, c.seq));
              }),
          ),
      ),
    deliver: async (fields, tlvs) => {
      const targets = [...conns].filter((c) => c.bound === 'bind_transceiver' || c.bound === 'bind_receiver');
      return Promise.all(targets.map((c) => sendDeliver(c, fields, tlvs ?? {})));
    },
    close: async () => {
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const sendDeliver = (c: Conn, fields: Record<string, unknown>, tlvs: Record<string, unknown>) =>
    new Promise<number>((resolve) => {
      c.seq++;
      c.waiting.set(c.seq, resolve);
      c.socket.write(encodePdu('deliver_sm', fields, { sequence_number: c.seq, tlvs }));
    });

  const boundCount = () => [...conns].filter((c) => c.bound).length;

  const onPdu = (c: Conn, buf: Buffer) => {
    const pdu = decodePdu(buf);
    const b = state.behaviour;
    if (isResponse(pdu.command_id)) {
      c.waiting.get(pdu.sequence_number)?.(pdu.command_status, pdu.command_id);
      c.waiting.delete(pdu.sequence_number);
      return;
    }
    const reply = (command: string, status: number, fields: Record<string, unknown> = {}) =>
      c.socket.write(
        encodePdu(command, fields, { sequence_number: pdu.sequence_number, command_status: status }),
      );
    switch (pdu.command) {
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver': {
        const ok =
          (b.systemId === undefined || pdu.system_id === b.systemId) &&
          (b.password === undefined || pdu.password === b.password);
        state.binds.push({ command: pdu.command, systemId: String(pdu.system_id), ok });
        if (!ok) {
          reply(`${pdu.command}_resp`, 0x0e);
          return;
        }
        c.bound = pdu.command;
        state.maxConcurrentBinds = Math.max(state.maxConcurrentBinds, boundCount());
        reply(`${pdu.command}_resp`, 0, { system_id: 'fakesmsc' });
        return;
      }
      case 'enquire_link':
        c.socket.write(headerOnly(CMD.enquire_link | RESPONSE_BIT, 0, pdu.sequence_number));
        return;
      case 'unbind':
        c.socket.write(headerOnly(CMD.unbind | RESPONSE_BIT, 0, pdu.sequence_number));
        c.socket.end();
        return;
      case 'submit_sm':
      case 'submit_multi': {
        state.received++;
        const n = state.received;
        if (!c.bound || c.bound === 'bind_receiver') {
          reply(`${pdu.command}_resp`, 0x04);
          return;
        }
        if (b.dropEvery && n % b.dropEvery === 0) {
          c.socket.destroy();
          return;
        }
        if (b.neverAnswer) return;
        const now = Date.now();
        if (now - windowStart >= 1000) {
          windowStart = now;
          windowCount = 0;
        }
        let status = 0;
        const dest = field(pdu, 'destination_addr');
        if (b.throttlePerSec !== undefined && ++windowCount > b.throttlePerSec) status = 0x58;
        else if (b.queueFullEvery && n % b.queueFullEvery === 0) status = 0x14;
        else if (b.sysErrEvery && n % b.sysErrEvery === 0) status = 0x08;
        else if (b.rejectDest?.includes(dest)) status = 0x0b;
        const answer = () => {
          if (c.socket.destroyed) return;
          if (status !== 0) {
            reply(`${pdu.command}_resp`, status);
            return;
          }
          const messageId = (nextId++).toString(16).toUpperCase();
          const data =
            Buffer.isBuffer(pdu.short_message) && pdu.short_message.length
              ? pdu.short_message
              : ((pdu.message_payload as Buffer | undefined) ?? Buffer.alloc(0));
          state.accepted.push({ messageId, pdu, dest, data });
          reply(`${pdu.command}_resp`, 0, { message_id: messageId });
          if (b.receipts && Number(pdu.registered_delivery ?? 0) & 1) {
            const text = `id:${messageId} sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:`;
            for (const r of conns) {
              if (r.bound !== 'bind_transceiver' && r.bound !== 'bind_receiver') continue;
              void sendDeliver(
                r,
                {
                  source_addr: dest,
                  destination_addr: field(pdu, 'source_addr'),
                  esm_class: 0x04,
                  data_coding: 0,
                  short_message: Buffer.from(text, 'ascii'),
                },
                { receipted_message_id: messageId, message_state: 2 },
              );
              break;
            }
          }
        };
        if (b.responseDelayMs) setTimeout(answer, b.responseDelayMs);
        else answer();
        return;
      }
      default:
        c.socket.write(headerOnly(CMD.generic_nack, 0x03, pdu.sequence_number));
    }
  };

  const server = net.createServer((socket) => {
    const c: Conn = { socket, bound: undefined, seq: 0, waiting: new Map() };
    conns.add(c);
    const reader = new PduReader();
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of reader.push(chunk)) onPdu(c, f);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      conns.delete(c);
      for (const w of c.waiting.values()) w(-1, 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}
