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
export {
  API_KEY_PREFIX,
  ApiKeysRepo,
  apiKeyIdOf,
  generateApiKeyToken,
  hashApiKey,
  type ApiKey,
} from './api-keys-repo.js';
export { BatchesRepo, type Batch, type BatchState } from './batches-repo.js';
export { AdvertisementsRepo, type Advertisement } from './advertisements-repo.js';
export { GatewaySettingsRepo } from './gateway-settings-repo.js';
export { TemplateQueryRunner } from './template-query.js';
export { RoutesRepo, type NewRoute, type StoredRoute } from './routes-repo.js';
export { PricesRepo, type NewPrice, type StoredPrice } from './prices-repo.js';
export { BillingRepo, type Settlement, type SettleResult } from './billing-repo.js';
export { searchCdrs, cdrsToCsv, type CdrSearch, type CdrSearchRow } from './cdr-search.js';
export { LiveTable, type LiveTableOptions } from './live-table.js';
export { loadRoutingTables, type RoutingTables } from './routing-tables.js';
export {
  InboxRepo,
  type InboxInsert,
  type InboxMessage,
  type EmailState,
  type SipChatState,
} from './inbox-repo.js';
export {
  RegisteredNumbersRepo,
  numberKey,
  type InboundUser,
  type RegisterResult,
} from './registered-numbers-repo.js';
export { RechargeRepo, type RechargeCode, type RedeemResult } from './recharge-repo.js';
export {
  CallbackRequestsRepo,
  type CallbackRequest,
  type CallbackRequestInsert,
} from './callback-requests-repo.js';
export { MoPartsRepo } from './mo-parts-repo.js';
export { InboundCdrRepo, type InboundCdr } from './inbound-cdr-repo.js';
export {
  AUDIT_SOURCES,
  AuditRepo,
  type AuditEntry,
  type AuditInsert,
  type AuditSource,
} from './audit-repo.js';
export { CreditHoldsRepo, type CreditHold, type HoldRequest } from './credit-holds-repo.js';
