/**
 * Masks secrets in what we show (logs, `gateway test`): credentials in URLs (userinfo, query
 * parameters with secret-looking names), secret headers and secret fields of JSON/XML/form bodies.
 */

const SECRET_NAME =
  '(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|apikey|key|auth[a-z_-]*|signature|sig|client[_-]?secret|access[_-]?token|hash|sid)';

const USERINFO = /(\/\/[^/:@\s]*):[^@/\s]*@/g;
const QUERY_PARAM = new RegExp(`([?&;]${SECRET_NAME}=)[^&#\\s]*`, 'gi');
const JSON_FIELD = new RegExp(`("${SECRET_NAME}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi');
const XML_ELEMENT = new RegExp(`(<(${SECRET_NAME})>)[^<]*(</\\2>)`, 'gi');
const FORM_START = new RegExp(`^(${SECRET_NAME}=)[^&\\s]*`, 'gi');
const SECRET_HEADER =
  /^(\s*(?:authorization|proxy-authorization|x-api-key|api-key|apikey|x-auth-token|x-access-token|cookie|x-[a-z-]*(?:key|token|secret|signature))\s*:\s*)(.*)$/gim;

/** A URL (or any text holding URLs) with credentials replaced by `***`. */
export function maskUrl(url: string): string {
  return url.replace(USERINFO, '$1:***@').replace(QUERY_PARAM, '$1***');
}

/** Header lines (`Name: value`) with secret values masked; `Authorization: Basic x` keeps `Basic`. */
export function maskHeaders(text: string): string {
  return text.replace(SECRET_HEADER, (_m, name: string, value: string) => {
    const scheme = /^(basic|bearer|digest|token)\s+/i.exec(value);
    return `${name}${scheme ? scheme[0] : ''}***`;
  });
}

/** A request body with secret fields masked (JSON, XML, form). */
export function maskBody(body: string): string {
  return body
    .replace(JSON_FIELD, '$1"***"')
    .replace(XML_ELEMENT, '$1***$3')
    .replace(QUERY_PARAM, '$1***')
    .replace(FORM_START, '$1***');
}

/** Header object to display lines, masked. */
export function maskHeaderRecord(headers: Record<string, string>): string[] {
  return Object.entries(headers).map(([k, v]) => maskHeaders(`${k}: ${v}`));
}
