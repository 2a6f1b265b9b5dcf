export * from './service-infra.js';
