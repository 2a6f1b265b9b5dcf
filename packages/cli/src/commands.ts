import { startHttpSim } from '@smsfleet/smsc-sim';
import { benchCommand } from './bench.js';
import type { CliContext } from './context.js';
import {
  cdrCommand,
  configCommand,
  gatewayCommand,
  migrateCommand,
  sendCommand,
  userCommand,
} from './admin-commands.js';
import { downCommand, upCommand } from './fleet.js';

export type Out = (line: string) => void;

export interface Command {
  /** One line for the usage text: arguments and what it does. */
  help: string;
  run(ctx: CliContext, args: string[], out: Out): Promise<void>;
}

/**
 * Every CLI command. A new command is one entry here (keep the module that implements it beside
 * this file); `smsfleet help` prints the `help` lines in this order.
 */
export const COMMANDS: Record<string, Command> = {
  up: {
    help: 'up [--detach]                         infrastructure check, migrations, demo gateway, every service',
    run: upCommand,
  },
  down: {
    help: 'down                                  stop a fleet started with --detach',
    run: (_ctx, _args, out) => downCommand(out),
  },
  test: {
    help: 'test                                  infrastructure check, lint and every test (run by ./smsfleet)',
    run: () => Promise.resolve(),
  },
  migrate: {
    help: 'migrate                               create or update the database schema',
    run: (ctx, _args, out) => migrateCommand(ctx, out),
  },
  config: {
    help: 'config get KEY | set KEY VALUE | list global configuration (the seed keys)',
    run: configCommand,
  },
  user: { help: 'user add --name N --password P [--admin] [--credit X] | user list', run: userCommand },
  gateway: { help: 'gateway add --name N --url URL | gateway list', run: gatewayCommand },
  cdr: { help: 'cdr list [--json] [--limit N]', run: cdrCommand },
  send: { help: 'send --to N --from N --text T         send one SMS through the API', run: sendCommand },
  bench: { help: 'bench --count N [--mode single|bulk]  benchmark the running fleet', run: benchCommand },
  sim: {
    help: 'sim                                   run the HTTP SMSC simulator in the foreground',
    async run(ctx, _args, out) {
      const sim = await startHttpSim({ port: Number(ctx.env.SIM_HTTP_PORT ?? 9090) });
      out(`simulator listening on ${sim.url}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await sim.close();
    },
  },
};
