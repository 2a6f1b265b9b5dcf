import { describe, expect, test } from 'vitest';
import {
  ALERT_TEXT_MAX,
  evaluateAlerts,
  parseAlertNumbers,
  type AlertThresholds,
  type GatewayReading,
} from './alerts.js';

const T: AlertThresholds = {
  queueDepth: 100,
  billingLagSeconds: 60,
  billingPending: 0,
  deliveryRatePercent: 80,
  deliveryMinFinals: 10,
  repeatSeconds: 600,
  circuitOpen: true,
};
const healthy: GatewayReading = {
  id: 3,
  name: 'sim',
  circuit: { state: 'closed', reason: '' },
  queuedMessages: 5,
  finals: 50,
  okRate: 0.99,
};

describe('evaluateAlerts', () => {
  test('a healthy fleet raises nothing', () => {
    expect(
      evaluateAlerts(
        { gateways: [healthy], billing: { pending: 0, oldestAgeSeconds: null } },
        T,
        new Map(),
        0,
      ),
    ).toEqual([]);
  });

  test('each kind fires at its threshold with its subject', () => {
    const g: GatewayReading = {
      ...healthy,
      circuit: { state: 'open', reason: 'connect ECONNREFUSED' },
      queuedMessages: 100,
      okRate: 0.5,
    };
    const a = evaluateAlerts(
      { gateways: [g], billing: { pending: 4, oldestAgeSeconds: 61 } },
      T,
      new Map(),
      0,
    );
    expect(a.map((x) => x.key)).toEqual([
      'circuit-open:gw:3',
      'queue-depth:gw:3',
      'delivery-rate:gw:3',
      'billing-lag:billing',
    ]);
    expect(a[0]!.text).toBe('smsfleet ALERT: gateway sim (3) circuit open: connect ECONNREFUSED');
    expect(a[2]!.text).toContain('delivery rate 50% of 50 (below 80%)');
    expect(a[3]!.text).toContain('oldest 61 s');
  });

  test('half-open circuits, too few finals, unknown billing and zero thresholds stay quiet', () => {
    const g: GatewayReading = {
      ...healthy,
      circuit: { state: 'half-open', reason: 'x' },
      finals: 9,
      okRate: 0,
    };
    expect(evaluateAlerts({ gateways: [g] }, T, new Map(), 0)).toEqual([]);
    const off = { ...T, queueDepth: 0, deliveryRatePercent: 0, billingLagSeconds: 0, circuitOpen: false };
    const bad: GatewayReading = {
      ...healthy,
      circuit: { state: 'open', reason: '' },
      queuedMessages: 1e6,
      okRate: 0,
    };
    expect(
      evaluateAlerts({ gateways: [bad], billing: { pending: 9, oldestAgeSeconds: 1e5 } }, off, new Map(), 0),
    ).toEqual([]);
  });

  test('billing fires on pending count when configured', () => {
    const a = evaluateAlerts(
      { gateways: [], billing: { pending: 7, oldestAgeSeconds: null } },
      { ...T, billingPending: 5 },
      new Map(),
      0,
    );
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ kind: 'billing-lag', value: 7, threshold: 5 });
  });

  test('the same kind+subject is not repeated within repeatSeconds', () => {
    const g: GatewayReading = { ...healthy, circuit: { state: 'open', reason: '' } };
    const last = new Map([['circuit-open:gw:3', 1_000]]);
    expect(evaluateAlerts({ gateways: [g] }, T, last, 1_000 + 599_999)).toEqual([]);
    expect(evaluateAlerts({ gateways: [g] }, T, last, 1_000 + 600_000)).toHaveLength(1);
    // Another gateway is another subject.
    expect(evaluateAlerts({ gateways: [{ ...g, id: 4 }] }, T, last, 2_000)).toHaveLength(1);
  });

  test('texts fit one segment and stay ASCII', () => {
    const g: GatewayReading = {
      ...healthy,
      name: 'gé'.repeat(50),
      circuit: { state: 'open', reason: 'x'.repeat(400) },
    };
    const [a] = evaluateAlerts({ gateways: [g] }, T, new Map(), 0);
    expect(a!.text.length).toBeLessThanOrEqual(ALERT_TEXT_MAX);
    expect(a!.text).toMatch(/^[\x20-\x7e]+$/);
  });

  test('admin numbers', () => {
    expect(parseAlertNumbers(' 3620111, 3620222;3620111 3620333 ')).toEqual([
      '3620111',
      '3620222',
      '3620333',
    ]);
    expect(parseAlertNumbers('')).toEqual([]);
  });
});
