/** Caps parallel provider requests of one gateway across every chunk a process works on. */
export class Semaphore {
  private waiting: (() => void)[] = [];
  private used = 0;

  constructor(private limit: number) {}

  setLimit(limit: number): void {
    this.limit = limit;
    while (this.used < this.limit && this.waiting.length) {
      this.used++;
      this.waiting.shift()!();
    }
  }

  get inUse(): number {
    return this.used;
  }

  acquire(): Promise<void> {
    if (this.used < this.limit) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    // After a lowered limit, slots are given back instead of handed on until under the limit.
    if (this.used > this.limit || this.waiting.length === 0) {
      this.used--;
      return;
    }
    this.waiting.shift()!();
  }
}
