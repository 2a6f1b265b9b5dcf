/**
 * Every migration in order. Append new ones (one file each, next free number); never edit or
 * reorder applied ones.
 */
import type { Migration } from './migration.js';
import { m0001 } from './0001_users.js';
import { m0002 } from './0002_config.js';
import { m0003 } from './0003_cdr.js';

export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003];
