export * from './message.js';
export * from './gsm.js';
export * from './template.js';
export * from './provider-answer.js';
export * from './smsid.js';
export * from './errors.js';
export * from './money.js';
