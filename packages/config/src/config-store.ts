/**
 * Holds the current typed config snapshot and swaps it when the stored rows change. Pure: the
 * storage is reached only through the functions given to the constructor.
 */
import { buildSnapshot, CONFIG_KEYS, type ConfigKey, type ConfigSnapshot } from './registry.js';

export interface ConfigStoreOptions {
  /** Reads every stored config row (`key -> raw text`). */
  load: () => Promise<Record<string, string>>;
  /** Registers for change notifications (e.g. a bus subject); returns the unsubscribe function. */
  subscribe?: (onChange: () => void) => () => void;
  /** Fallback poll period; notifications can be lost, polling bounds the staleness. Default 2000. */
  pollMs?: number;
  /**
   * Optional cheap fingerprint of the stored rows (e.g. `ConfigRepo.version`). When given, a poll
   * only reloads if the fingerprint changed. Notifications always reload.
   */
  version?: () => Promise<string>;
  /** Reload failures and listener exceptions end up here (packages don't log). */
  onError?: (err: unknown) => void;
}

export type ConfigChangeListener = (
  next: ConfigSnapshot,
  prev: ConfigSnapshot,
  changedKeys: readonly ConfigKey[],
) => void;

export class ConfigStoreError extends Error {
  readonly code: 'NOT_STARTED' | 'CLOSED';
  constructor(code: 'NOT_STARTED' | 'CLOSED', message: string) {
    super(message);
    this.name = 'ConfigStoreError';
    this.code = code;
  }
}

export class ConfigStore {
  readonly #opts: ConfigStoreOptions;
  readonly #pollMs: number;
  readonly #listeners = new Set<ConfigChangeListener>();
  #snapshot: ConfigSnapshot | undefined;
  #errors: readonly string[] = [];
  #lastVersion: string | undefined;
  #started: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #dirty = false;
  #loop: Promise<void> | undefined;
  #polling = false;

  constructor(opts: ConfigStoreOptions) {
    this.#opts = opts;
    this.#pollMs = opts.pollMs ?? 2000;
    if (!(this.#pollMs > 0)) throw new RangeError('pollMs must be > 0');
  }

  /** Loads once (rejects if that fails), then follows notifications and polls. Idempotent. */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new ConfigStoreError('CLOSED', 'ConfigStore is closed'));
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    await this.#loadOnce(true);
    if (this.#closing) return;
    this.#unsubscribe = this.#opts.subscribe?.(() => void this.refresh());
    this.#timer = setInterval(() => void this.#poll(), this.#pollMs);
    this.#timer.unref();
  }

  /** The latest snapshot. Frozen; a change replaces it, so hold it for one job at most. */
  current(): ConfigSnapshot {
    if (!this.#snapshot) throw new ConfigStoreError('NOT_STARTED', 'ConfigStore.start() has not completed');
    return this.#snapshot;
  }

  /** Validation errors of the stored rows behind the current snapshot (those keys use defaults). */
  errors(): readonly string[] {
    return this.#errors;
  }

  /** Called after each swap with the keys whose value changed. Returns the unregister function. */
  onChange(listener: ConfigChangeListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Reloads now. Requests arriving while a load runs are coalesced into one more load after it,
   * so a change made during a load is never missed and loads never overlap (an older result can't
   * overwrite a newer one). Failures keep the previous snapshot and go to `onError`.
   */
  refresh(): Promise<void> {
    if (this.#closing || !this.#snapshot) return this.#loop ?? Promise.resolve();
    this.#dirty = true;
    this.#loop ??= (async () => {
      try {
        while (this.#dirty && !this.#closing) {
          this.#dirty = false;
          try {
            await this.#loadOnce(false);
          } catch (err) {
            this.#report(err);
          }
        }
      } finally {
        this.#loop = undefined;
      }
    })();
    return this.#loop;
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#closing) return;
    this.#polling = true;
    try {
      if (this.#opts.version) {
        const v = await this.#opts.version();
        if (v === this.#lastVersion) return;
      }
      await this.refresh();
    } catch (err) {
      this.#report(err);
    } finally {
      this.#polling = false;
    }
  }

  async #loadOnce(initial: boolean): Promise<void> {
    // Read the fingerprint before the rows: a write landing in between makes the next poll see a
    // new fingerprint and reload again, never the reverse.
    const version = this.#opts.version ? await this.#opts.version() : undefined;
    const rows = await this.#opts.load();
    if (this.#closing && !initial) return;
    const { snapshot, errors } = buildSnapshot(rows);
    this.#lastVersion = version;
    this.#errors = Object.freeze(errors);
    const prev = this.#snapshot;
    if (!prev) {
      this.#snapshot = snapshot;
      return;
    }
    const changed = CONFIG_KEYS.map((e) => e.key).filter((k) => prev[k] !== snapshot[k]);
    if (changed.length === 0) return; // keep the old object: identity means "unchanged"
    this.#snapshot = snapshot;
    for (const listener of [...this.#listeners]) {
      try {
        listener(snapshot, prev, changed);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  #report(err: unknown): void {
    try {
      this.#opts.onError?.(err);
    } catch {
      // an error reporter that throws must not break the reload loop
    }
  }

  /** Stops notifications and polling and waits for a running load. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = undefined;
      try {
        this.#unsubscribe?.();
      } catch (err) {
        this.#report(err);
      }
      this.#unsubscribe = undefined;
      this.#listeners.clear();
      // A start() still loading sees #closing and neither subscribes nor starts the timer.
      await this.#started?.catch(() => undefined);
      await this.#loop;
    })();
    return this.#closing;
  }
}
