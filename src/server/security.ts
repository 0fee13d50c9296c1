import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { installAuth } from '../auth/httpAuth.js';
import type { TokenStore } from '../auth/tokens.js';

/** Request bodies above this are refused with 413 unless a route sets its own `bodyLimit`. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * A Fastify instance set up the way every gamepipe route expects: bodies limited, and schema
 * validation that rejects unknown properties (400) instead of silently dropping them.
 */
export function createServer(options: { bodyLimit?: number } = {}): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  });
  // A schema failure answers 400 with one line per problem, each naming the parameter and what was expected.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const where = error.validationContext ?? 'request';
      const issues = error.validation.map((e) => {
        const params = e.params as Record<string, unknown>;
        if (e.keyword === 'additionalProperties') return `${where}: unknown parameter "${String(params.additionalProperty)}"`;
        if (e.keyword === 'required') return `${where}/${String(params.missingProperty)}: required`;
        const allowed = e.keyword === 'enum' ? `: ${(params.allowedValues as unknown[]).join(', ')}` : '';
        return `${where}${e.instancePath}: ${e.message ?? 'invalid'}${allowed}`;
      });
      return reply.code(400).send({ error: 'invalid request', issues });
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    // 4xx from Fastify itself (413 body too large, 415, 429…) keep their message; a 500 shows no internals.
    return reply.code(status).send({ error: status >= 500 ? 'the query failed; see the server log' : error.message });
  });
  return app;
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
