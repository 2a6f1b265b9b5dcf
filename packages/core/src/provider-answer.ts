/**
 * Classifies the answer of an HTTP SMS provider. Configured success/fail strings win; without
 * them we guess from the HTTP status and the common body shapes (JSON status fields, Kannel,
 * Clickatell/BulkSMS-style text). `permanent` decides whether the dispatcher retries.
 */

export interface HttpAnswerInput {
  status: number;
  body: string;
  successString?: string;
  failString?: string;
  /** Configured regex for the provider's message id; its first capture group wins. */
  idRegex?: string;
}

export interface HttpAnswerClass {
  ok: boolean;
  permanent: boolean;
  /** Short (<= 200 chars), single line; for logs and the message's `reason`. */
  reason: string;
  providerMessageId?: string;
}

const REASON_MAX = 200;
const ID_MAX = 128;

/** One line, whitespace collapsed, at most 200 characters. */
function shorten(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length <= REASON_MAX ? line : `${line.slice(0, REASON_MAX - 1)}…`;
}

function reasonWith(prefix: string, body: string): string {
  const b = body.trim();
  return shorten(b ? `${prefix}: ${b}` : prefix);
}

// Errors that say "try later" are worth a retry even when the provider answered 200.
const TEMPORARY_WORDS = /throttl|rate.?limit|too many|try again|temporar|timeout|timed out|busy|unavailable/i;
const FAILURE_WORDS =
  /\b(error|errors|fail|failed|failure|invalid|denied|unauthori[sz]ed|forbidden|rejected|insufficient|not allowed)\b/i;
const OK_STATUS =
  /^(ok|success|successful|sent|accepted|queued|submitted|delivered|enroute|pending|pending_enroute|in_progress|scheduled|0)$/i;
const FAIL_STATUS =
  /error|fail|reject|invalid|denied|unauthori[sz]ed|undeliverable|expired|insufficient|blocked/i;

function isTemporaryStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function failure(reason: string, permanent: boolean): HttpAnswerClass {
  return { ok: false, permanent: permanent && !TEMPORARY_WORDS.test(reason), reason: shorten(reason) };
}

function success(reason: string, providerMessageId: string | undefined): HttpAnswerClass {
  const r: HttpAnswerClass = { ok: true, permanent: false, reason: shorten(reason) };
  if (providerMessageId !== undefined) r.providerMessageId = providerMessageId;
  return r;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJsonObject(body: string): Json | undefined {
  const t = body.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v)) return isObject(v[0]) ? v[0] : undefined;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The objects that may carry status and id: the root, then `messages[0]`, `data`, `result`. */
function candidates(root: Json): Json[] {
  const out = [root];
  const messages = root['messages'];
  if (Array.isArray(messages) && isObject(messages[0])) out.push(messages[0]);
  for (const key of ['data', 'result', 'response']) {
    const v = root[key];
    if (isObject(v)) out.push(v);
    else if (Array.isArray(v) && isObject(v[0])) out.push(v[0]);
  }
  return out;
}

const ID_FIELDS = [
  'messageId',
  'message_id',
  'message-id',
  'msgid',
  'msgId',
  'apiMessageId',
  'message_uuid',
  'sid',
  'id',
];

function cleanId(v: unknown): string | undefined {
  if (Array.isArray(v)) return cleanId(v[0]);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const id = v.trim();
  return id && id.length <= ID_MAX && !/\s/.test(id) ? id : undefined;
}

function jsonId(root: Json, raw: string): string | undefined {
  for (const obj of candidates(root)) {
    for (const field of ID_FIELDS) {
      const v = obj[field];
      // JSON.parse rounds integers above 2^53; read such ids from the raw text instead.
      if (typeof v === 'number' && !Number.isSafeInteger(v)) {
        const m = new RegExp(`"${field}"\\s*:\\s*(\\d+)`).exec(raw);
        if (m?.[1]) return m[1];
      }
      const id = cleanId(v);
      if (id !== undefined) return id;
    }
  }
  return undefined;
}

const TEXT_ID_PATTERNS = [
  /^OK[\s:,;|-]+([^\s,;|]+)/i, // OK 12345 / OK: 12345
  /\bID:\s*([^\s,;|]+)/i, // ID: abc, 0: Accepted for delivery ... ID: abc
  /^\d+\|[^|]*\|([^\s|]+)/, // BulkSMS: 0|IN_PROGRESS|123456
];

function textId(body: string): string | undefined {
  const t = body.trim();
  for (const re of TEXT_ID_PATTERNS) {
    const id = cleanId(re.exec(t)?.[1]);
    if (id !== undefined) return id;
  }
  return undefined;
}

const regexCache = new Map<string, RegExp>();

/**
 * The provider's message id. A configured regex (first capture group, or the whole match when it
 * has none) wins; when it does not match we fall back to guessing. An invalid regex throws
 * SyntaxError: the configuration layer should validate it when the gateway is saved.
 */
export function extractProviderId(body: string, regex?: string): string | undefined {
  if (regex) {
    let re = regexCache.get(regex);
    if (!re) {
      re = new RegExp(regex);
      if (regexCache.size > 1000) regexCache.clear(); // bounded: regexes come from config
      regexCache.set(regex, re);
    }
    const m = re.exec(body);
    const id = cleanId(m ? (m[1] ?? m[0]) : undefined);
    if (id !== undefined) return id;
  }
  const json = parseJsonObject(body);
  return json ? jsonId(json, body) : textId(body);
}

