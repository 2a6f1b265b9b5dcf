export * from './password-hash.js';
export * from './secret-key.js';
export * from './verify-cache.js';
export * from './auth-ban-policy.js';
export * from './auth-guard.js';
