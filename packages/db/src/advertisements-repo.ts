import type { Knex } from 'knex';

export interface Advertisement {
  id: number;
  text: string;
  enabled: boolean;
  weight: number;
}

/** Mizu's tb_advertisement: texts inserted before outbound SMS when `smsadv` is on. */
export class AdvertisementsRepo {
  constructor(private readonly db: Knex) {}

  async add(text: string, opts: { enabled?: boolean; weight?: number } = {}): Promise<number> {
    const [id] = await this.db('advertisements').insert({
      text,
      enabled: opts.enabled ?? true,
      weight: opts.weight ?? 1,
    });
    return Number(id);
  }

  /** The enabled advertisements with a positive weight, by id. */
  async listEnabled(): Promise<Advertisement[]> {
    const rows = (await this.db('advertisements')
      .select('id', 'text', 'enabled', 'weight')
      .where({ enabled: true })
      .andWhere('weight', '>', 0)
      .orderBy('id')) as { id: number; text: string; enabled: number; weight: number }[];
    return rows.map((r) => ({
      id: Number(r.id),
      text: r.text,
      enabled: Boolean(r.enabled),
      weight: r.weight,
    }));
  }

  async remove(id: number): Promise<boolean> {
    return (await this.db('advertisements').where({ id }).delete()) > 0;
  }
}
