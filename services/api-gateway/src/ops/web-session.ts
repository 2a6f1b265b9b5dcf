import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type express from 'express';
import type { User, UserType } from '@smsfleet/db';
import { verifyDummy, type SecretVerifier } from '@smsfleet/security';
import type { Redis } from '@smsfleet/queue';

/**
 * Sessions of the web pages (/ops, /portal) as signed cookies: no session table, any replica can
 * check them. The HMAC key lives in Redis (`<prefix>:web:session-secret`, created once with SET NX)
 * so every api-gateway replica signs and checks with the same key; losing Redis' data only logs
 * everyone out. Cookies are HttpOnly and SameSite=Strict; every state-changing request also carries
 * a CSRF token derived from the session (header `x-csrf-token`).
 */
export interface WebSession {
  userId: number;
  name: string;
  type: UserType;
  /** Epoch ms. */
  expires: number;
  /** Random per login; the CSRF token is derived from it. */
  nonce: string;
}

export const SESSION_TTL_MS = 12 * 3600 * 1000;

export class SessionKeys {
  private secret: Promise<Buffer> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(): Promise<Buffer> {
    this.secret ??= (async () => {
      const k = `${this.prefix}:web:session-secret`;
      await this.redis.set(k, randomBytes(32).toString('base64url'), 'NX');
      const v = await this.redis.get(k);
      if (!v) throw new Error('session secret missing in Redis');
      return Buffer.from(v, 'base64url');
    })().catch((err: unknown) => {
      this.secret = undefined;
      throw err;
    });
    return this.secret;
  }

  private static mac(key: Buffer, data: string): string {
    return createHmac('sha256', key).update(data).digest('base64url');
  }

  async sign(s: WebSession): Promise<string> {
    const payload = Buffer.from(JSON.stringify(s)).toString('base64url');
    return `${payload}.${SessionKeys.mac(await this.key(), `session.${payload}`)}`;
  }

  async verify(cookie: string | undefined): Promise<WebSession | undefined> {
    if (!cookie) return undefined;
    const dot = cookie.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = cookie.slice(0, dot);
    const mac = cookie.slice(dot + 1);
    if (!safeEqual(mac, SessionKeys.mac(await this.key(), `session.${payload}`))) return undefined;
    try {
      const s = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as WebSession;
      if (typeof s.expires !== 'number' || s.expires < Date.now()) return undefined;
      return s;
    } catch {
      return undefined;
    }
  }

  async csrfToken(s: WebSession): Promise<string> {
    return SessionKeys.mac(await this.key(), `csrf.${s.userId}.${s.nonce}`);
  }
}

export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export function newSession(user: User): WebSession {
  return {
    userId: user.id,
    name: user.name,
    type: user.type,
    expires: Date.now() + SESSION_TTL_MS,
    nonce: randomBytes(12).toString('base64url'),
  };
}

export function readCookie(req: express.Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function setCookie(
  req: express.Request,
  res: express.Response,
  name: string,
  value: string,
  cookiePath: string,
  maxAgeMs: number,
): void {
  // req.secure: a TLS socket, or X-Forwarded-Proto https from a proxy Express trusts (TRUST_PROXY).
  const secure = req.secure ? '; Secure' : '';
  res.append(
    'Set-Cookie',
    `${name}=${encodeURIComponent(value)}; Path=${cookiePath}; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure}`,
  );
}

/**
 * A form POST without a session (the login) cannot carry a CSRF token yet; SameSite=Strict covers
 * the session cookie, and this refuses cross-site form posts by their Origin header (every browser
 * sends it on a cross-origin POST) and by `Sec-Fetch-Site`. Non-browser clients send neither.
 */
export function sameOrigin(req: express.Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin !== 'null';
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page shell: no inline script (CSP `script-src 'self'`), everything served locally. */
export function pageHtml(opts: { title: string; body: string; scripts?: string[]; csrf?: string }): string {
  const scripts = (opts.scripts ?? []).map((s) => `<script src="${escapeHtml(s)}" defer></script>`).join('');
  const csrf = opts.csrf ? `<meta name="csrf-token" content="${escapeHtml(opts.csrf)}">` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${csrf}<title>${escapeHtml(opts.title)}</title><link rel="stylesheet" href="/web-assets/app.css">${scripts}</head><body>${opts.body}</body></html>`;
}

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export function sendPage(res: express.Response, html: string, status = 200): void {
  res.status(status).set(SECURITY_HEADERS).type('html').send(html);
}

export function loginPage(opts: { title: string; action: string; error?: string; hint: string }): string {
  const err = opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : '';
  return pageHtml({
    title: opts.title,
    body: `<main class="login"><h1>${escapeHtml(opts.title)}</h1><p class="muted">${escapeHtml(opts.hint)}</p>${err}
<form method="post" action="${escapeHtml(opts.action)}">
<label>User name <input name="name" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form></main>`,
  });
}

// Static files of the pages, read once at start: `services/api-gateway/public/` (two folders up
// from both src/ops/ and dist/ops/).
const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'public');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
let assets: Map<string, { body: Buffer; type: string }> | undefined;

export function webAssets(): Map<string, { body: Buffer; type: string }> {
  if (!assets) {
    assets = new Map();
    for (const f of fs.readdirSync(PUBLIC_DIR)) {
      const type = TYPES[path.extname(f)];
      if (type) assets.set(f, { body: fs.readFileSync(path.join(PUBLIC_DIR, f)), type });
    }
  }
  return assets;
}

export function publicFile(name: string): string {
  return path.join(PUBLIC_DIR, name);
}

/** Mounts `/web-assets/<file>` (the pages' scripts and styles) once per router. */
export function mountAssets(router: express.Router): void {
  const mounted = router as express.Router & { smsfleetAssets?: boolean };
  if (mounted.smsfleetAssets) return;
  mounted.smsfleetAssets = true;
  router.get('/web-assets/:file', (req, res) => {
    const a = webAssets().get(req.params.file);
    if (!a) {
      res.status(404).type('text/plain').send('not found');
      return;
    }
    res
      .status(200)
      .set({
        'content-type': a.type,
        'x-content-type-options': 'nosniff',
        'cache-control': 'public, max-age=300',
      })
      .send(a.body);
  });
}

/**
 * Authentication of the login form against the users table (scrypt hashes, checked through
 * `verifier`); only users of the given types.
 */
export async function checkLogin(
  findUser: (name: string) => Promise<User | undefined>,
  name: string,
  password: string,
  types: readonly UserType[],
  verifier: SecretVerifier,
): Promise<User | undefined> {
  if (!name || !password) return undefined;
  const u = await findUser(name);
  // Spend the same scrypt run for unknown users so timing does not reveal which names exist.
  const ok = u
    ? await verifier.verify(`user:${u.id}`, password, u.passwordHash)
    : await verifyDummy(password);
  if (!u || !ok || !u.enabled || !types.includes(u.type)) return undefined;
  return u;
}
