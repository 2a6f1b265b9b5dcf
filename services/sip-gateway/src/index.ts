export * from './app.js';
export * from './digest.js';
export * from './handler.js';
export * from './registrar.js';
export * from './sip-message.js';
export * from './chat-delivery.js';
export * from './mizu-client.js';
