import { parseArgs } from 'node:util';
import { SCENARIOS, markdownTable, runScenarios, selectScenarios, textTable } from '@smsfleet/chaos';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';

type Out = (line: string) => void;

export const CHAOS_USAGE =
  'chaos [--messages N] [--only a,b] [--short] [--list] [--markdown]  fault scenarios on fresh fleets (built dist/)';

/** Messages per scenario of the short form (`--short`, the test suite's size). */
export const CHAOS_SHORT_MESSAGES = 1000;

/**
 * `smsfleet chaos`: runs every fault scenario (packages/chaos) on its own fresh fleet against the
 * local Redis, MariaDB and NATS, printing one line per scenario as it finishes and the table at
 * the end. Exit code 1 when any message was lost, any CDR duplicated or any credit is off.
 */
export async function chaosCommand(_ctx: CliContext, args: string[], out: Out): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      messages: { type: 'string' },
      only: { type: 'string' },
      short: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      rate: { type: 'string' },
    },
    strict: true,
  });
  if (values.list) {
    for (const s of SCENARIOS) out(`${s.name.padEnd(24)} ${s.description}`);
    return;
  }
  const messages = Number(values.messages ?? (values.short ? CHAOS_SHORT_MESSAGES : 10_000));
  if (!Number.isInteger(messages) || messages < 10) throw new CliError('--messages must be an integer >= 10');
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) throw new CliError('--rate must be > 0');
  let scenarios;
  try {
    scenarios = selectScenarios(
      SCENARIOS,
      values.only
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  out(`chaos: ${scenarios.length} scenario(s), ${messages} messages each`);
  const report = await runScenarios(scenarios, {
    messages,
    log: out,
    ...(rate !== undefined ? { rate } : {}),
  });
  out('');
  out(values.markdown ? markdownTable(report.results) : textTable(report.results));
  for (const e of report.errors) out(`${e.scenario}: did not complete: ${e.error.split('\n')[0]}`);
  if (report.failed)
    throw new CliError('chaos: a scenario lost messages, duplicated CDRs, was off in credit or failed', 1);
}
