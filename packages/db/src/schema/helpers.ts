import type { Knex } from 'knex';

export const now3 = (knex: Knex) => knex.raw('CURRENT_TIMESTAMP(3)');
export const now3OnUpdate = (knex: Knex) => knex.raw('CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)');

export function tableDefaults(t: Knex.CreateTableBuilder): void {
  t.engine('InnoDB');
  t.charset('utf8mb4');
  t.collate('utf8mb4_unicode_ci');
}
