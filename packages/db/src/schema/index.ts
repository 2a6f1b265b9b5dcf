/**
 * Every migration in order. Append new ones (one file each, next free number); never edit or
 * reorder applied ones.
 */
import type { Migration } from './migration.js';
import { m0001 } from './0001_users.js';
import { m0002 } from './0002_config.js';
import { m0003 } from './0003_cdr.js';
import { m0150 } from './0150_api_keys.js';
import { m0151 } from './0151_batches.js';
import { m0100 } from './0100_advertisements.js';
import { m0101 } from './0101_v_dialplansms.js';
import { m0200 } from './0200_gateway_settings.js';
import { m0400 } from './0400_routes.js';
import { m0401 } from './0401_prices.js';
import { m0402 } from './0402_cdr_billing.js';
import { m0600 } from './0600_inbound.js';
import { m0601 } from './0601_users_email_pin.js';
import { m0602 } from './0602_cdr_direction.js';
import { m0700 } from './0700_webhooks.js';
import { m0800 } from './0800_password_hashes.js';
import { m0801 } from './0801_api_key_hashes.js';
import { m0820 } from './0820_audit_log.js';
import { m0850 } from './0850_inbox_sip.js';
import { m0890 } from './0890_credit_holds.js';

export const MIGRATIONS: readonly Migration[] = [
  m0001,
  m0002,
  m0003,
  m0150,
  m0151,
  m0100,
  m0101,
  m0400,
  m0401,
  m0402,
  m0200,
  m0600,
  m0601,
  m0602,
  m0700,
  m0800,
  m0801,
  m0820,
  m0850,
  m0890,
];
