import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/auth/tokens.js';
import { SESSION_COOKIE } from '../../src/auth/httpAuth.js';
import { createServer, installSecurity } from '../../src/server/security.js';
import { buildApp } from '../../src/server/app.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';

/** The auth hook on a server with one route per access level (the real routes are tested with it in place). */
async function appWith(store: TokenStore, publicRead = false): Promise<FastifyInstance> {
  const app = createServer({ bodyLimit: 1024 });
  await installSecurity(app, { tokens: store, publicRead });
  app.get('/api/things', async () => ({ read: true }));
  app.post('/api/things', async () => ({ acted: true }));
  app.post('/v1/events', { config: { access: 'ingest' } }, async (request) => ({ game: request.principal?.gameId }));
  app.get('/', async () => 'shell');
  await app.ready();
  return app;
}

describe(`HTTP auth (${backend})`, () => {
  let ws: Workspace;
  let store: TokenStore;
  let app: FastifyInstance;
  let open: FastifyInstance;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    store = new TokenStore(ws.connections.get('WAREHOUSE'));
    for (const role of ['read', 'admin'] as const) tokens[role] = (await store.create({ name: role, role })).token;
    tokens.ingest = (await store.create({ name: 'ingest', role: 'ingest', gameId: 'g1' })).token;
    app = await appWith(store);
    open = await appWith(store, true);
  });
  afterAll(async () => {
    await app?.close();
    await open?.close();
    await ws?.close();
  });

  const call = (method: 'GET' | 'POST', url: string, token?: string, target = app) =>
    target.inject({ method, url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(method === 'POST' ? { payload: {} } : {}) });

  it('no token → 401 with a WWW-Authenticate challenge; the page shell is public', async () => {
    const res = await call('GET', '/api/things');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.json().expected).toMatch(/read or admin token/);
    expect((await call('GET', '/')).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/things', headers: { authorization: 'Basic abc' } })).statusCode).toBe(401);
  });

  it('read reads; read on an admin action → 403; admin acts', async () => {
    expect((await call('GET', '/api/things', tokens.read)).statusCode).toBe(200);
    const denied = await call('POST', '/api/things', tokens.read);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error: 'a read token may not do this', expected: 'an admin token' });
    expect((await call('POST', '/api/things', tokens.admin)).statusCode).toBe(200);
    expect((await call('GET', '/api/things', tokens.admin)).statusCode).toBe(200);
  });

  it('ingest tokens read nothing and only they ingest, scoped to their game', async () => {
    expect((await call('GET', '/api/things', tokens.ingest)).statusCode).toBe(403);
    expect((await call('POST', '/api/things', tokens.ingest)).statusCode).toBe(403);
    expect((await call('POST', '/v1/events', tokens.admin)).statusCode).toBe(403);
    const ok = await call('POST', '/v1/events', tokens.ingest);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ game: 'g1' });
  });

  it('a revoked token → 401, and so does its browser session', async () => {
    const { token, info } = await store.create({ name: 'leaving', role: 'read' });
    const signIn = await app.inject({ method: 'POST', url: '/api/session', payload: { token } });
    const cookie = signIn.cookies.find((c) => c.name === SESSION_COOKIE)!;
    expect((await app.inject({ url: '/api/things', cookies: { [SESSION_COOKIE]: cookie.value } })).statusCode).toBe(200);
    await store.revoke(info.tokenId);
    expect((await call('GET', '/api/things', token)).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/things', cookies: { [SESSION_COOKIE]: cookie.value } })).statusCode).toBe(401);
  });

  it('signing in sets an HttpOnly, SameSite=Strict session cookie that then reads; signing out ends it', async () => {
    const signIn = await app.inject({ method: 'POST', url: '/api/session', payload: { token: tokens.read } });
    expect(signIn.statusCode).toBe(200);
    expect(signIn.json()).toEqual({ name: 'read', role: 'read' });
    const header = String(signIn.headers['set-cookie']);
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/SameSite=Strict/);
    expect(header).toMatch(/Path=\//);
    expect(header).not.toContain(tokens.read);
    const cookie = signIn.cookies.find((c) => c.name === SESSION_COOKIE)!;
    const cookies = { [SESSION_COOKIE]: cookie.value };
    expect((await app.inject({ url: '/api/things', cookies })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/things', cookies, payload: {} })).statusCode).toBe(403);
    expect((await app.inject({ url: '/api/session', cookies })).json()).toMatchObject({ signedIn: true, role: 'read' });
    await app.inject({ method: 'DELETE', url: '/api/session', cookies });
    expect((await app.inject({ url: '/api/things', cookies })).statusCode).toBe(401);
  });

  it('sign-in refuses bad tokens, ingest tokens and malformed bodies', async () => {
    expect((await app.inject({ method: 'POST', url: '/api/session', payload: { token: 'gp_nope' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/session', payload: { token: tokens.ingest } })).statusCode).toBe(403);
    const extra = await app.inject({ method: 'POST', url: '/api/session', payload: { token: tokens.read, role: 'admin' } });
    expect(extra.statusCode).toBe(400);
  });

  it('--public-read opens reading only', async () => {
    expect((await call('GET', '/api/things', undefined, open)).statusCode).toBe(200);
    expect((await call('POST', '/api/things', undefined, open)).statusCode).toBe(401);
    expect((await call('POST', '/api/things', tokens.read, open)).statusCode).toBe(403);
    expect((await call('GET', '/api/things', 'gp_wrong', open)).statusCode).toBe(401);
  });

  it('security headers on every answer; a body over the limit → 413', async () => {
    const res = await call('GET', '/');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const big = await app.inject({ method: 'POST', url: '/api/things', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' }, payload: JSON.stringify({ x: 'y'.repeat(4096) }) });
    expect(big.statusCode).toBe(413);
  });
});

describe(`gamepipe's app (${backend})`, () => {
  let ws: Workspace;
  let app: FastifyInstance;
  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    app = await buildApp({ connections: ws.connections });
  });
  afterAll(async () => {
    await app?.close();
    await ws?.close();
  });

  it('guards the API, serves health and the OpenAPI document openly', async () => {
    expect((await app.inject({ url: '/api/runs' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/health' })).statusCode).toBe(200);
    const doc = await app.inject({ url: '/api/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json().paths['/api/session']).toHaveProperty('post');
  });
});
