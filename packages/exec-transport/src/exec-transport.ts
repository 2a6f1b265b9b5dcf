import { execFile } from 'node:child_process';
import {
  classifyHttpAnswer,
  compileTemplate,
  type CompiledTemplate,
  type OutboundSms,
  type SubmitResult,
  type TemplateValues,
  type Transport,
} from '@smsfleet/core';

export interface ExecGatewayConfig {
  /**
   * The `smsurl` of an executable gateway: a path, optionally followed by argument templates
   * (`/opt/sms/send [tonum] [message]`). Without keywords the message's values are appended as
   * arguments in the order of EXEC_DEFAULT_ARGS.
   */
  command: string;
  timeoutMs?: number;
  successString?: string;
  failString?: string;
  idRegex?: string;
  /** Working directory of the process. */
  cwd?: string;
  /** Sees every run (the `gateway test` tool). */
  onExchange?: (e: ExecExchange) => void;
}

export interface ExecExchange {
  file: string;
  args: string[];
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  error?: string;
  latencyMs: number;
}

/** Arguments passed when the command has no keywords: `tonum message fromnum smsid gatewayid fromid smscounter clientip`. */
export const EXEC_DEFAULT_ARGS = [
  'tonum',
  'message',
  'fromnum',
  'smsid',
  'gatewayid',
  'fromid',
  'smscounter',
  'clientip',
] as const;

/** Exit code of "temporary failure, try again" (sysexits EX_TEMPFAIL). */
export const EXIT_TEMPFAIL = 75;
const OUTPUT_MAX = 64 * 1024;
const ANSWER_MAX = 500;

/** Splits the command into words: whitespace separates, single or double quotes group. No shell. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote = '';
  let inWord = false;
  for (const ch of command.trim()) {
    if (quote) {
      if (ch === quote) quote = '';
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * Runs an executable per message with the message's values as separate arguments (execFile, no
 * shell: a text like `; rm -rf /` is one argument). Exit code 0 with an answer that does not read
 * as a failure is a success, 75 (EX_TEMPFAIL), a timeout or a failure to start are temporary,
 * any other exit code is a permanent rejection. stdout is the provider answer (message id, texts).
 */
export class ExecTransport implements Transport {
  private readonly file: string;
  private readonly argTemplates: CompiledTemplate[];
  private readonly defaultArgs: boolean;
  private closed = false;

  constructor(private readonly cfg: ExecGatewayConfig) {
    const words = splitCommand(cfg.command);
    const file = words.shift();
    if (!file) throw new TypeError('the executable gateway has no path');
    this.file = file;
    this.argTemplates = words.map((w) => compileTemplate(w));
    this.defaultArgs = this.argTemplates.every((t) => t.keywords.length === 0);
    if (this.argTemplates.some((t) => t.sql.length > 0))
      throw new TypeError('{SELECT ...} placeholders are not supported in executable gateways');
  }

  args(msg: OutboundSms): string[] {
    const values: TemplateValues = {
      fromid: msg.userId,
      fromnum: msg.from,
      tonum: msg.to,
      message: msg.text,
      smscounter: msg.segments,
      smsid: msg.smsid,
      gatewayid: msg.gatewayId,
      clientip: msg.clientIp,
    };
    const args = this.argTemplates.map((t) => t.render(values, 'none'));
    if (this.defaultArgs) for (const k of EXEC_DEFAULT_ARGS) args.push(String(values[k]));
    return args;
  }

  send(msg: OutboundSms, signal?: AbortSignal): Promise<SubmitResult> {
    const started = performance.now();
    if (this.closed)
      return Promise.resolve({ ok: false, permanent: false, reason: 'transport closed', latencyMs: 0 });
    const args = this.args(msg);
    return new Promise<SubmitResult>((resolve) => {
      execFile(
        this.file,
        args,
        {
          timeout: this.cfg.timeoutMs ?? 10_000,
          killSignal: 'SIGKILL',
          maxBuffer: OUTPUT_MAX,
          windowsHide: true,
          cwd: this.cfg.cwd,
          signal,
          encoding: 'utf8',
        },
        (error, stdout, stderr) => {
          const latencyMs = performance.now() - started;
          const e = error as
            (Error & { code?: number | string; killed?: boolean; signal?: string | null }) | null;
          const exitCode = e ? (typeof e.code === 'number' ? e.code : null) : 0;
          let result: SubmitResult;
          let errText: string | undefined;
          if (e && exitCode === null) {
            // Never ran to an exit: timeout (killed), abort, or failure to start (ENOENT, EACCES).
            errText = e.killed
              ? `executable timed out after ${this.cfg.timeoutMs ?? 10_000} ms`
              : e.name === 'AbortError'
                ? 'request aborted'
                : `executable failed to start: ${typeof e.code === 'string' ? e.code : e.message.slice(0, 100)}`;
            result = { ok: false, permanent: false, reason: errText, latencyMs };
          } else {
            const out = stdout.trim() || stderr.trim();
            const answer = out.length > ANSWER_MAX ? out.slice(0, ANSWER_MAX) : out;
            if (exitCode === 0) {
              const v = classifyHttpAnswer({
                status: 200,
                body: stdout,
                successString: this.cfg.successString || undefined,
                failString: this.cfg.failString || undefined,
                idRegex: this.cfg.idRegex || undefined,
              });
              result = v.ok
                ? v.providerMessageId !== undefined
                  ? { ok: true, providerMessageId: v.providerMessageId, answer, latencyMs }
                  : { ok: true, answer, latencyMs }
                : { ok: false, permanent: v.permanent, reason: v.reason, answer, latencyMs };
            } else {
              const temporary = exitCode === EXIT_TEMPFAIL;
              result = {
                ok: false,
                permanent: !temporary,
                reason: `exit code ${exitCode}${answer ? `: ${answer.replace(/\s+/g, ' ').slice(0, 150)}` : ''}`,
                answer,
                latencyMs,
              };
            }
          }
          this.cfg.onExchange?.({
            file: this.file,
            args,
            exitCode,
            signal: e?.signal ?? null,
            stdout,
            stderr,
            ...(errText ? { error: errText } : {}),
            latencyMs,
          });
          resolve(result);
        },
      );
    });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
