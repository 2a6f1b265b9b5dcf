import { startHttpSim } from '@smsfleet/smsc-sim';
import { benchCommand } from './bench.js';
import { CHAOS_USAGE, chaosCommand } from './chaos-command.js';
import { FUZZ_USAGE, fuzzCommand } from './fuzz-command.js';
import { gatewaySettingsCommand } from './gateway-commands.js';
import { consoleCommand } from './console-command.js';
import type { CliContext } from './context.js';
import { cdrCommand, configCommand, migrateCommand, sendCommand, userCommand } from './admin-commands.js';
import { downCommand, upCommand } from './fleet.js';
import { apikeyCommand, v1SendCommand } from './v1-commands.js';
import { CDR_LIST_USAGE } from './admin-commands.js';
import { priceCommand, routeCommand } from './routing-commands.js';
import { webhookCommand } from './webhook-commands.js';
import { benchReceiptsCommand } from './bench-receipts.js';
import { AUDIT_USAGE, auditCommand } from './audit-commands.js';
import { BAN_USAGE, banCommand } from './ban-commands.js';
import { USER_ADMIN_USAGE } from './user-admin-commands.js';
import {
  INBOX_USAGE,
  NUMBER_USAGE,
  RECHARGE_USAGE,
  inboxCommand,
  numberCommand,
  rechargeCommand,
} from './inbound-commands.js';

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
  'bench-receipts': {
    help: 'bench-receipts --count N              receipts/s the running verifier correlates',
    run: benchReceiptsCommand,
  },
  webhook: {
    help: 'webhook set --user U --url URL | dlq | replay --all|ID  status webhooks',
    run: webhookCommand,
  },
  up: {
    help: 'up [--detach] [--smpp]                infrastructure check, migrations, demo gateway (SMPP with --smpp), every service',
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
  user: {
    help: `user add --name N --password P [--admin] [--credit X] | user passwd --name N --password P | user list | ${USER_ADMIN_USAGE}`,
    run: userCommand,
  },
  audit: { help: `${AUDIT_USAGE}   admin actions (newest first)`, run: auditCommand },
  ban: { help: `${BAN_USAGE}   failed-login bans (fleet-wide)`, run: banCommand },
  gateway: {
    help: 'gateway add --name N --url URL [--set k=v ...] | list | set ID k=v ... | settings ID | test ID --to N --text T',
    run: gatewaySettingsCommand,
  },
  cdr: { help: CDR_LIST_USAGE, run: cdrCommand },
  route: {
    help: 'route add --gateway G (--prefix P | --regex RE) [--priority N] [--weight N] [--sender P] [--user U] [--group G] | list | rm ID',
    run: routeCommand,
  },
  price: {
    help: 'price add --prefix P --price X [--user U | --packet K] | list | rm ID | check --user U --to N --text T | packet --user U --packet K',
    run: priceCommand,
  },
  send: {
    help: 'send --to N[,N..] --text T [--from F] | send --file recipients.csv [--text T] [--at TIME] [--no-wait]   send through /v1 (a batch with a progress bar)',
    run: v1SendCommand,
  },
  'send-mizu': {
    help: 'send-mizu --to N --from N --text T    send one SMS through the Mizu API (asendsms)',
    run: sendCommand,
  },
  recharge: { help: `${RECHARGE_USAGE}   recharge codes (SMS command c)`, run: rechargeCommand },
  inbox: { help: `${INBOX_USAGE}   inbound SMS`, run: inboxCommand },
  number: { help: NUMBER_USAGE, run: numberCommand },
  apikey: {
    help: 'apikey create --user U [--label L] | list [--user U] | revoke ID   /v1 bearer keys',
    run: apikeyCommand,
  },
  console: {
    help: 'console "asendsms,TONUMBER>Hello"     run an admin API command in Mizu console syntax',
    run: consoleCommand,
  },
  chaos: { help: CHAOS_USAGE, run: chaosCommand },
  fuzz: { help: FUZZ_USAGE, run: fuzzCommand },
  bench: {
    help: 'bench --count N [--mode single|bulk|batch] [--batch N] [--user U --password P]  benchmark the running fleet',
    run: benchCommand,
  },
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
