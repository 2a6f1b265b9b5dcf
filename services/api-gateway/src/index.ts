export * from './mizu-route.js';
