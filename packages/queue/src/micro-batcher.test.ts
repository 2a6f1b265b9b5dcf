import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MicroBatcher } from './micro-batcher.js';

/** Settles a promise into an observable outcome without letting a rejection go unhandled. */
function outcome(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const o: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => {
      o.state = 'resolved';
    },
    (err: unknown) => {
      o.state = 'rejected';
      o.error = err;
    },
  );
  return o;
}

describe('MicroBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('items added within maxWaitMs share one flush, which happens when maxWaitMs has passed', async () => {
    const flushes: string[][] = [];
    const b = new MicroBatcher<string>({
      maxItems: 100,
      maxWaitMs: 50,
      flush: async (items) => void flushes.push(items),
    });

    const a = outcome(b.add('a'));
    await vi.advanceTimersByTimeAsync(20);
    const c = outcome(b.addMany(['b', 'c']));
    expect(b.pending).toBe(3);
    await vi.advanceTimersByTimeAsync(29);
    // The window is counted from the first item, not restarted by later ones.
    expect(flushes).toEqual([]);
    expect(a.state).toBe('pending');

    await vi.advanceTimersByTimeAsync(1);
    expect(flushes).toEqual([['a', 'b', 'c']]);
    expect(a.state).toBe('resolved');
    expect(c.state).toBe('resolved');
    expect(b.pending).toBe(0);

    // The next item opens a new window.
    const d = outcome(b.add('d'));
    await vi.advanceTimersByTimeAsync(50);
    expect(flushes).toEqual([['a', 'b', 'c'], ['d']]);
    expect(d.state).toBe('resolved');
  });

  it('a caller is answered only once its flush has completed', async () => {
    let release!: () => void;
    const b = new MicroBatcher<number>({
      maxItems: 100,
      maxWaitMs: 10,
      flush: () => new Promise<void>((resolve) => (release = resolve)),
    });
    const p = outcome(b.add(1));
    await vi.advanceTimersByTimeAsync(100);
    expect(p.state).toBe('pending');
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.state).toBe('resolved');
  });

  it('reaching maxItems flushes at once, without waiting for the timer', async () => {
    const flushes: number[][] = [];
    const b = new MicroBatcher<number>({
      maxItems: 3,
      maxWaitMs: 60_000,
      flush: async (items) => void flushes.push(items),
    });

    const first = [outcome(b.add(1)), outcome(b.add(2))];
    expect(flushes).toEqual([]);
    const third = outcome(b.add(3));
    // Synchronous: no timer has been advanced.
    expect(flushes).toEqual([[1, 2, 3]]);
    await vi.advanceTimersByTimeAsync(0);
    expect([...first, third].map((o) => o.state)).toEqual(['resolved', 'resolved', 'resolved']);

    // addMany counts every item it brings.
    const many = outcome(b.addMany([4, 5, 6, 7]));
    expect(flushes).toEqual([
      [1, 2, 3],
      [4, 5, 6, 7],
    ]);
    await vi.advanceTimersByTimeAsync(0);
    expect(many.state).toBe('resolved');

    // The timer of the flushed batch was cancelled: nothing more is flushed later.
    await vi.advanceTimersByTimeAsync(120_000);
    expect(flushes).toHaveLength(2);
  });

  it('a failing flush rejects exactly the callers whose items it carried', async () => {
    const boom = new Error('redis down');
    const flushes: string[][] = [];
    const b = new MicroBatcher<string>({
      maxItems: 2,
      maxWaitMs: 10,
      flush: async (items) => {
        flushes.push(items);
        if (items.includes('bad')) throw boom;
      },
    });

    const before = outcome(b.addMany(['ok1', 'ok2'])); // its own flush (maxItems)
    const x = outcome(b.add('x'));
    const bad = outcome(b.add('bad')); // flushes ['x', 'bad'], which fails
    const after = outcome(b.add('ok3')); // next batch, flushed by the timer
    await vi.advanceTimersByTimeAsync(10);

    expect(flushes).toEqual([['ok1', 'ok2'], ['x', 'bad'], ['ok3']]);
    expect(before.state).toBe('resolved');
    expect(x).toEqual({ state: 'rejected', error: boom });
    expect(bad).toEqual({ state: 'rejected', error: boom });
    expect(after.state).toBe('resolved');
  });

  it('keeps working after a failed flush', async () => {
    let fail = true;
    const flushes: number[][] = [];
    const b = new MicroBatcher<number>({
      maxItems: 10,
      maxWaitMs: 5,
      flush: async (items) => {
        flushes.push(items);
        if (fail) throw new Error('once');
      },
    });
    const p1 = outcome(b.add(1));
    await vi.advanceTimersByTimeAsync(5);
    expect(p1.state).toBe('rejected');
    fail = false;
    const p2 = outcome(b.add(2));
    await vi.advanceTimersByTimeAsync(5);
    expect(p2.state).toBe('resolved');
    expect(flushes).toEqual([[1], [2]]);
  });

  it('drain() flushes pending items at once and waits for every flush in flight', async () => {
    const done: number[][] = [];
    const b = new MicroBatcher<number>({
      maxItems: 2,
      maxWaitMs: 60_000,
      flush: async (items) => {
        await new Promise((r) => setTimeout(r, 30));
        done.push(items);
      },
    });
    const inFlight = outcome(b.addMany([1, 2])); // flushing now (maxItems), takes 30 ms
    const waiting = outcome(b.add(3)); // would wait a minute for its timer
    expect(b.pending).toBe(1);

    let drained = false;
    const d = b.drain().then(() => (drained = true));
    expect(b.pending).toBe(0);
    await vi.advanceTimersByTimeAsync(29);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await d;
    expect(done).toEqual([[1, 2], [3]]);
    expect(inFlight.state).toBe('resolved');
    expect(waiting.state).toBe('resolved');
  });

  it('drain() resolves even when a flush fails (its callers still see the error)', async () => {
    const b = new MicroBatcher<number>({
      maxItems: 10,
      maxWaitMs: 60_000,
      flush: async () => {
        throw new Error('nope');
      },
    });
    const p = outcome(b.add(1));
    await expect(b.drain()).resolves.toBeUndefined();
    expect(p.state).toBe('rejected');
    // Nothing pending: drain is a no-op.
    await expect(b.drain()).resolves.toBeUndefined();
  });

  it('group commit: items arriving while the flush limit is reached wait for a flush to end', async () => {
    const flushes: number[][] = [];
    const gates: (() => void)[] = [];
    const b = new MicroBatcher<number>({
      maxItems: 100,
      maxWaitMs: 1,
      maxConcurrentFlushes: 1,
      flush: (items) => {
        flushes.push(items);
        return new Promise<void>((resolve) => gates.push(resolve));
      },
    });
    const first = outcome(b.add(1));
    await vi.advanceTimersByTimeAsync(1);
    expect(flushes).toEqual([[1]]);
    const later = [2, 3, 4].map((i) => outcome(b.add(i)));
    // Their timer fires, but one flush is still running: no second flush yet.
    await vi.advanceTimersByTimeAsync(10);
    expect(flushes).toEqual([[1]]);
    gates[0]!();
    await vi.advanceTimersByTimeAsync(0);
    expect(first.state).toBe('resolved');
    // The end of the first flush carries everything that gathered meanwhile, in one batch.
    expect(flushes).toEqual([[1], [2, 3, 4]]);
    gates[1]!();
    await vi.advanceTimersByTimeAsync(0);
    expect(later.map((o) => o.state)).toEqual(['resolved', 'resolved', 'resolved']);
  });
});
