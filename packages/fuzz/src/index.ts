export * from './raw-http.js';
export * from './http-cases.js';
export * from './http-fuzz.js';
export * from './fleet-fuzz.js';
export * from './fuzz-http-run.js';
export * from './fuzz-smpp-run.js';
