import type { ScenarioResult } from './scenario.js';

const HEADERS = [
  'scenario',
  'sent',
  'accepted',
  'final states',
  'lost',
  'duplicate CDRs',
  'duplicates at provider',
  'credit difference',
  'seconds',
];

function cells(r: ScenarioResult): string[] {
  return [
    r.scenario,
    String(r.sent),
    String(r.accepted),
    String(r.finals),
    String(r.lost),
    String(r.duplicateCdrs),
    String(r.providerDuplicates),
    r.creditDifference,
    r.seconds.toFixed(1),
  ];
}

/** One line per scenario, for the console as each scenario finishes. */
export function resultLine(r: ScenarioResult): string {
  return (
    `${r.scenario}: sent ${r.sent}, accepted ${r.accepted}, final states ${r.finals}, lost ${r.lost}, ` +
    `duplicate CDRs ${r.duplicateCdrs}, duplicates at provider ${r.providerDuplicates}, ` +
    `credit difference ${r.creditDifference}, ${r.seconds.toFixed(1)} s` +
    (r.notes ? ` (${r.notes})` : '')
  );
}

/** An aligned plain-text table. */
export function textTable(results: ScenarioResult[]): string {
  const rows = [HEADERS, ...results.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

/** The same figures as a markdown table (for the closing note). */
export function markdownTable(results: ScenarioResult[]): string {
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [
    line(HEADERS),
    line(HEADERS.map((_, i) => (i === 0 ? '---' : '---:'))),
    ...results.map((r) => line(cells(r))),
  ].join('\n');
}