function truthyError(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === 0) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isObject(v)) {
    for (const k of ['message', 'description', 'error', 'text', 'name', 'code']) {
      const inner = v[k];
      if (typeof inner === 'string' || typeof inner === 'number') return String(inner);
    }
  }
  return JSON.stringify(v) ?? String(v);
}

/** Verdict from a JSON object: true = ok, a string = failure reason, undefined = no signal. */
function jsonVerdict(obj: Json): true | string | undefined {
  if (obj['success'] === false || obj['accepted'] === false) {
    return describe(obj['error'] ?? obj['message'] ?? obj['errorDescription'] ?? 'success=false');
  }
  for (const key of ['error', 'errors', 'error-text', 'errorDescription', 'error_message']) {
    const v = obj[key];
    if (truthyError(v)) return describe(Array.isArray(v) ? v[0] : v);
  }
  let status = obj['status'];
  if (isObject(status)) status = status['groupName'] ?? status['name'];
  if (typeof status === 'number') {
    // Many APIs use 0 for success; some echo the HTTP code.
    if (status === 0 || (status >= 200 && status < 300)) return true;
    return `status ${status}${typeof obj['message'] === 'string' ? ` ${obj['message']}` : ''}`;
  }
  if (typeof status === 'string') {
    if (OK_STATUS.test(status.trim())) return true;
    if (FAIL_STATUS.test(status)) {
      const msg = obj['message'] ?? obj['description'] ?? obj['error-text'];
      return typeof msg === 'string' ? `${status}: ${msg}` : status;
    }
    if (/^\d+$/.test(status.trim())) return `status ${status}`; // non-zero numeric string
  }
  if (obj['success'] === true || obj['ok'] === true) return true;
  return undefined;
}

function classifyJson(root: Json, body: string, status: number): HttpAnswerClass {
  // The most specific object wins (messages[0] over the envelope): Vonage puts the status there.
  const objs = candidates(root);
  for (const obj of objs) {
    const v = jsonVerdict(obj);
    if (typeof v === 'string') return failure(`HTTP ${status}: ${v}`, true);
  }
  const id = jsonId(root, body);
  const signalled = objs.some((o) => jsonVerdict(o) === true);
  return success(signalled ? `HTTP ${status}: ${body}` : `HTTP ${status} (no status field): ${body}`, id);
}

function classifyText(body: string, status: number): HttpAnswerClass {
  const t = body.trim();
  if (/^(ERROR|ERR|FAIL)/i.test(t)) return failure(`HTTP ${status}: ${t}`, true);
  if (/^OK\b/i.test(t) || /^ID:/i.test(t)) return success(`HTTP ${status}: ${t}`, textId(t));
  // Kannel: "0: Accepted for delivery", "3: Queued for later delivery".
  const kannel = /^(-?\d+):\s*(.*)/.exec(t);
  if (kannel) {
    return /^(accepted|queued)/i.test(kannel[2] ?? '')
      ? success(`HTTP ${status}: ${t}`, textId(t))
      : failure(`HTTP ${status}: ${t}`, true);
  }
  // BulkSMS legacy: "status_code|description|batch_id", 0 = in progress, 1 = scheduled.
  const pipe = /^(\d+)\|/.exec(t);
  if (pipe) {
    return pipe[1] === '0' || pipe[1] === '1'
      ? success(`HTTP ${status}: ${t}`, textId(t))
      : failure(`HTTP ${status}: ${t}`, true);
  }
  if (FAILURE_WORDS.test(t)) return failure(`HTTP ${status}: ${t}`, true);
  return success(`HTTP ${status}: ${t}`, textId(t));
}

export function classifyHttpAnswer(input: HttpAnswerInput): HttpAnswerClass {
  const { status, body, successString, failString, idRegex } = input;
  const temporaryStatus = isTemporaryStatus(status);

  // Configured strings are matched case-sensitively: "ok" would otherwise match "token".
  if (failString && body.includes(failString)) {
    return { ok: false, permanent: true, reason: reasonWith(`fail string found (HTTP ${status})`, body) };
  }
  if (successString) {
    if (body.includes(successString)) {
      return success(reasonWith(`HTTP ${status}`, body), extractProviderId(body, idRegex));
    }
    // Without the success string a 5xx/429 is still worth a retry; anything else is not.
    return {
      ok: false,
      permanent: !temporaryStatus,
      reason: reasonWith(`success string missing (HTTP ${status})`, body),
    };
  }

  if (temporaryStatus) return { ok: false, permanent: false, reason: reasonWith(`HTTP ${status}`, body) };
  if (status < 200 || status >= 300) {
    // 4xx (bad request, auth, no credit) and unfollowed 3xx will not get better by retrying.
    return { ok: false, permanent: true, reason: reasonWith(`HTTP ${status}`, body) };
  }
  if (!body.trim()) return success(`HTTP ${status} (empty body)`, undefined);

  const json = parseJsonObject(body);
  const guessed = json ? classifyJson(json, body, status) : classifyText(body, status);
  if (guessed.ok && idRegex) {
    const id = extractProviderId(body, idRegex);
    if (id !== undefined) guessed.providerMessageId = id;
  }
  return guessed;
}
