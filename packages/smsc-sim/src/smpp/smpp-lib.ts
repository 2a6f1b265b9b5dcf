import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import type { Socket } from 'node:net';

// `smpp` 0.5.1 ships no types and no @types package exists: this is the small slice the
// simulator uses, typed by hand. Loaded through createRequire so no ambient module declaration
// leaks into other packages of the workspace (packages/smpp keeps its own wrapper).

/** A decoded PDU. Fields depend on `command`; the simulator reads only the few it needs. */
export interface LibPdu {
  command: string;
  command_id: number;
  command_status: number;
  sequence_number: number;
  [field: string]: unknown;
  isResponse(): boolean;
  response(options?: Record<string, unknown>): LibPdu;
}

export interface LibSession extends EventEmitter {
  socket: Socket;
  send(pdu: LibPdu, responseCallback?: (resp: LibPdu) => void, sendCallback?: (pdu: LibPdu) => void): boolean;
  deliver_sm(options: Record<string, unknown>, responseCallback?: (resp: LibPdu) => void): boolean;
  pause(): void;
  resume(): void;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
}

export interface LibServer extends Server {
  sessions: LibSession[];
}

interface SmppModule {
  createServer(options: Record<string, unknown>, listener?: (session: LibSession) => void): LibServer;
  PDU: new (command: string, options?: Record<string, unknown>) => LibPdu;
}

const smpp = createRequire(import.meta.url)('smpp') as SmppModule;

export function createLibServer(
  options: { key?: string; cert?: string },
  listener: (session: LibSession) => void,
): LibServer {
  return smpp.createServer(options, listener);
}

export function newPdu(command: string, options: Record<string, unknown> = {}): LibPdu {
  return new smpp.PDU(command, options);
}

/** SMPP command_status values the simulator answers with. */
export const STATUS = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVDSTADR: 0x0b,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RMSGQFUL: 0x14,
  ESME_RTHROTTLED: 0x58,
} as const;
