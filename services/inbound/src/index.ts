export * from './app.js';
export * from './mo-processor.js';
export * from './command-runner.js';
export * from './answer-sender.js';
export * from './mailer-holder.js';
