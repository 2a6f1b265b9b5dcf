import type { Migration } from './migration.js';

/**
 * The seed's number-rewrite hook: with `usesmsprefixsp=true` the api-gateway calls
 * `v_dialplansms(tonum, fromid, fromnum, clientip)` for every recipient and sends to the single
 * value it returns. This default passes the number through unchanged; operators replace it
 * (DROP PROCEDURE + CREATE PROCEDURE) with their own rules, and later migrations never touch it.
 */
export const m0101: Migration = {
  name: '0101_v_dialplansms',
  async up(knex) {
    await knex.raw('DROP PROCEDURE IF EXISTS v_dialplansms');
    await knex.raw(
      `CREATE PROCEDURE v_dialplansms(IN tonum VARCHAR(256), IN fromid INT, IN fromnum VARCHAR(64), IN clientip VARCHAR(64))
       SQL SECURITY INVOKER
       COMMENT 'smsfleet: rewrite the SMS target number (default: unchanged)'
       SELECT tonum AS tonum`,
    );
  },
  async down(knex) {
    await knex.raw('DROP PROCEDURE IF EXISTS v_dialplansms');
  },
};
