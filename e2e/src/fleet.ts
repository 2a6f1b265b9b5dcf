// The fleet harness lives in @smsfleet/harness so the CLI (`./smsfleet chaos`, fuzzers) can use it too.
export * from '@smsfleet/harness';
