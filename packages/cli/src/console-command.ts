import { ConfigRepo } from '@smsfleet/db';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';

type Out = (line: string) => void;

/** Admin commands the console runs, as on Mizu's server console. */
export const CONSOLE_ENTRIES = ['asendsms', 'asendsmssync'] as const;

export interface ConsoleCommand {
  entry: (typeof CONSOLE_ENTRIES)[number];
  /** Mizu API parameters (bnum, anum, message, ...). */
  params: Record<string, string>;
}

const POSITIONAL = ['bnum', 'anum'] as const;

/**
 * Parses Mizu's console syntax `COMMAND,ARG1,ARG2>TEXT`, e.g. `asendsms,TONUMBER>Hello word` or
 * `asendsms,TONUMBER,FROMNUMBER>Hello`. Arguments may also be named (`to=...`, `from=...`); several
 * target numbers are separated by `;`. Everything after the first `>` is the text, verbatim.
 */
export function parseConsoleCommand(line: string): ConsoleCommand {
  const gt = line.indexOf('>');
  if (gt < 0)
    throw new CliError(
      'console syntax: COMMAND,TONUMBER[,FROMNUMBER]>TEXT (e.g. asendsms,36201234567>Hello)',
    );
  const head = line.slice(0, gt);
  const text = line.slice(gt + 1);
  const [rawEntry = '', ...args] = head.split(',').map((s) => s.trim());
  const entry = rawEntry.toLowerCase();
  if (!(CONSOLE_ENTRIES as readonly string[]).includes(entry))
    throw new CliError(
      `unknown console command: ${rawEntry.slice(0, 40) || '(empty)'} (known: ${CONSOLE_ENTRIES.join(', ')})`,
    );
  const params: Record<string, string> = {};
  let pos = 0;
  for (const a of args) {
    if (a === '') continue;
    const eq = a.indexOf('=');
    if (eq > 0) {
      params[a.slice(0, eq).trim().toLowerCase()] = a.slice(eq + 1).trim();
    } else {
      const name = POSITIONAL[pos++];
      if (!name) throw new CliError(`too many arguments in console command: ${a.slice(0, 40)}`);
      params[name] = a;
    }
  }
  params.message = text;
  return { entry: entry as ConsoleCommand['entry'], params };
}

/** `smsfleet console "asendsms,TONUMBER>Hello word"`: runs the command through the running API. */
export async function consoleCommand(ctx: CliContext, args: string[], out: Out): Promise<void> {
  if (args.length === 0) throw new CliError('usage: smsfleet console "asendsms,TONUMBER>Hello word"');
  // The shell may have split an unquoted command at spaces: the text keeps them.
  const cmd = parseConsoleCommand(args.join(' '));
  const key = await new ConfigRepo(await ctx.database()).get('apiv2key');
  if (!key)
    throw new CliError(
      'apiv2key is not set: run `smsfleet config set apiv2key SECRET` (or `smsfleet up`, which sets one)',
    );
  // POST: the text stays exact (UTF-8, any length) and the key stays out of access logs.
  const body = new URLSearchParams({ apientry: cmd.entry, ...cmd.params, authkey: key });
  let text: string;
  try {
    const res = await fetch(`${ctx.apiUrl}/mvapireq/`, {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    });
    text = await res.text();
  } catch (err) {
    throw new CliError(
      `the API at ${ctx.apiUrl} is not reachable (${(err as Error).message}); is the fleet up?`,
      1,
    );
  }
  if (!text.startsWith('OK')) throw new CliError(text, 1);
  out(text);
}
