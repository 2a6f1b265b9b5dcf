import helmet from 'helmet';
import type express from 'express';
import { PERMISSIONS_POLICY } from '@smsfleet/runtime';

/**
 * Security headers of every Express response (pages, /v1, inbound callbacks, errors), by helmet:
 * a strict Content-Security-Policy (local scripts and styles only, no framing, forms to self),
 * X-Frame-Options DENY, nosniff, Referrer-Policy same-origin, Cross-Origin-Opener-Policy and
 * -Resource-Policy same-origin; HSTS only on HTTPS (a TLS socket, or X-Forwarded-Proto from a
 * trusted proxy); Permissions-Policy, which helmet does not set, by hand.
 */
export function securityHeaders(): express.RequestHandler[] {
  const base = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
      },
    },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  const hsts = helmet.strictTransportSecurity({ maxAge: 31_536_000, includeSubDomains: true });
  return [
    base,
    (req, res, next) => {
      res.setHeader('permissions-policy', PERMISSIONS_POLICY);
      if (req.secure) hsts(req, res, next);
      else {
        res.removeHeader('strict-transport-security');
        next();
      }
    },
  ];
}
