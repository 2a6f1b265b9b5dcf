import { describe, expect, test } from 'vitest';
import { LiveTable } from './live-table.js';

describe('LiveTable', () => {
  test('reloads on a notification, keeps the last good copy when a reload fails, stops on close', async () => {
    let version = 1;
    let fail = false;
    let notify: () => void = () => undefined;
    const errors: unknown[] = [];
    const table = await new LiveTable({
      load: () => (fail ? Promise.reject(new Error('db down')) : Promise.resolve(version)),
      subscribe: (cb) => {
        notify = cb;
        return () => {
          notify = () => undefined;
        };
      },
      pollMs: 60_000,
      onError: (e) => errors.push(e),
    }).start();
    expect(table.current()).toBe(1);
    version = 2;
    notify();
    await table.refresh();
    expect(table.current()).toBe(2);
    fail = true;
    version = 3;
    await table.refresh();
    expect(table.current()).toBe(2);
    expect(errors).toHaveLength(1);
    fail = false;
    table.close();
    notify();
    expect(table.current()).toBe(2);
  });

  test('concurrent refreshes coalesce into one more load', async () => {
    let loads = 0;
    const table = await new LiveTable({ load: () => Promise.resolve(++loads), pollMs: 60_000 }).start();
    await Promise.all([table.refresh(), table.refresh(), table.refresh(), table.refresh()]);
    expect(loads).toBeLessThanOrEqual(3);
    expect(table.current()).toBe(loads);
    table.close();
  });
});
