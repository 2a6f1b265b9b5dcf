/**
 * Mizu `smsurl` keyword templates: `[tonum]`, `[message]`, ... plus `{SELECT ...}` placeholders
 * whose value comes from a SQL query the caller runs. A template is parsed once per gateway
 * configuration and rendered for every message, so rendering walks a precomputed parts array.
 */

export const TEMPLATE_KEYWORDS = [
  'fromid',
  'fromnum',
  'tonum',
  'message',
  'smscounter',
  'smsid',
  'gatewayid',
  'clientip',
] as const;
export type TemplateKeyword = (typeof TEMPLATE_KEYWORDS)[number];

export interface TemplateValues {
  fromid: string | number;
  fromnum: string;
  tonum: string;
  message: string;
  smscounter: string | number;
  smsid: string;
  gatewayid: string | number;
  clientip: string;
}

/**
 * How substituted values are escaped: `url` (percent-encoding), `json` (inside a JSON string),
 * `xml` (text or attribute), `header` (a header line value) or `none` (an exec argument).
 */
export type TemplateEscape = 'url' | 'none' | 'json' | 'xml' | 'header';

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'keyword'; keyword: TemplateKeyword }
  /** `sql` is the text between the braces, keywords inside it left unrendered. */
  | { kind: 'sql'; sql: string };

export interface CompiledTemplate {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** Keywords used, each once, in order of first appearance. */
  readonly keywords: readonly TemplateKeyword[];
  /** SQL texts of the `{SELECT ...}` placeholders in order; `sqlValues` follow this order. */
  readonly sql: readonly string[];
  /** Literal text is never escaped, only substituted values (keywords and SQL results). */
  render(values: TemplateValues, escape: TemplateEscape, sqlValues?: readonly string[]): string;
}

const KEYWORD_SET: ReadonlySet<string> = new Set(TEMPLATE_KEYWORDS);
const BRACKET_WORD = /\[([A-Za-z]+)\]/y;
const SQL_START = /\{\s*select\b/iy;

/** Index of the `}` closing the `{` at `open`, or -1. Quoted SQL strings may contain braces. */
function matchingBrace(s: string, open: number): number {
  let depth = 0;
  let quote = '';
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '{') {
      depth++;
    } else if (ch === '}' && --depth === 0) {
      return i;
    }
  }
  return -1;
}

export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  const flush = (): void => {
    if (text) parts.push({ kind: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    if (ch === '[') {
      BRACKET_WORD.lastIndex = i;
      const m = BRACKET_WORD.exec(template);
      const word = m?.[1]?.toLowerCase();
      if (m && word !== undefined && KEYWORD_SET.has(word)) {
        flush();
        parts.push({ kind: 'keyword', keyword: word as TemplateKeyword });
        i += m[0].length;
        continue;
      }
    } else if (ch === '{') {
      SQL_START.lastIndex = i;
      const close = SQL_START.test(template) ? matchingBrace(template, i) : -1;
      if (close > 0) {
        flush();
        parts.push({ kind: 'sql', sql: template.slice(i + 1, close).trim() });
        i = close + 1;
        continue;
      }
    }
    // Unknown bracket words, unmatched braces and plain text stay as written.
    text += ch;
    i++;
  }
  flush();
  return parts;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function urlEscape(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    // encodeURIComponent throws URIError on a lone surrogate; send U+FFFD rather than fail the SMS.
    return encodeURIComponent(s.replace(LONE_SURROGATE, '\ufffd'));
  }
}

function jsonEscape(s: string): string {
  const q = JSON.stringify(s);
  return q.slice(1, -1);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const XML_SPECIAL = /[&<>"']/g;
// Characters outside XML 1.0's Char production (control characters, U+FFFE/U+FFFF, lone
// surrogates) make the whole document not well-formed, even as character references.
const XML_ILLEGAL =
  // eslint-disable-next-line no-control-regex -- control characters are the point here
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function xmlEscape(s: string): string {
  return s.replace(XML_ILLEGAL, '\ufffd').replace(XML_SPECIAL, (c) => XML_ENTITIES[c] ?? c);
}

const utf8 = new TextEncoder();
// CR and LF would start a new header line; the other control characters are refused by HTTP.
// eslint-disable-next-line no-control-regex -- control characters are the point here
const HEADER_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/g;
// eslint-disable-next-line no-control-regex -- control characters are the point here
const NOT_ASCII = /[^\u0000-\u007f]/;

/**
 * A header value is a line of octets: control characters become spaces, and text beyond ASCII is
 * sent as its UTF-8 octets (what servers decode it as), one character per octet.
 */
function headerEscape(s: string): string {
  const flat = s.replace(HEADER_CONTROL, ' ');
  if (!NOT_ASCII.test(flat)) return flat;
  let out = '';
  for (const b of utf8.encode(flat)) out += String.fromCharCode(b);
  return out;
}

const ESCAPERS: Record<TemplateEscape, (s: string) => string> = {
  url: urlEscape,
  none: (s) => s,
  json: jsonEscape,
  xml: xmlEscape,
  header: headerEscape,
};

export function compileTemplate(template: string): CompiledTemplate {
  const parts = parseTemplate(template);
  const keywords: TemplateKeyword[] = [];
  const sql: string[] = [];
  for (const p of parts) {
    if (p.kind === 'keyword' && !keywords.includes(p.keyword)) keywords.push(p.keyword);
    if (p.kind === 'sql') sql.push(p.sql);
  }
  return {
    source: template,
    parts,
    keywords,
    sql,
    render(values, escape, sqlValues) {
      const esc = ESCAPERS[escape];
      let out = '';
      let sqlIndex = 0;
      for (const p of parts) {
        if (p.kind === 'text') out += p.text;
        else if (p.kind === 'keyword') out += esc(String(values[p.keyword]));
        else {
          out += esc(sqlValues?.[sqlIndex] ?? '');
          sqlIndex++;
        }
      }
      return out;
    },
  };
}
