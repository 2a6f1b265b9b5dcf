import type { Knex } from 'knex';
import { formatDecimal, parseDecimal, type PriceRule } from '@smsfleet/core';
import { DbError, isDuplicateKeyError } from './errors.js';

export interface StoredPrice extends PriceRule {
  createdAt: Date;
}

export type NewPrice = Omit<PriceRule, 'id'>;

interface PriceRow {
  id: number;
  prefix: string;
  price: string;
  user_id: number;
  packet: string;
  created_at: Date;
}

function toPrice(r: PriceRow): StoredPrice {
  return {
    id: Number(r.id),
    prefix: r.prefix,
    // DECIMAL(18,6) comes back as '0.030000': shown and used as '0.03'.
    price: formatDecimal(parseDecimal(r.price)),
    userId: Number(r.user_id) || null,
    packet: r.packet || null,
    createdAt: r.created_at,
  };
}

/** Price setup of service type SMS (validation is the caller's: core's validatePriceRule). */
export class PricesRepo {
  constructor(private readonly db: Knex) {}

  /** Throws DbError 'DUPLICATE' when the scope already has a price for this prefix. */
  async add(p: NewPrice): Promise<StoredPrice> {
    let id: number;
    try {
      [id] = (await this.db('prices').insert({
        service_type: 'SMS',
        prefix: p.prefix,
        price: p.price,
        user_id: p.userId ?? 0,
        packet: p.packet ?? '',
      })) as [number];
    } catch (err) {
      if (isDuplicateKeyError(err))
        throw new DbError('DUPLICATE', `a price for prefix "${p.prefix}" already exists in that scope`, {
          cause: err,
        });
      throw err;
    }
    return toPrice((await this.db('prices').where({ id }).first()) as PriceRow);
  }

  async list(): Promise<StoredPrice[]> {
    const rows = (await this.db('prices')
      .where({ service_type: 'SMS' })
      .orderBy([{ column: 'prefix' }, { column: 'id' }])) as PriceRow[];
    return rows.map(toPrice);
  }

  async remove(id: number): Promise<boolean> {
    return (await this.db('prices').where({ id, service_type: 'SMS' }).delete()) > 0;
  }

  /** Users with a price packet (the packet is also their routing group): id -> packet. */
  async userPackets(): Promise<Map<number, string>> {
    const rows = (await this.db('users').select('id', 'price_packet').whereNot('price_packet', '')) as {
      id: number;
      price_packet: string;
    }[];
    return new Map(rows.map((r) => [Number(r.id), r.price_packet]));
  }

  async setUserPacket(userId: number, packet: string): Promise<boolean> {
    return (await this.db('users').where({ id: userId }).update({ price_packet: packet })) > 0;
  }
}
