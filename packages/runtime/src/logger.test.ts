import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from './logger.js';

function capture(): { log: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { log: pino(loggerOptions('test', 'info'), sink), text: () => chunks.join('') };
}

describe('service logger', () => {
  it('redacts secret-named fields at the top level and under the usual containers', () => {
    const { log, text } = capture();
    log.info(
      {
        password: 'pw-top',
        user: { name: 'alice', password: 'pw-nested' },
        query: { authkey: 'k2' },
        apiv2key: 'k1',
        token: 't1',
        keep: 'visible',
      },
      'x',
    );
    const out = text();
    for (const s of ['pw-top', 'pw-nested', 'k1', 'k2', 't1']) expect(out).not.toContain(s);
    expect(out).toContain('[redacted]');
    expect(out).toContain('visible');
    expect(out).toContain('alice');
  });

  it('masks credentials in URLs and SMPP strings of errors and reasons', () => {
    const { log, text } = capture();
    log.warn(
      { err: new Error('GET https://acct:hunter2@api.example.com/x?password=q1 failed') },
      'send failed',
    );
    log.warn(
      { err: 'bind to SMPP;server=h;username=u;password=smpp1 refused', reason: 'http://a:b2@h/' },
      'y',
    );
    const out = text();
    for (const s of ['hunter2', 'q1', 'smpp1', ':b2@']) expect(out).not.toContain(s);
    expect(out).toContain('api.example.com');
    expect(out).toContain('password=***');
  });
});
