/**
 * The seed's template files: smssenddata.txt / smssendheader.txt and their _ID variants, read from
 * SMS_FILES_DIR and reloaded on change, as the provider sees them through the real transport.
 */
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultSnapshot } from '@smsfleet/config';
import type { OutboundSms, Transport } from '@smsfleet/core';
import { SendFiles } from './send-files.js';
import { createTransport } from './transport-factory.js';

const dir = mkdtempSync(path.join(tmpdir(), 'smsfleet-files-'));
let server: Server;
let base = '';
let seen: { method: string; headers: IncomingMessage['headers']; body: string }[] = [];
const files = new SendFiles(dir, 100);

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body });
      res.end('OK 1');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await files.start();
});
afterAll(async () => {
  files.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  seen = [];
  for (const f of ['smssenddata.txt', 'smssenddata_5.txt', 'smssendheader.txt', 'smssendheader_5.txt'])
    try {
      unlinkSync(path.join(dir, f));
    } catch {
      // not there
    }
  await files.reload();
});

const msg = (gatewayId: number): OutboundSms => ({
  smsid: 'f-1',
  userId: 1,
  gatewayId,
  from: '1000',
  to: '3620',
  text: 'héllo "you" 😀',
  encoding: 'UCS2',
  segments: 1,
  clientIp: '127.0.0.1',
  acceptedAt: 0,
});

async function sendVia(gatewayId: number, cfg = defaultSnapshot()): Promise<void> {
  const t = createTransport({ id: gatewayId, name: 'g', url: `${base}/send?to=[tonum]` }, cfg, 4, {
    files,
  }) as Transport;
  expect(await t.send(msg(gatewayId))).toMatchObject({ ok: true });
  await t.close();
}

describe('template files', () => {
  it('without files or config: GET', async () => {
    await sendVia(5);
    expect(seen[0]!.method).toBe('GET');
  });

  it('smssenddata.txt and smssendheader.txt apply to every gateway', async () => {
    writeFileSync(path.join(dir, 'smssenddata.txt'), '{"to":"[tonum]","text":"[message]"}\n');
    writeFileSync(path.join(dir, 'smssendheader.txt'), 'X-Key: shared-[gatewayid]\n');
    await files.reload();
    await sendVia(6);
    expect(seen[0]!.method).toBe('POST');
    expect(JSON.parse(seen[0]!.body)).toEqual({ to: '3620', text: 'héllo "you" 😀' });
    expect(seen[0]!.headers['x-key']).toBe('shared-6');
  });

  it('smssenddata_ID.txt / smssendheader_ID.txt win for gateway ID only', async () => {
    writeFileSync(path.join(dir, 'smssenddata.txt'), 'shared=[message]');
    writeFileSync(path.join(dir, 'smssenddata_5.txt'), '<m><t>[message]</t></m>');
    writeFileSync(path.join(dir, 'smssendheader.txt'), 'X-Key: shared');
    writeFileSync(path.join(dir, 'smssendheader_5.txt'), 'X-Key: own-[smsid]');
    await files.reload();
    await sendVia(5);
    await sendVia(6);
    expect(seen[0]!.body).toBe('<m><t>héllo &quot;you&quot; 😀</t></m>');
    expect(seen[0]!.headers['x-key']).toBe('own-f-1');
    expect(seen[1]!.body).toBe(`shared=${encodeURIComponent('héllo "you" 😀')}`);
    expect(seen[1]!.headers['x-key']).toBe('shared');
  });

  it('the global smssenddata key wins over the shared file, the _ID file over the key', async () => {
    writeFileSync(path.join(dir, 'smssenddata.txt'), 'file=[tonum]');
    writeFileSync(path.join(dir, 'smssenddata_5.txt'), 'own=[tonum]');
    await files.reload();
    const cfg = { ...defaultSnapshot(), smssenddata: 'key=[tonum]' };
    await sendVia(6, cfg);
    await sendVia(5, cfg);
    expect(seen.map((s) => s.body)).toEqual(['key=3620', 'own=3620']);
  });

  it('a changed file is picked up without a restart and reported', async () => {
    let changes = 0;
    const off = files.onChange(() => changes++);
    writeFileSync(path.join(dir, 'smssenddata_5.txt'), 'v=1');
    await expect.poll(() => files.ownData(5), { timeout: 3000 }).toBe('v=1');
    writeFileSync(path.join(dir, 'smssenddata_5.txt'), 'v=2');
    await expect.poll(() => files.ownData(5), { timeout: 3000 }).toBe('v=2');
    expect(changes).toBeGreaterThanOrEqual(2);
    off();
  });
});
