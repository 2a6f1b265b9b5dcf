import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutboundSms } from '@smsfleet/core';
import { ExecTransport, splitCommand } from './exec-transport.js';

const dir = mkdtempSync(path.join(tmpdir(), 'smsfleet-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const msg: OutboundSms = {
  smsid: 'e-1',
  userId: 5,
  gatewayId: 9,
  from: '1000',
  to: '36201234567',
  text: `hi'; rm -rf / "$(id)" 😀`,
  encoding: 'UCS2',
  segments: 1,
  clientIp: '10.0.0.1',
  acceptedAt: 0,
};

describe('ExecTransport', () => {
  it('passes the values as separate arguments, no shell; exit 0 + stdout id is a success', async () => {
    const out = path.join(dir, 'args.txt');
    const p = script('ok.sh', `for a in "$@"; do printf '%s\\n' "$a"; done > ${out}\necho "OK id-77"`);
    const t = new ExecTransport({ command: p });
    const r = await t.send(msg);
    expect(r).toMatchObject({ ok: true, providerMessageId: 'id-77' });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(out, 'utf8').split('\n').slice(0, 8)).toEqual([
      '36201234567',
      msg.text,
      '1000',
      'e-1',
      '9',
      '5',
      '1',
      '10.0.0.1',
    ]);
  });

  it('argument templates choose the arguments', async () => {
    const p = script('echo.sh', 'printf "OK %s|%s" "$1" "$2"');
    const t = new ExecTransport({ command: `${p} --to=[tonum] "[message]"` });
    expect(t.args(msg)).toEqual(['--to=36201234567', msg.text]);
    const r = await t.send(msg);
    expect(r).toMatchObject({ ok: true, answer: `OK --to=36201234567|${msg.text}` });
  });

  it('exit codes: 75 temporary, others permanent; timeout and missing file temporary', async () => {
    expect(
      await new ExecTransport({ command: script('t.sh', 'echo busy; exit 75') }).send(msg),
    ).toMatchObject({
      ok: false,
      permanent: false,
      reason: 'exit code 75: busy',
    });
    expect(
      await new ExecTransport({ command: script('p.sh', 'echo bad number >&2; exit 2') }).send(msg),
    ).toMatchObject({
      ok: false,
      permanent: true,
      reason: 'exit code 2: bad number',
    });
    const slow = await new ExecTransport({ command: script('s.sh', 'sleep 5'), timeoutMs: 200 }).send(msg);
    expect(slow).toMatchObject({ ok: false, permanent: false, reason: 'executable timed out after 200 ms' });
    expect(await new ExecTransport({ command: path.join(dir, 'missing') }).send(msg)).toMatchObject({
      ok: false,
      permanent: false,
      reason: 'executable failed to start: ENOENT',
    });
  });

  it('exit 0 with a failure answer or the configured fail string is a failure', async () => {
    const p = script('f.sh', 'echo "STATUS=DENIED"');
    expect(await new ExecTransport({ command: p, failString: 'DENIED' }).send(msg)).toMatchObject({
      ok: false,
      permanent: true,
    });
  });

  it('splits commands like a shell would, without running one', () => {
    expect(splitCommand(`/bin/x a "b c" 'd e' [message]`)).toEqual([
      '/bin/x',
      'a',
      'b c',
      'd e',
      '[message]',
    ]);
  });
});
