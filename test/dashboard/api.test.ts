import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/auth/tokens.js';
import { buildApp } from '../../src/server/app.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';

/**
 * The dashboard's API on a hand-made warehouse: the Overview's tiles against figures computed
 * by hand, CSV, and every parameter of every documented endpoint refused (400, nothing
 * written) when fed injection strings, oversized values, wrong types or unknown names.
 */

// kpi_daily of game g1: the previous period (Nov 30) and the range (Dec 1–2); Dec 3 not computed.
const KPI_ROWS = [
  // ds, dau, nru, pu, npu, revenue, arpu, arppu
  ['2024-11-30', 10, 5, 1, 1, 10, 1, 10],
  ['2024-12-01', 10, 4, 2, 1, 30, 3, 15],
  ['2024-12-02', 20, 6, 3, 2, 45, 2.25, 15],
] as const;

describe(`dashboard API (${backend})`, () => {
  let ws: Workspace;
  let app: FastifyInstance;
  let read: string;
  let admin: string;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    await ws.connections.get('WAREHOUSE').withSession(async (s) => {
      await s.query(`CREATE TABLE kpi_daily (ds date, game_id text, dau bigint, nru bigint, pu bigint, npu bigint, nnpu bigint, revenue_usd numeric, arpu numeric, arppu numeric)`);
      for (const [ds, dau, nru, pu, npu, rev, arpu, arppu] of KPI_ROWS) {
        await s.query(`INSERT INTO kpi_daily VALUES ($1, 'g1', $2, $3, $4, $5, 0, $6, $7, $8)`, [ds, dau, nru, pu, npu, rev, arpu, arppu]);
      }
    });
    await ws.connections.get('WAREHOUSE').withSession(async (s) => {
      await s.query(`CREATE TABLE daily_users_by_country_platform (ds date, game_id text, country_code text, platform text, users bigint)`);
      await s.query(`INSERT INTO daily_users_by_country_platform VALUES ('2024-12-01', 'g1', 'US', 'ios', 6), ('2024-12-01', 'g1', 'TR', 'android', 4), ('2024-12-02', 'g1', 'US', 'android', 20)`);
    });
    const tokens = new TokenStore(ws.connections.get('WAREHOUSE'));
    read = (await tokens.create({ name: 'reader', role: 'read' })).token;
    admin = (await tokens.create({ name: 'admin', role: 'admin' })).token;
    app = await buildApp({ connections: ws.connections, paths: ws.paths });
  });
  afterAll(async () => {
    await app?.close();
    await ws?.close();
  });

  const get = (url: string, token = read) => app.inject({ url, headers: { authorization: `Bearer ${token}` } });

  it('Overview: tiles and changes equal the hand-computed figures; missing days are named', async () => {
    const res = await get('/api/games/g1/overview?from=2024-12-01&to=2024-12-02');
    expect(res.statusCode).toBe(200);
    const o = res.json();
    // Range: DAU mean (10+20)/2 = 15, NRU 4+6 = 10, PU mean (2+3)/2 = 2.5, NPU 1+2 = 3, revenue 30+45 = 75,
    // ARPU 75/(10+20) = 2.5, ARPPU 75/(2+3) = 15.
    expect(o.tiles).toEqual({ days: 2, dau: 15, nru: 10, pu: 2.5, npu: 3, revenueUsd: 75, arpu: 2.5, arppu: 15 });
    // Previous period: Nov 30 alone (one day before a two-day range: Nov 29 has no row).
    expect(o.previous).toEqual({ days: 1, dau: 10, nru: 5, pu: 1, npu: 1, revenueUsd: 10, arpu: 1, arppu: 10, from: '2024-11-29', to: '2024-11-30' });
    // Changes: 15/10 − 1 = 0.5; 10/5 − 1 = 1; 75/10 − 1 = 6.5; 2.5/1 − 1 = 1.5; 15/10 − 1 = 0.5.
    expect(o.change).toEqual({ dau: 0.5, nru: 1, pu: 1.5, npu: 2, revenueUsd: 6.5, arpu: 1.5, arppu: 0.5 });
    expect(o.days.map((d: { ds: string; dau: number }) => [d.ds, d.dau])).toEqual([['2024-12-01', 10], ['2024-12-02', 20]]);
    expect(o.byCountry).toEqual([{ countryCode: 'US', userDays: 26 }, { countryCode: 'TR', userDays: 4 }]);
    expect(o.byPlatform).toEqual([{ platform: 'android', userDays: 24 }, { platform: 'ios', userDays: 6 }]);
    expect(o.missingDays).toEqual([]);
    const later = (await get('/api/games/g1/overview?from=2024-12-02&to=2024-12-03')).json();
    expect(later.missingDays).toEqual(['2024-12-03']);
  });

  it('an empty warehouse answers empty, not an error', async () => {
    const res = await get('/api/games/g1/economy?from=2024-12-01&to=2024-12-02');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ itemsByReason: [], currencyByReason: [], keyItems: [], balance: [] });
    expect((await get('/api/games')).json()).toEqual([{ gameId: 'g1', firstDay: '2024-11-30', lastDay: '2024-12-02' }]);
  });

  it('format=csv answers the table as CSV', async () => {
    const res = await get('/api/games/g1/overview?from=2024-12-01&to=2024-12-02&format=csv');
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.body).toBe('ds,dau,nru,pu,npu,revenueUsd,arpu,arppu\n2024-12-01,10,4,2,1,30,3,15\n2024-12-02,20,6,3,2,45,2.25,15\n');
  });

  it('400 names the parameter and what was expected', async () => {
    const res = await get('/api/games/g1/overview?from=2024-12-01&to=2024-02-30');
    expect(res.statusCode).toBe(400);
    expect(res.json().issues).toEqual(['querystring/to: must match format "date"']);
    expect((await get('/api/games/g1/overview?from=2024-12-01&to=2024-12-02&limit=3')).json().issues).toEqual(['querystring: unknown parameter "limit"']);
    expect((await get('/api/games/g1/overview?to=2024-12-02')).json().issues).toEqual(['querystring/from: required']);
    expect((await get('/api/games/g1/overview?from=2024-12-03&to=2024-12-02')).json().issues[0]).toMatch(/from: 2024-12-03 is after to 2024-12-02/);
  });

  /** Every table's rows, hashed (api_tokens without last_used_at, which reading refreshes). */
  async function snapshot(): Promise<Record<string, string>> {
    const tables = await ws.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`);
    const out: Record<string, string> = {};
    for (const { t } of tables) {
      const cols = t === 'api_tokens' ? 'id, name, role, game_id, token_sha256, revoked_at' : '*';
      const [row] = await ws.query<{ n: number; h: string | null }>(`SELECT count(*)::int AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM (SELECT ${cols} FROM "${t}") x`);
      out[t] = `${row!.n}:${row!.h}`;
    }
    return out;
  }

  it('every query parameter of every endpoint: injection, oversized, wrong type, unknown name → 400, database unchanged', async () => {
    const doc = (await app.inject({ url: '/api/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string; required?: boolean; schema: { type?: string; format?: string; enum?: string[] } }[] }>>;
    };
    const before = await snapshot();
    const injections = ["' OR 1=1 --", "x'; DROP TABLE kpi_daily; --", '1; DELETE FROM api_tokens', '<script>alert(1)</script>', '${7*7}', '../../etc/passwd'];
    const oversized = 'x'.repeat(5000);
    let checked = 0;
    for (const [route, methods] of Object.entries(doc.paths)) {
      const op = methods.get;
      if (!op) continue;
      const query = (op.parameters ?? []).filter((p) => p.in === 'query');
      const valid: Record<string, string> = {};
      for (const p of query) if (p.name === 'from' || p.name === 'to') valid[p.name] = p.name === 'from' ? '2024-12-01' : '2024-12-02';
      if (route === '/api/realtime/minutes') {
        valid.from = '2024-12-01T00:00:00Z';
        delete valid.to;
      }
      const url = (params: Record<string, string | string[]>) => {
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
        return `${route.replace('{gameId}', 'g1').replace('{pipeline}', 'daily').replace('{job}', 'kpi_daily')}?${qs}`;
      };
      const expect400 = async (params: Record<string, string | string[]>, name: string) => {
        const res = await get(url(params), admin);
        expect(res.statusCode, `${url(params).slice(0, 120)} → ${res.body.slice(0, 200)}`).toBe(400);
        expect(JSON.stringify(res.json()), url(params).slice(0, 120)).toContain(name);
        checked += 1;
      };
      await expect400({ ...valid, zz_unknown: '1' }, 'zz_unknown');
      for (const p of query) {
        const s = p.schema;
        const bad: (string | string[])[] = [oversized];
        if (s.type !== 'array') bad.push(['a', 'b']); // a repeated single-valued parameter
        if (s.type !== 'array' || p.name !== 'levelFunnelVersion') bad.push(...injections);
        if (s.type === 'integer') bad.push('ten', '1.5', '-1', '1e309');
        if (s.format === 'date') bad.push('2024-02-30', '20241201', 'yesterday');
        if (s.type === 'array' && p.name === 'levelFunnelVersion') bad.push('v2', '1 OR 1=1');
        for (const value of bad) await expect400({ ...valid, [p.name]: value }, p.name);
      }
    }
    for (const value of ["g1' OR '1'='1", 'a;b', '..%2F..']) {
      const res = await get(`/api/games/${encodeURIComponent(value)}/overview?from=2024-12-01&to=2024-12-02`);
      expect(res.statusCode).toBe(400);
      expect(res.json().issues.join()).toMatch(/gameId/);
    }
    // A path segment over Fastify's 100-character limit is refused before routing.
    expect((await get(`/api/games/${'x'.repeat(300)}/overview?from=2024-12-01&to=2024-12-02`)).statusCode).toBe(414);
    expect(checked).toBeGreaterThan(100);
    expect(await snapshot()).toEqual(before);
  });

  it('starting a run: admin only, body validated (400), over the limit 413, nothing changed', async () => {
    const before = await snapshot();
    const post = (payload: unknown, token = admin) =>
      app.inject({ method: 'POST', url: '/api/runs', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    expect((await app.inject({ method: 'POST', url: '/api/runs', payload: { pipeline: 'daily', from: '2024-12-01', to: '2024-12-01' } })).statusCode).toBe(401);
    expect((await post({ pipeline: 'daily', from: '2024-12-01', to: '2024-12-01' }, read)).statusCode).toBe(403);
    for (const [payload, name] of [
      [{ pipeline: "daily'; DROP TABLE kpi_daily; --", from: '2024-12-01', to: '2024-12-01' }, 'pipeline'],
      [{ pipeline: '../../etc', from: '2024-12-01', to: '2024-12-01' }, 'pipeline'],
      [{ pipeline: 'daily', from: 'yesterday', to: '2024-12-01' }, 'from'],
      [{ pipeline: 'daily', from: '2024-12-01', to: 20241201 }, 'to'],
      [{ pipeline: 'daily', from: '2024-12-01', to: '2024-12-01', retry: 'yes' }, 'retry'],
      [{ pipeline: 'daily', from: '2024-12-01', to: '2024-12-01', sql: 'DROP TABLE x' }, 'sql'],
      [{ pipeline: 'no_such_pipeline', from: '2024-12-01', to: '2024-12-01' }, 'pipeline'],
    ] as const) {
      const res = await post(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(JSON.stringify(res.json())).toContain(name);
    }
    const big = await post({ pipeline: 'daily', from: '2024-12-01', to: '2024-12-01', pad: 'x'.repeat(70 * 1024) });
    expect(big.statusCode).toBe(413);
    expect(await snapshot()).toEqual(before);
  });
});
