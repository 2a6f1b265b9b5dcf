import { parseArgs } from 'node:util';
import { formatHttpRun, formatSmppRun, fuzzHttp, fuzzSmpp } from '@smsfleet/fuzz';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';

type Out = (line: string) => void;

export const FUZZ_USAGE =
  'fuzz http [--count N] [--url URL] [--concurrency C] [--seed S] | fuzz smpp [--count N] [--messages M]  hostile input (own fleet unless --url)';

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} must be a positive integer`);
  return n;
}

/**
 * `smsfleet fuzz http`: malformed and hostile requests against the Mizu API, /v1, the MO callback
 * and the DLR endpoint of a fresh fleet (or `--url`, with its credentials given as
 * `--api-key`, `--admin`, `--password`, `--dlr-secret`, `--dlr-gateway`); exit code 1 on any 5xx,
 * unclear answer, accepted request, queued message or dead service.
 * `smsfleet fuzz smpp`: malformed PDUs from the SMPP simulator to the fleet's SMPP binds while
 * messages flow; exit code 1 when a message is lost or billed twice or a service died.
 */
export async function fuzzCommand(_ctx: CliContext, args: string[], out: Out): Promise<void> {
  const [what, ...rest] = args;
  if (what === 'http') {
    const { values } = parseArgs({
      args: rest,
      options: {
        count: { type: 'string' },
        url: { type: 'string' },
        concurrency: { type: 'string' },
        seed: { type: 'string' },
        'api-key': { type: 'string' },
        admin: { type: 'string' },
        password: { type: 'string' },
        'dlr-secret': { type: 'string' },
        'dlr-gateway': { type: 'string' },
      },
      strict: true,
    });
    const count = positiveInt('count', values.count, 100_000);
    const concurrency = positiveInt('concurrency', values.concurrency, 48);
    const dlrGateway =
      values['dlr-gateway'] === undefined ? undefined : positiveInt('dlr-gateway', values['dlr-gateway'], 1);
    const run = await fuzzHttp({
      count,
      concurrency,
      ...(values.seed !== undefined ? { seed: values.seed } : {}),
      ...(values.url !== undefined ? { url: values.url } : {}),
      credentials: {
        ...(values['api-key'] !== undefined ? { apiKey: values['api-key'] } : {}),
        ...(values.admin !== undefined ? { adminName: values.admin } : {}),
        ...(values.password !== undefined ? { adminPassword: values.password } : {}),
        ...(values['dlr-secret'] !== undefined ? { dlrSecret: values['dlr-secret'] } : {}),
        ...(dlrGateway !== undefined ? { dlrGatewayId: dlrGateway } : {}),
      },
      log: out,
    });
    for (const line of formatHttpRun(run)) out(line);
    if (!run.ok) throw new CliError('fuzz http: failures found', 1);
    return;
  }
  if (what === 'smpp') {
    const { values } = parseArgs({
      args: rest,
      options: { count: { type: 'string' }, messages: { type: 'string' }, every: { type: 'string' } },
      strict: true,
    });
    const run = await fuzzSmpp({
      count: positiveInt('count', values.count, 2000),
      messages: positiveInt('messages', values.messages, 2000),
      everyMs: positiveInt('every', values.every, 25),
      log: out,
    });
    for (const line of formatSmppRun(run)) out(line);
    if (!run.ok) throw new CliError('fuzz smpp: a message was lost or billed twice, or a service died', 1);
    return;
  }
  throw new CliError(`usage: smsfleet ${FUZZ_USAGE}`);
}
