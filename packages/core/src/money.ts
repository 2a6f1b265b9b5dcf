/**
 * Exact money arithmetic on decimal strings (MySQL DECIMAL(18,6) values). Never floats: 0.1 + 0.2
 * must stay 0.3 on a bill. Values are scaled to integers of 10^-6 units in BigInt.
 */
const SCALE = 6;
const FACTOR = 10n ** BigInt(SCALE);
const DECIMAL_RE = /^\s*(-)?(\d+)(?:\.(\d+))?\s*$/;

export function isDecimal(value: string): boolean {
  return DECIMAL_RE.test(value);
}

export function parseDecimal(value: string): bigint {
  const m = DECIMAL_RE.exec(value);
  if (!m) throw new RangeError(`not a decimal number: "${value}"`);
  const frac = (m[3] ?? '').padEnd(SCALE, '0');
  if (frac.length > SCALE && /[1-9]/.test(frac.slice(SCALE))) {
    throw new RangeError(`more than ${SCALE} decimal places: "${value}"`);
  }
  const units = BigInt(m[2]!) * FACTOR + BigInt(frac.slice(0, SCALE));
  return m[1] ? -units : units;
}

export function formatDecimal(units: bigint): string {
  const neg = units < 0n;
  const abs = neg ? -units : units;
  const int = abs / FACTOR;
  const frac = (abs % FACTOR).toString().padStart(SCALE, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

export function multiplyDecimal(value: string, times: number): string {
  if (!Number.isInteger(times)) throw new RangeError('multiplier must be an integer');
  return formatDecimal(parseDecimal(value) * BigInt(times));
}

export function addDecimal(a: string, b: string): string {
  return formatDecimal(parseDecimal(a) + parseDecimal(b));
}

export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  const d = parseDecimal(a) - parseDecimal(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
