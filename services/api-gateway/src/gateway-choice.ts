import type { ConfigSnapshot } from '@smsfleet/config';

export interface GatewayRef {
  id: number;
  name: string;
}

/**
 * Which gateway takes a message, per `smsrouting`: 0 uses the global `smsurl` (gateway 0); 1 uses the
 * SMS GW users; -1 (auto) uses the SMS GW users when any exists, else `smsurl`. Until the routing
 * table lands, the first enabled SMS GW user (lowest id) takes the traffic.
 */
export function chooseGateway(
  cfg: Pick<ConfigSnapshot, 'smsrouting' | 'smsurl'>,
  gateways: GatewayRef[],
): GatewayRef | undefined {
  const global = cfg.smsurl ? { id: 0, name: 'smsurl' } : undefined;
  if (cfg.smsrouting === 0) return global;
  const first = gateways[0];
  if (cfg.smsrouting === 1) return first;
  return first ?? global;
}
