export * from './logger.js';
export * from './metrics.js';
export * from './lifecycle.js';
export * from './service-server.js';
export * from './env.js';
export * from './run-service.js';
export * from './tls-env.js';
