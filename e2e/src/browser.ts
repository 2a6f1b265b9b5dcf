import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * The browser tests drive Debian's chromium through playwright-core (no browser download). When it
 * is missing it is installed with apt (root only); otherwise the test fails saying what to install.
 */
export function ensureChromium(): string {
  if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0)
    throw new Error(
      `${CHROMIUM} is missing and this is not root: install it with "sudo apt-get install -y chromium" to run the browser tests`,
    );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) =>
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
      env,
      stdio: 'inherit',
      timeout: 900_000,
    });
  try {
    apt(['install', '-y', '--no-install-recommends', 'chromium']);
  } catch {
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', 'chromium']);
  }
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

export interface TestBrowser {
  context: BrowserContext;
  newPage(viewport: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = ensureChromium();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsfleet-chromium-'));
  // A new empty profile per run (playwright takes it as the persistent context's folder).
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    newPage: async (viewport) => {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      return page;
    },
    close: async () => {
      await context.close().catch(() => undefined);
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** docs/ of the repository: where the README's screenshots live. */
export function docsPath(file: string): string {
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'docs');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, file);
}
