/**
 * SMPP gateways are checked when they are saved (gateway add, config set), not at send time:
 * unknown keys, malformed values and a missing server are refused with the offending key named.
 * The checks live in @smsfleet/config so the ops page applies the same ones.
 */
export { smppConfigProblem, smppUrlProblem } from '@smsfleet/config';
