import { startHttpSim } from '@smsfleet/smsc-sim';
import { benchCommand } from './bench.js';
import { CliError } from './cli-error.js';
import { CliContext } from './context.js';
import {
  cdrCommand,
  configCommand,
  gatewayCommand,
  migrateCommand,
  sendCommand,
  userCommand,
} from './admin-commands.js';
import { downCommand, upCommand } from './fleet.js';

export const USAGE = `usage: smsfleet COMMAND

  up [--detach]                         start Redis/MariaDB/NATS checks, migrations, the demo gateway and every service
  down                                  stop a fleet started with --detach
  test                                  infrastructure check, then every test (run by ./smsfleet)
  migrate                               create or update the database schema
  config get KEY | set KEY VALUE | list global configuration (the seed's keys)
  user add --name N --password P [--admin] [--credit X] | user list
  gateway add --name N --url URL | gateway list
  cdr list [--json] [--limit N]
  send --to N --from N --text T         send one SMS through the API
  bench --count N [--mode single|bulk]  benchmark the running fleet
  sim                                   run the HTTP SMSC simulator in the foreground
`;

/** Runs one command; returns the exit code. Errors a user can fix print one line and exit 2. */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out = (l: string) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const [cmd, ...args] = argv;
  const ctx = new CliContext(env);
  try {
    switch (cmd) {
      case 'up':
        await upCommand(ctx, args, out);
        break;
      case 'down':
        await downCommand(out);
        break;
      case 'migrate':
        await migrateCommand(ctx, out);
        break;
      case 'config':
        await configCommand(ctx, args, out);
        break;
      case 'user':
        await userCommand(ctx, args, out);
        break;
      case 'gateway':
        await gatewayCommand(ctx, args, out);
        break;
      case 'cdr':
        await cdrCommand(ctx, args, out);
        break;
      case 'send':
        await sendCommand(ctx, args, out);
        break;
      case 'bench':
        await benchCommand(ctx, args, out);
        break;
      case 'sim': {
        const sim = await startHttpSim({ port: Number(env.SIM_HTTP_PORT ?? 9090) });
        out(`simulator listening on ${sim.url}`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await sim.close();
        break;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        break;
      default:
        throw new CliError(`unknown command: ${cmd}\n${USAGE}`);
    }
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
