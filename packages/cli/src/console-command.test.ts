import { describe, expect, test } from 'vitest';
import { parseConsoleCommand } from './console-command.js';

describe('parseConsoleCommand', () => {
  test.each([
    ['asendsms,36201234567>Hello word', 'asendsms', { bnum: '36201234567', message: 'Hello word' }],
    ['ASENDSMS, 36201234567 ,1000>Hi', 'asendsms', { bnum: '36201234567', anum: '1000', message: 'Hi' }],
    [
      'asendsmssync,to=361;362,from=ACME>a>b, c',
      'asendsmssync',
      { to: '361;362', from: 'ACME', message: 'a>b, c' },
    ],
    ['asendsms,36201234567>Привет 👋', 'asendsms', { bnum: '36201234567', message: 'Привет 👋' }],
  ])('%s', (line, entry, params) => {
    expect(parseConsoleCommand(line)).toEqual({ entry, params });
  });

  test.each([
    ['no text separator', 'asendsms,36201234567 Hello', /console syntax/],
    ['unknown command', 'reboot,now>x', /unknown console command: reboot/],
    ['end-user entry', 'sendsms,36201234567>x', /unknown console command: sendsms/],
    ['too many arguments', 'asendsms,1,2,3>x', /too many arguments/],
  ])('%s is refused', (_n, line, err) => {
    expect(() => parseConsoleCommand(line)).toThrow(err);
  });
});
