/**
 * Masking of credentials in text we show or store outside the secret's own place (audit details,
 * error answers, log fields): URL userinfo, secret-looking query parameters, `key=value` pairs of
 * SMPP gateway URLs (`SMPP;...;password=x`) and secret-looking fields of plain objects.
 */

/** Names whose values are secrets (query parameters, SMPP keys, object fields). */
const SECRET_NAME =
  '(?:pass(?:word|wd)?|pwd|sslpwd|secret|token|api[_-]?key|apikey|apiv2key|authkey|authpwd|authmd5|auth[_-]?token|signature|client[_-]?secret|access[_-]?token)';

const SECRET_FIELD = new RegExp(`^${SECRET_NAME}$|password|secret|token`, 'i');
const USERINFO = /(\/\/[^/:@\s]*):[^@/\s]*@/g;
// `?name=`, `&name=` (URLs) and `;name=` (SMPP gateway URLs); value up to the next separator.
const PAIR = new RegExp(`([?&;]${SECRET_NAME}=)[^&;#\\s]*`, 'gi');
const MASK = '***';

/** Text with URL credentials, secret query parameters and SMPP passwords replaced by `***`. */
export function maskCredentials(text: string): string {
  return text.replace(USERINFO, `$1:${MASK}@`).replace(PAIR, `$1${MASK}`);
}

/** True for a field name that holds a secret (`password`, `apiv2key`, `webhookSecret`, ...). */
export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/**
 * A copy of a JSON-like value with secret fields replaced by `***` (empty values stay empty) and
 * credentials inside strings masked. Cycles and depth beyond 8 become `[...]`.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskCredentials(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 8) return '[...]';
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] =
      isSecretField(k) && v !== '' && v !== null && v !== undefined ? MASK : redactSecrets(v, depth + 1);
  }
  return out;
}
