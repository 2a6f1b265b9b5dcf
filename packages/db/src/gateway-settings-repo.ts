import type { Knex } from 'knex';
import { parseGatewaySettings, type GatewaySettings } from '@smsfleet/core';

interface Row {
  gateway_id: number;
  settings: string;
}

/** Per-gateway settings (HTTP/exec transport knobs), one JSON row per gateway, validated on write. */
export class GatewaySettingsRepo {
  constructor(private readonly db: Knex) {}

  async get(gatewayId: number): Promise<GatewaySettings> {
    const r = (await this.db('gateway_settings')
      .select('settings')
      .where({ gateway_id: gatewayId })
      .first()) as Pick<Row, 'settings'> | undefined;
    return r ? parseGatewaySettings(JSON.parse(r.settings) as Record<string, unknown>) : {};
  }

  /**
   * Every gateway's settings in one query (the dispatcher loads them per refresh, never per message).
   * A row that no longer validates is reported in `invalid` instead of failing the whole load.
   */
  async getAll(): Promise<{ settings: Map<number, GatewaySettings>; invalid: Map<number, string> }> {
    const rows = await this.db<Row>('gateway_settings').select('gateway_id', 'settings');
    const settings = new Map<number, GatewaySettings>();
    const invalid = new Map<number, string>();
    for (const r of rows) {
      try {
        settings.set(
          Number(r.gateway_id),
          parseGatewaySettings(JSON.parse(r.settings) as Record<string, unknown>),
        );
      } catch (err) {
        invalid.set(Number(r.gateway_id), (err as Error).message);
      }
    }
    return { settings, invalid };
  }

  /**
   * Merges `patch` (validated; an `undefined` value removes the key) into the stored settings and
   * returns the result. Throws GatewaySettingsError on a bad value, writing nothing.
   */
  async merge(gatewayId: number, patch: Record<string, unknown>): Promise<GatewaySettings> {
    const parsed = parseGatewaySettings(patch);
    return this.db.transaction(async (trx) => {
      const r = (await trx('gateway_settings')
        .select('settings')
        .where({ gateway_id: gatewayId })
        .forUpdate()
        .first()) as Pick<Row, 'settings'> | undefined;
      const current = r ? (JSON.parse(r.settings) as Record<string, unknown>) : {};
      const next: Record<string, unknown> = { ...current, ...parsed };
      for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
      const settings = JSON.stringify(next);
      await trx('gateway_settings')
        .insert({ gateway_id: gatewayId, settings })
        .onConflict('gateway_id')
        .merge(['settings']);
      return parseGatewaySettings(next);
    });
  }

  async delete(gatewayId: number): Promise<boolean> {
    return (await this.db('gateway_settings').where({ gateway_id: gatewayId }).delete()) > 0;
  }
}
