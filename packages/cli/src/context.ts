import { EventBus } from '@smsfleet/bus';
import { createDb, ensureDatabase, migrate, type Knex } from '@smsfleet/db';
import { readInfraEnv, type InfraEnv } from '@smsfleet/runtime';
import { resolveSecretKey } from './secret-key-file.js';

/** Connections a command needs, opened lazily and closed once at the end. */
export class CliContext {
  readonly infra: InfraEnv;
  private db: Knex | undefined;
  private bus: EventBus | undefined;

  constructor(readonly env: NodeJS.ProcessEnv) {
    this.infra = readInfraEnv(env);
    // SMSFLEET_SECRET_KEY (or the state folder's key): passwords set by the CLI get their sealed
    // copy under the same key as the fleet's.
    resolveSecretKey(env);
  }

  get apiUrl(): string {
    return (
      this.env.API_URL ?? `http://127.0.0.1:${this.env.API_GATEWAY_PORT ?? this.env.HTTP_PORT ?? '8084'}`
    );
  }

  async database(): Promise<Knex> {
    if (!this.db) {
      await ensureDatabase(this.infra.databaseUrl);
      this.db = createDb(this.infra.databaseUrl, { pool: { min: 0, max: 2 } });
      await migrate(this.db);
    }
    return this.db;
  }

  /** Tells running services that something changed; they also poll, so a NATS outage only delays it. */
  async notify(topic: 'config' | 'users' | 'gateways' | 'routes' | 'prices'): Promise<void> {
    try {
      this.bus ??= await EventBus.connect({
        url: this.infra.natsUrl,
        prefix: this.infra.eventPrefix,
        name: 'cli',
      });
      this.bus.notify(topic);
      await this.bus.nc.flush();
    } catch (err) {
      process.stderr.write(
        `warning: could not notify running services (${(err as Error).message}); they pick the change up within seconds\n`,
      );
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.db?.destroy(), this.bus?.close()]);
  }
}
