import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigStore, type ConfigStoreOptions } from './config-store.js';

/** A fake config table: rows can be changed, loads can be made to fail or to hang. */
function fakeTable(initial: Record<string, string> = {}) {
  const t = {
    rows: { ...initial },
    loads: 0,
    fail: false,
    gate: undefined as Promise<void> | undefined,
    load: async (): Promise<Record<string, string>> => {
      t.loads++;
      const snapshotOfRows = { ...t.rows };
      if (t.gate) await t.gate;
      if (t.fail) throw new Error('db down');
      return snapshotOfRows;
    },
  };
  return t;
}

function fakeBus() {
  const subs = new Set<() => void>();
  return {
    subs,
    subscribe: (fn: () => void) => {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    notify: () => subs.forEach((fn) => fn()),
  };
}

const stores: ConfigStore[] = [];
function makeStore(opts: ConfigStoreOptions): ConfigStore {
  const s = new ConfigStore(opts);
  stores.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

describe('ConfigStore', () => {
  it('loads once on start and serves a frozen typed snapshot', async () => {
    const table = fakeTable({ smsurl: 'http://a', smstrouting: '1' });
    const store = makeStore({ load: table.load, pollMs: 60_000 });
    expect(() => store.current()).toThrow(/not completed/);
    await store.start();
    await store.start();
    expect(table.loads).toBe(1);
    const s = store.current();
    expect(s.smsurl).toBe('http://a');
    expect(s.smsrouting).toBe(1);
    expect(s.enablesms).toBe(true);
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('rejects start when the first load fails', async () => {
    const table = fakeTable();
    table.fail = true;
    const store = makeStore({ load: table.load });
    await expect(store.start()).rejects.toThrow('db down');
  });

  it('reloads on a change notification and swaps the snapshot, not mutating the old one', async () => {
    const table = fakeTable({ smsurl: 'http://a' });
    const bus = fakeBus();
    const store = makeStore({ load: table.load, subscribe: bus.subscribe, pollMs: 60_000 });
    await store.start();
    const before = store.current();
    const seen: string[][] = [];
    store.onChange((next, prev, keys) => {
      expect(prev).toBe(before);
      expect(next.smsurl).toBe('http://b');
      seen.push([...keys]);
    });
    table.rows.smsurl = 'http://b';
    table.rows.smsprice = '0.05';
    bus.notify();
    await vi.waitFor(() => expect(store.current().smsurl).toBe('http://b'));
    expect(before.smsurl).toBe('http://a');
    expect(store.current().smsprice).toBe('0.05');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.sort()).toEqual(['smsprice', 'smsurl']);
  });

  it('keeps the same snapshot object and stays quiet when nothing changed', async () => {
    const table = fakeTable({ smsurl: 'http://a' });
    const store = makeStore({ load: table.load, pollMs: 60_000 });
    await store.start();
    const before = store.current();
    const listener = vi.fn();
    store.onChange(listener);
    await store.refresh();
    expect(table.loads).toBe(2);
    expect(store.current()).toBe(before);
    expect(listener).not.toHaveBeenCalled();
  });

  it('polls as a fallback when notifications are lost', async () => {
    const table = fakeTable({ smstime: '60' });
    const store = makeStore({ load: table.load, pollMs: 20 });
    await store.start();
    table.rows.smstime = '30';
    await vi.waitFor(() => expect(store.current().smstime).toBe(30));
  });

  it('with a version function, polls skip the full load while the version is unchanged', async () => {
    const table = fakeTable({ smstime: '60' });
    let version = 'v1';
    const store = makeStore({ load: table.load, version: async () => version, pollMs: 10 });
    await store.start();
    await new Promise((r) => setTimeout(r, 80));
    expect(table.loads).toBe(1);
    table.rows.smstime = '30';
    version = 'v2';
    await vi.waitFor(() => expect(store.current().smstime).toBe(30));
    expect(table.loads).toBe(2);
  });

  it('keeps the previous snapshot when a reload fails and reports the error', async () => {
    const table = fakeTable({ smsurl: 'http://a' });
    const errors: unknown[] = [];
    const store = makeStore({ load: table.load, pollMs: 60_000, onError: (e) => errors.push(e) });
    await store.start();
    const before = store.current();
    table.fail = true;
    table.rows.smsurl = 'http://b';
    await store.refresh();
    expect(store.current()).toBe(before);
    expect(errors).toHaveLength(1);
    table.fail = false;
    await store.refresh();
    expect(store.current().smsurl).toBe('http://b');
  });

  it('uses defaults for invalid rows and exposes their errors', async () => {
    const table = fakeTable({ smsrouting: '7' });
    const store = makeStore({ load: table.load, pollMs: 60_000 });
    await store.start();
    expect(store.current().smsrouting).toBe(-1);
    expect(store.errors()).toEqual(['smsrouting must be one of -1, 0, 1']);
  });

  it('coalesces notifications during a load into one more load, and never loses the last change', async () => {
    const table = fakeTable({ smstime: '1' });
    const bus = fakeBus();
    const store = makeStore({ load: table.load, subscribe: bus.subscribe, pollMs: 60_000 });
    await store.start();
    let open!: () => void;
    table.gate = new Promise<void>((r) => (open = r));
    table.rows.smstime = '2';
    bus.notify(); // load #2 starts and hangs, having read smstime=2
    table.rows.smstime = '3';
    bus.notify();
    bus.notify();
    bus.notify();
    table.gate = undefined;
    open();
    await vi.waitFor(() => expect(store.current().smstime).toBe(3));
    expect(table.loads).toBe(3); // the first load, the hung one, and ONE coalesced reload
  });

  it('isolates a throwing listener', async () => {
    const table = fakeTable({ smstime: '1' });
    const errors: unknown[] = [];
    const store = makeStore({ load: table.load, pollMs: 60_000, onError: (e) => errors.push(e) });
    await store.start();
    const good = vi.fn();
    store.onChange(() => {
      throw new Error('listener bug');
    });
    const off = store.onChange(good);
    table.rows.smstime = '2';
    await store.refresh();
    expect(good).toHaveBeenCalledOnce();
    expect(errors).toHaveLength(1);
    off();
    table.rows.smstime = '3';
    await store.refresh();
    expect(good).toHaveBeenCalledOnce();
  });

  it('close is idempotent, unsubscribes and stops polling', async () => {
    const table = fakeTable();
    const bus = fakeBus();
    const store = makeStore({ load: table.load, subscribe: bus.subscribe, pollMs: 10 });
    await store.start();
    expect(bus.subs.size).toBe(1);
    await Promise.all([store.close(), store.close()]);
    await store.close();
    expect(bus.subs.size).toBe(0);
    const loads = table.loads;
    await new Promise((r) => setTimeout(r, 50));
    bus.notify();
    await store.refresh();
    expect(table.loads).toBe(loads);
    await expect(store.start()).rejects.toThrow(/closed/);
  });

  it('close during the first load does not subscribe afterwards', async () => {
    const table = fakeTable();
    const bus = fakeBus();
    let open!: () => void;
    table.gate = new Promise<void>((r) => (open = r));
    const store = makeStore({ load: table.load, subscribe: bus.subscribe, pollMs: 10 });
    const started = store.start();
    const closed = store.close();
    open();
    await started;
    await closed;
    expect(bus.subs.size).toBe(0);
  });
});
