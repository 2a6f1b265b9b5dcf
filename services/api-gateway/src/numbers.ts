/** Normalises a phone number: spaces, dashes, dots and brackets go; an optional leading +, digits. */
export function normaliseNumber(raw: string): string | undefined {
  const n = raw.replace(/[\s\-().]/g, '');
  return /^\+?\d{3,20}$/.test(n) ? n : undefined;
}

/** A sender is a number or an alphanumeric id of at most 11 characters (GSM rule). */
export function normaliseSender(raw: string): string | undefined {
  const s = raw.trim();
  if (s === '') return '';
  const num = normaliseNumber(s);
  if (num) return num;
  return /^[A-Za-z0-9 ._-]{1,11}$/.test(s) ? s : undefined;
}
