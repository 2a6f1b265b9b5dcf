export {
  createDb,
  dropDatabase,
  ensureDatabase,
  parseDatabaseUrl,
  redactUrl,
  type CreateDbOptions,
  type DatabaseUrlParts,
} from './connect.js';
export { DbError, isDuplicateKeyError, type DbErrorCode } from './errors.js';
export {
  MIGRATIONS,
  MIGRATIONS_TABLE,
  migrate,
  rollbackAll,
  type MigrateOptions,
  type Migration,
} from './migrations.js';
export { USER_TYPES, UsersRepo, type NewUser, type User, type UserType } from './users-repo.js';
export { ConfigRepo } from './config-repo.js';
export { CDR_INSERT_CHUNK, CdrRepo, type Cdr, type CdrInsert, type CdrListQuery } from './cdr-repo.js';
export type { Knex } from 'knex';
