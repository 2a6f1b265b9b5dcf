import { describe, expect, it } from 'vitest';
import { ProblemError } from './problem.js';
import { parseRecipientsCsv, resolveRecipients } from './recipients.js';

describe('CSV recipients', () => {
  it('reads to[,text] lines, quoted commas and an optional header', () => {
    const { recipients, lines } = parseRecipientsCsv(
      'to,text\n36201111111,"Hello, Anna"\n\n+36 20 222 2222\n36203333333,"say ""hi"""\n',
    );
    expect(recipients).toEqual([
      { to: '36201111111', text: 'Hello, Anna' },
      { to: '+36 20 222 2222' },
      { to: '36203333333', text: 'say "hi"' },
    ]);
    expect(lines).toEqual([2, 4, 5]);
  });

  it('takes the columns in header order', () => {
    const { recipients } = parseRecipientsCsv('text,to\nHi,36201111111\n');
    expect(recipients).toEqual([{ to: '36201111111', text: 'Hi' }]);
  });

  it('a file without header starts with the first number', () => {
    expect(parseRecipientsCsv('36201111111\n36202222222').recipients).toHaveLength(2);
  });

  it('refuses a broken CSV as a bad request', () => {
    expect(() => parseRecipientsCsv('36201111111,"unterminated\n')).toThrow(ProblemError);
  });
});

describe('resolveRecipients', () => {
  const ptr = (i: number, f: string) => `/recipients/${i}/${f}`;

  it('normalises numbers and applies the batch text and sender', () => {
    expect(
      resolveRecipients(
        [{ to: '+36 (20) 111-1111' }, { to: '36202222222', text: 'own', from: 'Shop' }],
        { text: 'all', from: '1000' },
        ptr,
      ),
    ).toEqual([
      { to: '+36201111111', text: 'all', from: '1000' },
      { to: '36202222222', text: 'own', from: 'Shop' },
    ]);
  });

  it('lists every bad row at once', () => {
    let err: ProblemError | undefined;
    try {
      resolveRecipients(
        [{ to: 'abc' }, { to: '36201111111' }, { to: '36202222222', from: 'far too long sender' }],
        {},
        ptr,
      );
    } catch (e) {
      err = e as ProblemError;
    }
    expect(err?.code).toBe('VALIDATION');
    expect(err?.errors).toEqual([
      { pointer: '/recipients/0/to', detail: 'invalid target number: abc' },
      { pointer: '/recipients/0/text', detail: expect.stringContaining('no text') },
      { pointer: '/recipients/1/text', detail: expect.stringContaining('no text') },
      { pointer: '/recipients/2/text', detail: expect.stringContaining('no text') },
      { pointer: '/recipients/2/from', detail: expect.stringContaining('invalid sender') },
    ]);
  });

  it('caps the list at 100 and counts the rest', () => {
    const bad = Array.from({ length: 250 }, () => ({ to: 'x' }));
    try {
      resolveRecipients(bad, { text: 't' }, ptr);
      expect.unreachable();
    } catch (e) {
      expect((e as ProblemError).errors).toHaveLength(100);
      expect((e as ProblemError).message).toContain('250 recipients are invalid');
    }
  });
});
