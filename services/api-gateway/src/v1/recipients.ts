import { parse } from 'csv-parse/sync';
import { normaliseNumber, normaliseSender } from '../numbers.js';
import { ProblemError, type FieldError } from './problem.js';
import { MAX_BATCH_RECIPIENTS } from './schemas.js';

export interface RecipientInput {
  to: string;
  text?: string;
  from?: string;
}

/** A recipient after validation: number normalised, text and sender resolved. */
export interface Recipient {
  to: string;
  text: string;
  from: string;
}

/** Errors listed in one problem document; the rest are counted in its detail. */
export const MAX_LISTED_ERRORS = 100;

/**
 * Reads a CSV upload: one recipient per line, columns `to[,text[,from]]`, or any order with a
 * header row naming them. Quoted fields may hold commas, quotes and line breaks (RFC 4180).
 * Returns the recipients and, per recipient, the line it came from (for error pointers).
 */
export function parseRecipientsCsv(body: string): { recipients: RecipientInput[]; lines: number[] } {
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(body, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      max_record_size: 64 * 1024,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    throw new ProblemError('BAD_REQUEST', `CSV could not be read: ${(err as Error).message}`);
  }
  let cols = { to: 0, text: 1, from: 2 };
  const first = rows[0]?.record.map((c) => c.toLowerCase());
  if (first && first.includes('to') && !normaliseNumber(first[0] ?? '')) {
    cols = { to: first.indexOf('to'), text: first.indexOf('text'), from: first.indexOf('from') };
    rows = rows.slice(1);
  }
  if (rows.length > MAX_BATCH_RECIPIENTS)
    throw new ProblemError(
      'VALIDATION',
      `too many recipients: ${rows.length} (at most ${MAX_BATCH_RECIPIENTS})`,
    );
  const recipients: RecipientInput[] = [];
  const lines: number[] = [];
  for (const { record, info } of rows) {
    const r: RecipientInput = { to: record[cols.to] ?? '' };
    const text = cols.text >= 0 ? record[cols.text] : undefined;
    const from = cols.from >= 0 ? record[cols.from] : undefined;
    if (text) r.text = text;
    if (from) r.from = from;
    recipients.push(r);
    lines.push(info.lines);
  }
  return { recipients, lines };
}

/**
 * Checks every recipient before anything is reserved or queued, so one problem document can list
 * every bad row. `pointer(i, field)` names row i in the client's terms (JSON pointer or CSV line).
 */
export function resolveRecipients(
  input: readonly RecipientInput[],
  defaults: { text?: string; from?: string },
  pointer: (i: number, field: string) => string,
): Recipient[] {
  const errors: FieldError[] = [];
  let bad = 0;
  const fail = (i: number, field: string, detail: string) => {
    bad++;
    if (errors.length < MAX_LISTED_ERRORS) errors.push({ pointer: pointer(i, field), detail });
  };
  const out: Recipient[] = new Array<Recipient>(input.length);
  const defaultFrom = defaults.from ?? '';
  for (let i = 0; i < input.length; i++) {
    const r = input[i]!;
    const to = normaliseNumber(r.to);
    if (!to) fail(i, 'to', `invalid target number: ${r.to.slice(0, 32)}`);
    const text = r.text ?? defaults.text;
    if (text === undefined || text.trim() === '')
      fail(i, 'text', 'no text (give a batch text or one per recipient)');
    const rawFrom = r.from ?? defaultFrom;
    const from = normaliseSender(rawFrom);
    if (from === undefined) fail(i, 'from', `invalid sender: ${JSON.stringify(rawFrom.slice(0, 32))}`);
    if (to && text && from !== undefined) out[i] = { to, text, from };
  }
  if (bad > 0)
    throw new ProblemError(
      'VALIDATION',
      bad > errors.length
        ? `${bad} recipients are invalid (the first ${errors.length} are listed); nothing was queued`
        : `${bad} recipient${bad === 1 ? ' is' : 's are'} invalid; nothing was queued`,
      errors,
    );
  return out;
}
