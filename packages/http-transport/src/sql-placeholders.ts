import { TEMPLATE_KEYWORDS, type TemplateKeyword, type TemplateValues } from '@smsfleet/core';

/** Runs one admin-written SELECT with bound parameters; returns the first column of the first row. */
export type TemplateSqlRunner = (
  sql: string,
  params: readonly (string | number)[],
  timeoutMs: number,
) => Promise<string>;

export interface PreparedSql {
  /** The SQL with every keyword replaced by a `?` placeholder. */
  sql: string;
  /** The keyword bound to each `?`, in order. */
  params: TemplateKeyword[];
}

const KEYWORD_ALT = TEMPLATE_KEYWORDS.join('|');
// A keyword the admin quoted ('[tonum]' or "[tonum]") becomes one placeholder, quotes included:
// the bound value is a string either way, and a quote inside it can never close the literal.
const KEYWORD_IN_SQL = new RegExp(
  `'\\[(${KEYWORD_ALT})\\]'|"\\[(${KEYWORD_ALT})\\]"|\\[(${KEYWORD_ALT})\\]`,
  'gi',
);

/** Turns `{SELECT ... [tonum] ...}` into a parameterised statement; done once per gateway config. */
export function prepareSql(sql: string): PreparedSql {
  const params: TemplateKeyword[] = [];
  const out = sql.replace(KEYWORD_IN_SQL, (_m, a?: string, b?: string, c?: string) => {
    params.push((a ?? b ?? c ?? '').toLowerCase() as TemplateKeyword);
    return '?';
  });
  return { sql: out, params };
}

export function sqlParams(p: PreparedSql, values: TemplateValues): (string | number)[] {
  return p.params.map((k) => values[k]);
}

/**
 * Results of the same query with the same values are reused for a few seconds: a bulk send to many
 * numbers with a per-sender lookup runs the query once, not once per message.
 */
export class SqlCache {
  private readonly entries = new Map<string, { at: number; value: Promise<string> }>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string, load: () => Promise<string>): Promise<string> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    const value = load();
    this.entries.set(key, { at: now, value });
    // A failed query is not remembered: the next message tries again.
    value.catch(() => this.entries.delete(key));
    return value;
  }
}
