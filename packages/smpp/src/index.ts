export * from './smpp-lib.js';
export * from './smpp-session.js';
export * from './smpp-transport.js';
export * from './submit-builder.js';
export * from './bind-lease.js';
export * from './deliver.js';
export * from './local-rate-limiter.js';
