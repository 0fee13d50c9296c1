import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal, TokenStore } from './tokens.js';
import { noQuery } from '../server/schemas.js';

/**
 * Who may call which route. A route says it with `config: { access }`; without one, an
 * `/api/` or `/v1/` route is `read` for GET/HEAD and `admin` for anything else (safe by
 * default), and every other path (the dashboard's static shell, which holds no data) is `public`.
 * - `read`: a read or admin token; anyone when the server runs with `publicRead`.
 * - `admin`: an admin token.
 * - `ingest`: an ingest token (write-only, one game); `request.principal.gameId` is its game.
 */
export type Access = 'public' | 'read' | 'admin' | 'ingest';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The verified caller; undefined on public routes and anonymous public reads. */
    principal?: Principal;
  }
}

export const SESSION_COOKIE = 'gamepipe_session';

export interface AuthOptions {
  tokens: TokenStore;
  /** Reading without a token (a studio's internal screen); actions still need an admin token. */
  publicRead?: boolean;
  /** How long a browser session lasts, in seconds (default 12 hours). */
  sessionSeconds?: number;
}

const ALLOWED: Record<Exclude<Access, 'public'>, readonly string[]> = {
  read: ['read', 'admin'],
  admin: ['admin'],
  ingest: ['ingest'],
};

const NEEDS: Record<Exclude<Access, 'public'>, string> = {
  read: 'a read or admin token',
  admin: 'an admin token',
  ingest: 'an ingest token',
};

function accessOf(request: FastifyRequest): Access {
  const declared = request.routeOptions.config?.access;
  if (declared) return declared;
  const path = request.url.split('?')[0]!;
  if (!path.startsWith('/api/') && !path.startsWith('/v1/')) return 'public';
  return request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'admin';
}

function bearerOf(request: FastifyRequest): string | undefined | null {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
  return match ? match[1]! : null;
}

function deny(reply: FastifyReply, code: 401 | 403, error: string, expected: string): FastifyReply {
  if (code === 401) reply.header('www-authenticate', 'Bearer realm="gamepipe"');
  return reply.code(code).send({ error, expected });
}

/**
 * Installs token checks on every route of `app` (call it on the root instance, before the
 * routes), and the browser's sign-in: POST /api/session with a token sets an HttpOnly,
 * SameSite=Strict session cookie (Secure over HTTPS); DELETE /api/session signs out;
 * GET /api/session says who is signed in. A bearer token, when sent, wins over the cookie.
 */
export async function installAuth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const sessionSeconds = options.sessionSeconds ?? 12 * 3600;
  await app.register(cookie);

  const identify = async (request: FastifyRequest): Promise<{ principal?: Principal; bad?: string }> => {
    const bearer = bearerOf(request);
    if (bearer === null) return { bad: 'malformed Authorization header' };
    if (bearer !== undefined) {
      const principal = await options.tokens.verify(bearer);
      return principal ? { principal } : { bad: 'unknown or revoked token' };
    }
    const session = request.cookies[SESSION_COOKIE];
    if (session) {
      const principal = await options.tokens.verifySession(session);
      return principal ? { principal } : { bad: 'session expired or its token was revoked; sign in again' };
    }
    return {};
  };

  app.addHook('onRequest', async (request, reply) => {
    const access = accessOf(request);
    if (access === 'public') return;
    const { principal, bad } = await identify(request);
    if (bad) return deny(reply, 401, bad, `Authorization: Bearer TOKEN with ${NEEDS[access]} (gamepipe token create)`);
    if (!principal) {
      if (access === 'read' && options.publicRead) return;
      return deny(reply, 401, 'authentication required', `Authorization: Bearer TOKEN with ${NEEDS[access]} (gamepipe token create), or a session from POST /api/session`);
    }
    if (!ALLOWED[access].includes(principal.role)) {
      return deny(reply, 403, `a ${principal.role} token may not do this`, NEEDS[access]);
    }
    request.principal = principal;
  });

  const cookieOptions = (request: FastifyRequest) => ({
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: request.protocol === 'https',
    path: '/',
  });

  app.post<{ Body: { token: string } }>(
    '/api/session',
    {
      config: { access: 'public', rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        tags: ['session'],
        summary: 'Sign in: exchange a read or admin token for a session cookie',
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token'],
          properties: { token: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    },
    async (request, reply) => {
      const principal = await options.tokens.verify(request.body.token);
      if (!principal) return deny(reply, 401, 'unknown or revoked token', 'a token from `gamepipe token create --role read|admin`');
      if (principal.role === 'ingest') return deny(reply, 403, 'an ingest token may not sign in', 'a read or admin token');
      const secret = await options.tokens.openSession(principal, sessionSeconds);
      reply.setCookie(SESSION_COOKIE, secret, { ...cookieOptions(request), maxAge: sessionSeconds });
      return { name: principal.name, role: principal.role };
    },
  );

  app.delete('/api/session', { config: { access: 'public' }, schema: { tags: ['session'], summary: 'Sign out', querystring: noQuery } }, async (request, reply) => {
    const session = request.cookies[SESSION_COOKIE];
    if (session) await options.tokens.closeSession(session);
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    return { signedOut: true };
  });

  app.get('/api/session', { config: { access: 'public' }, schema: { tags: ['session'], summary: 'Who is signed in', querystring: noQuery } }, async (request) => {
    const { principal } = await identify(request);
    return {
      signedIn: Boolean(principal),
      name: principal?.name ?? null,
      role: principal && principal.role !== 'ingest' ? principal.role : null,
      publicRead: Boolean(options.publicRead),
    };
  });
}
