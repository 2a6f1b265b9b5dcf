import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const FILE_NAME = /^smssend(data|header)(?:_(\d+))?\.txt$/;

/**
 * The seed's template files, read from one folder (`SMS_FILES_DIR`): `smssenddata.txt`,
 * `smssendheader.txt` and the per-gateway `smssenddata_ID.txt` / `smssendheader_ID.txt`.
 * Reloaded when the folder changes (fs.watch, plus a slow poll because watch events get lost on
 * some filesystems); `onChange` fires only when a file's content really changed.
 */
export class SendFiles {
  private files = new Map<string, string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();
  private loading: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly pollMs = 2_000,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    try {
      this.watcher = watch(this.dir, () => this.schedule());
      this.watcher.on('error', () => undefined);
    } catch {
      // Folder missing: the poll notices when it appears.
    }
    this.timer = setInterval(() => this.schedule(), this.pollMs);
    this.timer.unref();
  }

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** POST data for the gateway: its own file first, then the shared one. */
  data(gatewayId: number): string | undefined {
    return this.files.get(`data_${gatewayId}`) ?? this.files.get('data');
  }

  header(gatewayId: number): string | undefined {
    return this.files.get(`header_${gatewayId}`) ?? this.files.get('header');
  }

  /** Only the gateway's own `_ID` file. */
  ownData(gatewayId: number): string | undefined {
    return this.files.get(`data_${gatewayId}`);
  }

  ownHeader(gatewayId: number): string | undefined {
    return this.files.get(`header_${gatewayId}`);
  }

  sharedData(): string | undefined {
    return this.files.get('data');
  }

  sharedHeader(): string | undefined {
    return this.files.get('header');
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    // Editors write in several steps: wait for the folder to settle.
    this.debounce = setTimeout(() => void this.reload(), 100);
    this.debounce.unref();
  }

  reload(): Promise<void> {
    this.loading = this.loading.then(async () => {
      const next = new Map<string, string>();
      let names: string[] = [];
      try {
        names = await readdir(this.dir);
      } catch {
        names = [];
      }
      for (const name of names) {
        const m = FILE_NAME.exec(name);
        if (!m) continue;
        try {
          // Trailing newlines of a saved file are not part of the template.
          const text = (await readFile(path.join(this.dir, name), 'utf8')).replace(/\r?\n$/, '');
          next.set(m[2] ? `${m[1]}_${m[2]}` : (m[1] ?? ''), text);
        } catch {
          // vanished between readdir and read
        }
      }
      if (!sameMap(this.files, next)) {
        this.files = next;
        for (const cb of this.listeners) cb();
      }
    });
    return this.loading;
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    clearTimeout(this.debounce);
  }
}

function sameMap(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
