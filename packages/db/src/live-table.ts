/**
 * An in-memory copy of a small table (routes, prices) for hot paths: loaded at start, reloaded
 * when a change notification arrives and on a timer (a lost notification only delays a change),
 * swapped whole so readers never see half a reload. A failed reload keeps the last good copy.
 */
export interface LiveTableOptions<T> {
  load: () => Promise<T>;
  /** Subscribes to change notifications; returns the unsubscribe function. */
  subscribe?: (onChange: () => void) => () => void;
  pollMs?: number;
  onError?: (err: unknown) => void;
}

export class LiveTable<T> {
  private value: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private loading: Promise<void> | undefined;
  private again = false;

  constructor(private readonly opts: LiveTableOptions<T>) {}

  async start(): Promise<this> {
    this.value = await this.opts.load();
    this.unsubscribe = this.opts.subscribe?.(() => void this.refresh());
    this.timer = setInterval(() => void this.refresh(), this.opts.pollMs ?? 5_000);
    this.timer.unref();
    return this;
  }

  current(): T {
    if (this.value === undefined) throw new Error('LiveTable used before start()');
    return this.value;
  }

  /** Reloads now; concurrent calls coalesce into at most one more load. */
  refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          this.value = await this.opts.load();
        } catch (err) {
          this.opts.onError?.(err);
        }
      } while (this.again);
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
