/**
 * Collects items for at most `maxWaitMs` (or until `maxItems`) and hands them to `flush` together.
 * Each `add()` resolves or rejects with the outcome of the flush that carried its item, so a caller
 * answers only once its message is durable.
 *
 * With `maxConcurrentFlushes`, items that arrive while that many flushes are running wait for one
 * to finish (group commit): batches grow with load instead of the flush rate growing with it.
 */
export class MicroBatcher<T> {
  private items: T[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly opts: {
      maxItems: number;
      maxWaitMs: number;
      flush: (items: T[]) => Promise<void>;
      maxConcurrentFlushes?: number;
    },
  ) {}

  add(item: T): Promise<void> {
    return this.addMany([item]);
  }

  addMany(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      for (const i of items) this.items.push(i);
      this.waiters.push({ resolve, reject });
      if (this.items.length >= this.opts.maxItems) this.flushNow();
      else this.timer ??= setTimeout(() => this.onTimer(), this.opts.maxWaitMs);
    });
  }

  get pending(): number {
    return this.items.length;
  }

  private get saturated(): boolean {
    return this.inFlight.size >= (this.opts.maxConcurrentFlushes ?? Infinity);
  }

  private onTimer(): void {
    this.timer = undefined;
    // A running flush will pick these items up when it ends.
    if (!this.saturated) this.flushNow();
  }

  private flushNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.items.length === 0) return;
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    // A flush that throws synchronously must still settle every caller of the batch.
    let started: Promise<void>;
    try {
      started = this.opts.flush(items);
    } catch (err) {
      started = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const p = started.then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      if (this.items.length > 0 && !this.timer && !this.saturated) this.flushNow();
    });
  }

  /** Flushes what is waiting and waits for every flush in flight. */
  async drain(): Promise<void> {
    this.flushNow();
    await Promise.allSettled([...this.inFlight]);
  }
}
