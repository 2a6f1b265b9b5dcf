/**
 * Administrative alerts by SMS: the pure evaluation. Given what the fleet looks like now (readings),
 * the configured thresholds and when each alert was last sent, which alerts go out. The monitor
 * (api-gateway) gathers the readings from Redis and JetStream, claims each alert fleet-wide and
 * sends it; nothing here does I/O.
 */

export type AlertKind = 'circuit-open' | 'queue-depth' | 'billing-lag' | 'delivery-rate';

export const ALERT_KINDS: readonly AlertKind[] = [
  'circuit-open',
  'queue-depth',
  'billing-lag',
  'delivery-rate',
];

export interface GatewayReading {
  id: number;
  name: string;
  /** Circuit breaker state as the dispatchers keep it in Redis (`closed`, `open`, `half-open`). */
  circuit: { state: string; reason: string };
  /** Messages accepted for the gateway and not yet handed to the provider (fleet-wide). */
  queuedMessages: number;
  /** Final states of the gateway's messages in the dashboard window. */
  finals: number;
  /** Share (0..1) of those finals that are delivered or unknown (provider took it); null: no finals. */
  okRate: number | null;
}

export interface BillingReading {
  /** JetStream messages (event batches) of `sms.final` the billing consumer has not acked yet. */
  pending: number;
  /** Age in seconds of the oldest final event not billed yet; null when unknown or none. */
  oldestAgeSeconds: number | null;
}

export interface AlertReadings {
  gateways: readonly GatewayReading[];
  /** Undefined: the billing consumer does not exist (billing never ran) or could not be read. */
  billing?: BillingReading;
}

/** Thresholds; 0 turns a check off. */
export interface AlertThresholds {
  /** Queued messages per gateway at or above which `queue-depth` fires. */
  queueDepth: number;
  /** Age (s) of the oldest unbilled final at or above which `billing-lag` fires. */
  billingLagSeconds: number;
  /** Pending billing batches at or above which `billing-lag` fires. */
  billingPending: number;
  /** Delivery rate (percent, 1..100) below which `delivery-rate` fires. */
  deliveryRatePercent: number;
  /** `delivery-rate` needs at least this many finals in the window (noise guard). */
  deliveryMinFinals: number;
  /** The same alert (kind + subject) is sent at most once per this many seconds. */
  repeatSeconds: number;
  /** Circuit-open alerts on (true) or off. */
  circuitOpen: boolean;
}

export interface Alert {
  kind: AlertKind;
  /** What the alert is about: `gw:<id>` or `billing`. */
  subject: string;
  /** Rate-limit key: kind and subject. */
  key: string;
  /** The SMS text (one GSM segment at most). */
  text: string;
  /** The reading that fired it, for the record. */
  value: number;
  threshold: number;
}

/** Alert SMS texts stay within one GSM segment. */
export const ALERT_TEXT_MAX = 160;

export function alertKey(kind: AlertKind, subject: string): string {
  return `${kind}:${subject}`;
}

/** Printable ASCII only (safe in one GSM-7 segment), trimmed to `max`. */
function clip(s: string, max: number): string {
  const ascii = s.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= max ? ascii : `${ascii.slice(0, Math.max(0, max - 3))}...`;
}

function text(prefix: string, body: string): string {
  return clip(`${prefix}${body}`, ALERT_TEXT_MAX);
}

/**
 * The alerts to send now: every condition over its threshold whose kind+subject was not sent in the
 * last `repeatSeconds` (per `lastSent`: key -> epoch ms). The caller still claims each one
 * fleet-wide before sending (two replicas may evaluate the same readings).
 */
export function evaluateAlerts(
  readings: AlertReadings,
  t: AlertThresholds,
  lastSent: ReadonlyMap<string, number>,
  now: number,
  prefix = 'smsfleet ALERT: ',
): Alert[] {
  const out: Alert[] = [];
  const push = (a: Omit<Alert, 'key'>) => {
    const key = alertKey(a.kind, a.subject);
    const last = lastSent.get(key);
    if (last !== undefined && now - last < t.repeatSeconds * 1000) return;
    out.push({ ...a, key });
  };
  for (const g of readings.gateways) {
    const gw = `gateway ${clip(g.name, 40)} (${g.id})`;
    const subject = `gw:${g.id}`;
    if (t.circuitOpen && g.circuit.state === 'open')
      push({
        kind: 'circuit-open',
        subject,
        value: 1,
        threshold: 1,
        text: text(prefix, `${gw} circuit open${g.circuit.reason ? `: ${g.circuit.reason}` : ''}`),
      });
    if (t.queueDepth > 0 && g.queuedMessages >= t.queueDepth)
      push({
        kind: 'queue-depth',
        subject,
        value: g.queuedMessages,
        threshold: t.queueDepth,
        text: text(prefix, `${gw} queue ${g.queuedMessages} messages (threshold ${t.queueDepth})`),
      });
    if (
      t.deliveryRatePercent > 0 &&
      g.okRate !== null &&
      g.finals >= Math.max(1, t.deliveryMinFinals) &&
      g.okRate * 100 < t.deliveryRatePercent
    ) {
      const pct = Math.round(g.okRate * 1000) / 10;
      push({
        kind: 'delivery-rate',
        subject,
        value: pct,
        threshold: t.deliveryRatePercent,
        text: text(prefix, `${gw} delivery rate ${pct}% of ${g.finals} (below ${t.deliveryRatePercent}%)`),
      });
    }
  }
  const b = readings.billing;
  if (b) {
    const age = b.oldestAgeSeconds;
    const byAge = t.billingLagSeconds > 0 && age !== null && age >= t.billingLagSeconds;
    const byCount = t.billingPending > 0 && b.pending >= t.billingPending;
    if (byAge || byCount)
      push({
        kind: 'billing-lag',
        subject: 'billing',
        value: byAge ? Math.round(age) : b.pending,
        threshold: byAge ? t.billingLagSeconds : t.billingPending,
        text: text(
          prefix,
          `billing lags: ${b.pending} batches pending${age !== null ? `, oldest ${Math.round(age)} s` : ''}`,
        ),
      });
  }
  return out;
}

/** The admin numbers of `smsalertnumbers` (separated by `,` `;` or white space), deduplicated. */
export function parseAlertNumbers(raw: string): string[] {
  return [...new Set(raw.split(/[\s,;]+/).filter((s) => s !== ''))];
}
