import fs from 'node:fs';
import path from 'node:path';
import { SECRET_KEY_ENV, SecretKey, generateSecretKeyText } from '@smsfleet/security';
import { STATE_DIR } from './paths.js';

/** Where `smsfleet up` keeps the server secret when the environment has none. */
export const SECRET_KEY_FILE = path.join(STATE_DIR, 'secret-key');

function readKeyFile(): string | undefined {
  try {
    const t = fs.readFileSync(SECRET_KEY_FILE, 'utf8').trim();
    return t === '' ? undefined : t;
  } catch {
    return undefined;
  }
}

/**
 * The server secret (`SMSFLEET_SECRET_KEY`) for CLI commands: the environment's, else the one
 * `smsfleet up` stored in the state folder. It is also put into this process' environment, so
 * migrations and repositories (which read it from there) seal and tag with the fleet's key.
 * `generate`: create and store one when there is none (`smsfleet up`). Validated either way.
 */
export function resolveSecretKey(
  env: NodeJS.ProcessEnv,
  opts: { generate?: boolean } = {},
): string | undefined {
  let text = env[SECRET_KEY_ENV]?.trim() || readKeyFile();
  let generated = false;
  if (!text && opts.generate) {
    text = generateSecretKeyText();
    fs.mkdirSync(STATE_DIR, { recursive: true });
    fs.writeFileSync(SECRET_KEY_FILE, `${text}\n`, { mode: 0o600 });
    generated = true;
  }
  if (!text) return undefined;
  SecretKey.fromText(text);
  if (!process.env[SECRET_KEY_ENV]) process.env[SECRET_KEY_ENV] = text;
  if (generated) process.stderr.write(`smsfleet: generated the server secret key in ${SECRET_KEY_FILE}\n`);
  return text;
}
