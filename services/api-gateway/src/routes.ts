import type express from 'express';
import type { ApiContext } from './api-context.js';
import { dlrRoutes } from './dlr-route.js';
import { inboundRoutes } from './inbound/inbound-routes.js';
import { v1Routes } from './v1/v1-routes.js';
import { verifyRoutes } from './verify/verify-routes.js';
import { cdrsRoute } from './cdrs-route.js';
import { opsRoutes } from './ops/ops-route.js';
import { portalRoutes } from './portal/portal-route.js';

/** An Express route module: mounts its routes on the application router. */
export type RouteModule = (router: express.Router, ctx: ApiContext) => void;

function serviceInfo(router: express.Router): void {
  router.get('/', (_req, res) => {
    res.json({
      service: 'smsfleet api-gateway',
      mizuApi: '/mvapireq/?apientry=asendsms',
      health: '/healthz',
      metrics: '/metrics',
    });
  });
}

/**
 * Every Express route module, mounted in this order before the JSON 404. A new surface (/v1, /ops,
 * /portal, inbound callbacks) is one module file and one line here.
 */
export const ROUTE_MODULES: RouteModule[] = [
  serviceInfo,
  dlrRoutes,
  inboundRoutes,
  cdrsRoute,
  verifyRoutes,
  v1Routes,
  opsRoutes,
  portalRoutes,
];
