import type { EventBus } from '@smsfleet/bus';
import type { ConfigSnapshot, ConfigStore } from '@smsfleet/config';
import type { Knex, UsersRepo } from '@smsfleet/db';
import type { Redis } from '@smsfleet/queue';
import type { InfraEnv, Logger, Registry } from '@smsfleet/runtime';
import type { AuthGuard, SecretKey, SecretVerifier } from '@smsfleet/security';
import type { AcceptPipeline } from './accept-pipeline.js';
import type { UserCache } from './user-cache.js';

/** A gateway as the API sees it when it routes a message. */
export interface GatewayRef {
  id: number;
  name: string;
}

/**
 * Everything the api-gateway's routes and Mizu entries share, built once by app.ts. Route modules
 * and entries take it as an argument (no globals, no DI container).
 */
export interface ApiContext {
  infra: InfraEnv;
  log: Logger;
  db: Knex;
  redis: Redis;
  bus: EventBus;
  config: ConfigStore;
  users: UsersRepo;
  userCache: UserCache;
  registry: Registry;
  pipeline: AcceptPipeline;
  /** The gateway a message goes to (the routing issue replaces the first-gateway rule). */
  chooseGateway(
    cfg: ConfigSnapshot,
    msg: { to: string; from: string; userId: number },
  ): GatewayRef | undefined;
  /** Price of one message for a user (decimal string): per segment, from the price setup or `smsprice`. */
  rate(cfg: ConfigSnapshot, msg: { to: string; userId: number; segments: number }): string;
  /** Marks an authsalt as used; false when it was used before inside its window. */
  claimSalt(authid: string, salt: string): Promise<boolean>;
  /**
   * Password checking (scrypt hashes, successes cached briefly), the server key that opens sealed
   * passwords (`SMSFLEET_SECRET_KEY`; undefined: authmd5 is unavailable) and the fleet-wide ban list
   * of failed authentications (Mizu API, /v1 bearer keys, web logins).
   */
  secrets: { verifier: SecretVerifier; key: SecretKey | undefined; guard: AuthGuard };
  /** Registers a cleanup step run on shutdown (reverse order). */
  onClose(name: string, close: () => Promise<void> | void): void;
}
