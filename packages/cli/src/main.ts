#!/usr/bin/env node
import { runCli } from './run-cli.js';

runCli(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  },
);
