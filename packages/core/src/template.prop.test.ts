import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTemplate, TEMPLATE_KEYWORDS, type TemplateValues } from './template.js';

const numRuns = Number(process.env['FC_NUM_RUNS'] ?? 500);

/** Strings that try to leave their slot in one context or another. */
const INJECTIONS = [
  '"',
  "'",
  '\\',
  '\\"',
  '&',
  '=',
  '?',
  '#',
  '%',
  '%26',
  '%0d%0a',
  '+',
  '/',
  '<',
  '>',
  '</a>',
  '<![CDATA[',
  ']]>',
  '&amp;',
  '&#0;',
  '\r\n',
  '\n',
  '\r',
  '\r\nX-Injected: 1',
  '\u0000',
  '\u0001',
  '\u000b',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufffe',
  '\uffff',
  '\ud800',
  '\udfff',
  '😀',
  '[tonum]',
  '[message]',
  '{SELECT 1}',
  "'; DROP TABLE users; --",
  '$(id)',
  '`id`',
  '; rm -rf /',
  '|',
  '{',
  '}',
  '"}',
];

const value = fc
  .array(
    fc.oneof(
      fc.constantFrom(...INJECTIONS),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 8 }),
    ),
    { maxLength: 12 },
  )
  .map((a) => a.join(''));

const values = fc.record<TemplateValues>({
  fromid: fc.oneof(fc.integer(), value),
  fromnum: value,
  tonum: value,
  message: value,
  smscounter: fc.oneof(fc.integer(), value),
  smsid: value,
  gatewayid: fc.oneof(fc.integer(), value),
  clientip: value,
});

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** What a value must read as on the other side: text that the encoding can carry. */
const wellFormed = (s: string) => s.replace(LONE_SURROGATE, '\ufffd');

// XML 1.0 Char production: anything else makes the document not well-formed.
const XML_ILLEGAL =
  // eslint-disable-next-line no-control-regex -- control characters are the point here
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

function xmlUnescape(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'",
  );
}

describe('template slots hold whatever is put in them', () => {
  it('url: each value comes back as exactly its own query parameter', () => {
    const keys = TEMPLATE_KEYWORDS;
    const t = compileTemplate(`http://gw.example/send?${keys.map((k) => `${k}=[${k}]`).join('&')}`);
    fc.assert(
      fc.property(values, (v) => {
        const url = new URL(t.render(v, 'url'));
        expect(url.host).toBe('gw.example');
        expect(url.pathname).toBe('/send');
        expect(url.hash).toBe('');
        expect([...url.searchParams.keys()]).toEqual([...keys]);
        for (const k of keys) expect(url.searchParams.get(k)).toBe(wellFormed(String(v[k])));
      }),
      { numRuns },
    );
  });

  it('url: a value in the path cannot add a segment, query or fragment', () => {
    const t = compileTemplate('https://gw.example/a/[tonum]/b?x=1');
    fc.assert(
      fc.property(values, (v) => {
        const url = new URL(t.render(v, 'url'));
        const segs = url.pathname.split('/');
        expect(segs).toHaveLength(4);
        expect(decodeURIComponent(segs[2]!)).toBe(wellFormed(v.tonum));
        expect(url.search).toBe('?x=1');
        expect(url.hash).toBe('');
      }),
      { numRuns },
    );
  });

  it('json: the document parses and each value is exactly its string', () => {
    const keys = TEMPLATE_KEYWORDS;
    const t = compileTemplate(`{${keys.map((k) => `"${k}":"[${k}]"`).join(',')}}`);
    fc.assert(
      fc.property(values, (v) => {
        const doc = JSON.parse(t.render(v, 'json')) as Record<string, unknown>;
        expect(Object.keys(doc)).toEqual([...keys]);
        for (const k of keys) expect(doc[k]).toBe(String(v[k]));
      }),
      { numRuns },
    );
  });

  it('xml: the value stays text (element and attribute), well-formed, and reads back', () => {
    const t = compileTemplate('<sms><to a="[tonum]">[message]</to><from>[fromnum]</from></sms>');
    const shape = /^<sms><to a="([^"<]*)">([^<]*)<\/to><from>([^<]*)<\/from><\/sms>$/s;
    fc.assert(
      fc.property(values, (v) => {
        const out = t.render(v, 'xml');
        expect(XML_ILLEGAL.test(out)).toBe(false);
        const m = shape.exec(out);
        expect(m).not.toBeNull();
        for (const slot of [m![1]!, m![2]!, m![3]!]) {
          // no markup and no bare ampersand: only the five predefined entities
          expect(/&(?!(amp|lt|gt|quot|apos);)/.test(slot)).toBe(false);
        }
        const legal = (s: string) =>
          // eslint-disable-next-line no-control-regex -- control characters are the point here
          wellFormed(s).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
        expect(xmlUnescape(m![1]!)).toBe(legal(v.tonum));
        expect(xmlUnescape(m![2]!)).toBe(legal(v.message));
        expect(xmlUnescape(m![3]!)).toBe(legal(v.fromnum));
      }),
      { numRuns },
    );
  });

  it('header: a value never starts a new header line or holds a control character', () => {
    const t = compileTemplate('X-To: [tonum]\nX-Text: [message]\nAuthorization: Bearer k');
    fc.assert(
      fc.property(values, (v) => {
        const lines = t.render(v, 'header').split(/\r?\n/);
        expect(lines).toHaveLength(3);
        expect(lines[0]!.startsWith('X-To: ')).toBe(true);
        expect(lines[1]!.startsWith('X-Text: ')).toBe(true);
        expect(lines[2]).toBe('Authorization: Bearer k');
        // what undici accepts in a header value: no CR, LF, NUL or other control characters
        for (const l of lines)
          // eslint-disable-next-line no-control-regex -- control characters are the point here
          expect(/[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/.test(l)).toBe(false);
        // the octets read as UTF-8 give the value back, control characters as spaces
        const octets = Uint8Array.from(lines[1]!.slice('X-Text: '.length), (c) => c.charCodeAt(0));
        // eslint-disable-next-line no-control-regex -- control characters are the point here
        const flat = wellFormed(v.message).replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ');
        expect(new TextDecoder().decode(octets)).toBe(flat);
      }),
      { numRuns },
    );
  });

  it('none: a value is put in as is and keywords inside values are not expanded again', () => {
    const t = compileTemplate('[fromnum]|[message]|[tonum]');
    fc.assert(
      fc.property(values, (v) => {
        expect(t.render(v, 'none')).toBe(`${v.fromnum}|${v.message}|${v.tonum}`);
      }),
      { numRuns },
    );
  });

  it('SQL results are escaped like keyword values', () => {
    const t = compileTemplate('{"a":"{SELECT x FROM t WHERE n=[tonum]}","b":"[message]"}');
    fc.assert(
      fc.property(values, value, (v, sqlResult) => {
        const doc = JSON.parse(t.render(v, 'json', [sqlResult])) as Record<string, unknown>;
        expect(doc).toEqual({ a: sqlResult, b: v.message });
      }),
      { numRuns },
    );
  });
});
