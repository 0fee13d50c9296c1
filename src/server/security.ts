import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { installAuth } from '../auth/httpAuth.js';
import type { TokenStore } from '../auth/tokens.js';

/** Request bodies above this are refused with 413 unless a route sets its own `bodyLimit`. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * A Fastify instance set up the way every gamepipe route expects: bodies limited, and schema
 * validation that rejects unknown properties (400) instead of silently dropping them.
 */
export function createServer(options: { bodyLimit?: number } = {}): FastifyInstance {
  return Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  });
}

export interface SecurityOptions {
  tokens: TokenStore;
  publicRead?: boolean;
  /** Requests per minute and client address (default 1200); the sign-in route allows 10. */
  rateLimitPerMinute?: number;
}

/**
 * What every gamepipe server puts in front of its routes, in this order: security headers
 * (helmet: a same-origin content security policy, no sniffing, no framing), rate limiting per
 * client address, then the token / session check. CORS is not enabled: browsers may call the
 * API only from the dashboard's own origin.
 */
export async function installSecurity(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    // Served over plain HTTP on loopback by default: HSTS would lock browsers out of it.
    strictTransportSecurity: false,
  });
  await app.register(rateLimit, { max: options.rateLimitPerMinute ?? 1200, timeWindow: '1 minute' });
  await installAuth(app, { tokens: options.tokens, ...(options.publicRead ? { publicRead: true } : {}) });
}
