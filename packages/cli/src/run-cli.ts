import { CliError } from './cli-error.js';
import { COMMANDS } from './commands.js';
import { CliContext } from './context.js';

export function usage(): string {
  return `usage: smsfleet COMMAND\n\n${Object.values(COMMANDS)
    .map((c) => `  ${c.help}`)
    .join('\n')}\n`;
}

/** Runs one command; returns the exit code. Errors a user can fix print one line and exit 2. */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out = (l: string) => void process.stdout.write(`${l}\n`),
): Promise<number> {
  const [cmd, ...args] = argv;
  const ctx = new CliContext(env);
  try {
    if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      out(usage());
      return 0;
    }
    const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
    if (!command) throw new CliError(`unknown command: ${cmd}\n${usage()}`);
    await command.run(ctx, args, out);
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    // parseArgs errors are user mistakes too.
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  } finally {
    await ctx.close();
  }
}
