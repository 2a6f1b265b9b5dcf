import type { ConfigSnapshot } from '@smsfleet/config';
import {
  chooseEncoding,
  countSegments,
  describeSmppConfig,
  describeSmppStatus,
  newSmsId,
  parseSmppUrl,
  SmppConfigError,
  type OutboundSms,
} from '@smsfleet/core';
import { SmppTransport, type Pdu } from '@smsfleet/smpp';
import { CliError } from './cli-error.js';

type Out = (line: string) => void;

const HEADER = new Set(['command', 'command_id', 'command_status', 'sequence_number', 'command_length']);

/** One line per PDU: command, status, sequence and every field (password masked, bytes as hex). */
export function formatPdu(dir: 'in' | 'out', bind: string, pdu: Pdu): string {
  const parts = [`${dir === 'out' ? '>' : '<'} [${bind}] ${pdu.command} seq=${pdu.sequence_number}`];
  if (pdu.command.endsWith('_resp') || pdu.command === 'generic_nack' || pdu.command_status !== 0)
    parts.push(`status=${describeSmppStatus(pdu.command_status)}`);
  for (const [k, v] of Object.entries(pdu)) {
    if (HEADER.has(k) || v === undefined) continue;
    if (k === 'password') parts.push(`${k}=********`);
    else if (Buffer.isBuffer(v)) parts.push(`${k}=${v.toString('hex')}`);
    else if (typeof v === 'object') parts.push(`${k}=${JSON.stringify(v)}`);
    else parts.push(`${k}=${JSON.stringify(v)}`);
  }
  return parts.join(' ');
}

/**
 * `smsfleet gateway test ID --to N --text T` for SMPP gateways: binds, sends one message, prints
 * each PDU both ways, unbinds. Exits non-zero (CliError) when the message is not accepted.
 */
export async function testSmppGateway(
  gw: { id: number; name: string; url: string },
  cfg: ConfigSnapshot,
  m: { to: string; text: string; from: string },
  out: Out,
  opts: { timeoutMs?: number } = {},
): Promise<void> {
  let config;
  try {
    config = parseSmppUrl(gw.url, { globals: cfg as unknown as Record<string, unknown> });
  } catch (err) {
    if (err instanceof SmppConfigError) throw new CliError(`gateway ${gw.id}: ${err.message}`);
    throw err;
  }
  // One bind is enough to test, whatever the gateway holds in production; no lease (a test bind
  // next to a busy fleet can exceed the provider's count for a moment: the operator chose it).
  config = { ...config, binds: 1 };
  out(`gateway ${gw.id} (${gw.name}) ${describeSmppConfig(config)}`);
  const t = new SmppTransport({
    gatewayId: gw.id,
    config,
    sendTimeoutMs: opts.timeoutMs ?? 15_000,
    reconnectBaseMs: 1000,
    onTrace: (bind, dir, pdu) => out(formatPdu(dir, bind, pdu)),
    onDeliver: (e) => {
      if (e.kind === 'receipt')
        out(
          `receipt: id ${e.receipt.providerMessageId} stat ${e.receipt.stat ?? '-'} err ${e.receipt.err ?? '-'}`,
        );
      else out(`mo: from ${e.mo.from} to ${e.mo.to}: ${e.mo.text}`);
    },
  });
  const msg: OutboundSms = {
    smsid: newSmsId(),
    userId: 0,
    gatewayId: gw.id,
    from: m.from,
    to: m.to,
    text: m.text,
    encoding: chooseEncoding(m.text),
    segments: countSegments(m.text).segments,
    clientIp: '127.0.0.1',
    acceptedAt: Date.now(),
  };
  out(`smsid ${msg.smsid}`);
  let result;
  try {
    result = await t.send(msg);
    // A receipt on a receiving bind usually follows within a moment.
    if (result.ok && result.awaitReceipt) await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await t.close();
  }
  const s = t.stats();
  out(
    `binds tried ${s.bindAttempts}, throttled ${s.throttled}, queue full ${s.queueFull}, resent after unknown outcome ${s.unknownOutcomes}`,
  );
  if (result.ok)
    out(
      `result: submitted, ${result.segments ?? 1} segment(s), message id(s) ${result.providerMessageId ?? ''}`,
    );
  else
    throw new CliError(
      `result: ${result.permanent ? 'rejected (permanent)' : 'temporary failure'}: ${result.reason}`,
    );
}
