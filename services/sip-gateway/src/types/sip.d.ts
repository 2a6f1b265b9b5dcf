/** The parts of the `sip` package (kirm/sip.js 0.0.6) this service uses; it ships no types. */
declare module 'sip' {
  export interface SipUri {
    schema: string;
    user?: string;
    password?: string;
    host: string;
    port: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }
  export interface SipAor {
    name?: string;
    uri: string;
    params: Record<string, string | null>;
  }
  export interface SipVia {
    version: string;
    protocol: string;
    host: string;
    port?: number;
    params: Record<string, string | null>;
  }
  export interface SipHeaders {
    via?: SipVia[];
    to?: SipAor;
    from?: SipAor;
    contact?: SipAor[] | '*';
    'call-id'?: string;
    cseq?: { seq: number; method: string };
    'content-length'?: number;
    authorization?: Record<string, string>[];
    'proxy-authorization'?: Record<string, string>[];
    'www-authenticate'?: Record<string, string>[];
    [name: string]: unknown;
  }
  export interface SipMessageObject {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version?: string;
    headers: SipHeaders;
    content?: string;
  }
  export function parse(data: string | Buffer): SipMessageObject | undefined;
  export function stringify(m: SipMessageObject): string;
  export function parseUri(s: string): SipUri | undefined;
  export function stringifyUri(u: SipUri | string): string;
  export function makeStreamParser(
    onMessage: (m: SipMessageObject) => void,
    onFlood?: () => void,
    maxBytesHeaders?: number,
    maxContentLength?: number,
  ): (data: string) => void;
  const sip: {
    parse: typeof parse;
    stringify: typeof stringify;
    parseUri: typeof parseUri;
    stringifyUri: typeof stringifyUri;
    makeStreamParser: typeof makeStreamParser;
  };
  export default sip;
}
