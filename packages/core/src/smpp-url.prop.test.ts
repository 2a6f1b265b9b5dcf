import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSmppUrl, parseSmppUrl, SmppConfigError, type SmppGatewayConfig } from './smpp-url.js';

const numRuns = Number(process.env['FC_NUM_RUNS'] ?? 500);

const KEYS = [
  'server',
  'username',
  'password',
  'serverport',
  'version',
  'secure',
  'systemtype',
  'servicetype',
  'msgpriority',
  'msgexpire',
  'timeout',
  'absolutetimeout',
  'recipients',
  'recipienttype',
  'isdata',
  'hexstring',
  'senderaddress',
  'sourceton',
  'sourcenpi',
  'destinationton',
  'destinationnpi',
  'datacoding',
  'inbuffersize',
  'outbuffersize',
  'bind',
  'binds',
  'window',
  'concat',
  'charset',
  'registereddelivery',
  'mps',
  'enquirelink',
  'responsetimeout',
  'extraconfig',
  'sslaccept',
  'sslencodig',
  'sslcertstore',
  'sslpwd',
  'sslstoretype',
  'sslsubject',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

const piece = fc.oneof(
  fc.constantFrom(...KEYS),
  fc.constantFrom(
    'SMPP',
    ';',
    '=',
    ' ',
    '1',
    '-1',
    '34',
    '2775',
    '99999999999999999999',
    'x',
    '\u0000',
    '[::1]',
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const garbage = fc.array(piece, { maxLength: 20 }).map((a) => a.join(''));
const pair = fc
  .tuple(fc.constantFrom(...KEYS), fc.oneof(fc.string({ maxLength: 8 }), piece))
  .map(([k, v]) => `${k}=${v}`);
const smppish = fc.array(pair, { maxLength: 8 }).map((a) => `SMPP;${a.join(';')}`);

describe('SMPP URL parser', () => {
  it('parse never throws anything but SmppConfigError', () => {
    fc.assert(
      fc.property(fc.oneof(garbage, smppish), fc.boolean(), (url, requireServer) => {
        try {
          parseSmppUrl(url, { requireServer });
        } catch (err) {
          expect(err).toBeInstanceOf(SmppConfigError);
        }
        // checkSmppUrl only returns reasons, it never throws
        const reason = checkSmppUrl(url);
        if (reason !== undefined) expect(typeof reason).toBe('string');
      }),
      { numRuns },
    );
  });

  it('names of Object members are unknown parameters, not silently accepted', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'),
        (k) => {
          expect(() => parseSmppUrl(`SMPP;server=h;username=u;${k}=1`)).toThrow(/unknown SMPP parameter/);
        },
      ),
      { numRuns: 10 },
    );
  });

  it('deeply repeated extraconfig= is parsed, not a stack overflow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000 }), (n) => {
        const c = parseSmppUrl(`SMPP;${'extraconfig='.repeat(n)}server=h;username=u;window=7`);
        expect([c.host, c.systemId, c.window]).toEqual(['h', 'u', 7]);
      }),
      { numRuns: Math.min(numRuns, 20) },
    );
  });

  it('globals (smpp_* keys) are checked the same way', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(
            fc.constantFrom(...KEYS).map((k) => `smpp_${k}`),
            fc.constant('smpp_allparameters'),
          ),
          fc.oneof(garbage, fc.integer().map(String), fc.boolean()),
        ),
        (globals) => {
          try {
            parseSmppUrl('SMPP;server=h;username=u', { globals });
          } catch (err) {
            expect(err).toBeInstanceOf(SmppConfigError);
          }
        },
      ),
      { numRuns },
    );
  });

  it('valid configurations round-trip through the URL', () => {
    const host = fc.oneof(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,3}$/),
      fc.ipV4(),
      fc.ipV6().map((ip) => `[${ip}]`),
    );
    const cStr = (max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9!#$%()*+,./:?@^_|~-]{1,${max}}$`));
    const cfg = fc.record({
      server: host,
      username: cStr(15),
      password: cStr(8),
      serverport: fc.integer({ min: 1, max: 65535 }),
      version: fc.constantFrom(34, 50),
      secure: fc.boolean(),
      sourceton: fc.integer({ min: 0, max: 6 }),
      destinationnpi: fc.constantFrom(0, 1, 3, 4, 6, 8, 9, 10, 14, 18),
      bind: fc.constantFrom('transmitter', 'transceiver', 'transmitter+receiver'),
      binds: fc.integer({ min: 1, max: 64 }),
      window: fc.integer({ min: 1, max: 1000 }),
      concat: fc.constantFrom('udh', 'udh16', 'sar', 'payload'),
      registereddelivery: fc.constantFrom(0, 1, 2),
      recipients: fc.array(fc.stringMatching(/^\+?[0-9]{3,15}$/), { maxLength: 5 }),
      mps: fc.integer({ min: 0, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(cfg, fc.boolean(), (c, upper) => {
        const pairs = Object.entries(c)
          .filter(([k, v]) => !(k === 'recipients' && (v as string[]).length === 0))
          .map(([k, v]) => {
            const key = upper ? k.toUpperCase() : k;
            if (Array.isArray(v)) return `${key}=${v.join(';')}`;
            if (typeof v === 'boolean') return `${key}=${v ? 1 : 0}`;
            return `${key}=${String(v)}`;
          });
        const parsed: SmppGatewayConfig = parseSmppUrl(`SMPP;${pairs.join(';')}`);
        expect(parsed.host).toBe(c.server.replace(/^\[(.*)\]$/, '$1'));
        expect(parsed.systemId).toBe(c.username);
        expect(parsed.password).toBe(c.password);
        expect(parsed.port).toBe(c.serverport);
        expect(parsed.version).toBe(c.version);
        expect(parsed.interfaceVersion).toBe(c.version === 34 ? 0x34 : 0x50);
        expect(parsed.secure).toBe(c.secure);
        expect(parsed.sourceTon).toBe(c.sourceton);
        expect(parsed.destNpi).toBe(c.destinationnpi);
        expect(parsed.bindMode).toBe(c.bind);
        expect(parsed.binds).toBe(c.binds);
        expect(parsed.window).toBe(c.window);
        expect(parsed.concat).toBe(c.concat);
        expect(parsed.registeredDelivery).toBe(c.registereddelivery);
        expect(parsed.recipients).toEqual(c.recipients);
        expect(parsed.mps).toBe(c.mps);
      }),
      { numRuns },
    );
  });
});
