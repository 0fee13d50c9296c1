import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, backend, type Workspace } from '../helpers/workspace.js';
import { aggregateLevelFunnel } from '../../src/funnel/aggregate.js';
import { levelFunnelRoutes } from '../../src/server/routes/levelFunnel.js';
import { randomLevelEvents, writeSilverRows, INSTALL_INGESTIONS, randomInstalls, writeInstallIndex } from './helpers/silverFixture.js';
import { dateRange } from '../../src/core/dates.js';

/** GET /api/games/:gameId/level-funnel: validation at the edge, fast by default, same shape both ways. */

describe(`GET /api/games/:gameId/level-funnel (${backend})`, () => {
  let ws: Workspace;
  let app: FastifyInstance;
  let days: string[];

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    days = await writeSilverRows(ws.paths.lake, randomLevelEvents(3, { days: dateRange('2024-07-01', '2024-07-03'), events: 250 }));
    await writeInstallIndex(ws.paths.lake, randomInstalls(3, { days }), [...INSTALL_INGESTIONS.committed]);
    expect((await aggregateLevelFunnel({ paths: ws.paths, connections: ws.connections }, { games: ['g1'], dates: days })).ok).toBe(true);
    app = Fastify();
    await app.register(levelFunnelRoutes, { paths: ws.paths });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await ws?.close();
  });

  const get = (url: string) => app.inject({ method: 'GET', url });
  const range = () => `from=${days[0]}&to=${days[days.length - 1]}`;

  it('answers fast by default, with one object per level carrying every metric', async () => {
    const res = await get(`/api/games/g1/level-funnel?${range()}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ gameId: 'g1', from: days[0], to: days[days.length - 1], method: 'fast', filters: {}, missingDays: [] });
    expect(body.levels.length).toBeGreaterThan(1);
    for (const level of body.levels) {
      for (const key of ['levelId', 'starts', 'completes', 'fails', 'startedPlayers', 'completedPlayers', 'nextLevelStartedPlayers',
        'churnStartComplete', 'churnCompleteNext', 'churnTotal', 'boosterUsage', 'egpRate', 'winRate', 'failRate', 'completionRate',
        'funnelRate', 'apsRaw', 'apsClean', 'meanCompletionDuration', 'meanFailDuration']) {
        expect(level, key).toHaveProperty(key);
        expect(level[key] === null || typeof level[key] === 'number', key).toBe(true);
      }
    }
  });

  it('method=raw gives the same levels', async () => {
    const fast = (await get(`/api/games/g1/level-funnel?${range()}&platform=ios,android&country=US,tr`)).json();
    const raw = (await get(`/api/games/g1/level-funnel?${range()}&platform=ios,android&country=US,tr&method=raw`)).json();
    expect(raw.method).toBe('raw');
    expect(fast.levels).toEqual(raw.levels);
    expect(fast.filters).toEqual({ platform: ['ios', 'android'], country: ['us', 'tr'] });
  });

  it('filters take several values, as a list or repeated, in any case', async () => {
    const listed = (await get(`/api/games/g1/level-funnel?${range()}&platform=IOS,Android&appVersion=1.0.0,1.1.0&levelFunnel=LIVE_V1&levelFunnelVersion=1,2`)).json();
    const repeated = (await get(`/api/games/g1/level-funnel?${range()}&platform=ios&platform=android&appVersion=1.0.0&appVersion=1.1.0&levelFunnel=live_v1&levelFunnelVersion=1&levelFunnelVersion=2`)).json();
    expect(listed.levels.length).toBeGreaterThan(0);
    expect(repeated.levels).toEqual(listed.levels);
  });

  it('funnel pairs and an install cohort: fast equals raw, echoed in the answer', async () => {
    const q = `${range()}&funnel=LIVE_V1:1,test_hard:2&installFrom=${days[0]}&installTo=${days[1]}`;
    const fast = (await get(`/api/games/g1/level-funnel?${q}`)).json();
    const raw = (await get(`/api/games/g1/level-funnel?${q}&method=raw`)).json();
    expect(fast.funnelPairs).toEqual([{ levelFunnel: 'live_v1', levelFunnelVersion: 1 }, { levelFunnel: 'test_hard', levelFunnelVersion: 2 }]);
    expect(fast.install).toEqual({ from: days[0], to: days[1] });
    expect(fast.levels.length).toBeGreaterThan(0);
    expect(fast.levels).toEqual(raw.levels);
  });

  it.each([
    ['a malformed install date', 'from=2024-07-01&to=2024-07-03&installFrom=2024-7-1', /installFrom: "2024-7-1" is not a calendar date/],
    ['a reversed install range', 'from=2024-07-01&to=2024-07-03&installFrom=2024-07-03&installTo=2024-07-01', /installFrom 2024-07-03 is after installTo 2024-07-01/],
    ['a funnel without its version', 'from=2024-07-01&to=2024-07-03&funnel=live_v1', /funnel: "live_v1" is not a levelFunnel:version pair/],
    ['a funnel version that is not an integer', 'from=2024-07-01&to=2024-07-03&funnel=live_v1:x', /funnel: "live_v1:x" is not a levelFunnel:version pair/],
    ['an unknown filter', 'platforms=ios', /unknown parameter "platforms"/],
    ['a malformed date', 'from=2024-13-01&to=2024-07-03', /from: "2024-13-01" is not a calendar date/],
    ['a date that is not one', 'from=yesterday&to=2024-07-03', /from: "yesterday" is not a calendar date/],
    ['a missing date', 'to=2024-07-03', /from: required/],
    ['a reversed range', 'from=2024-07-03&to=2024-07-01', /from 2024-07-03 is after to 2024-07-01/],
    ['an unknown method', 'from=2024-07-01&to=2024-07-03&method=slow', /method: "slow" is not one of fast, raw/],
    ['a version that is not an integer', 'from=2024-07-01&to=2024-07-03&levelFunnelVersion=v2', /levelFunnelVersion: "v2" is not an integer/],
    ['an empty filter', 'from=2024-07-01&to=2024-07-03&country=', /country: empty/],
  ])('400 for %s, naming it', async (_what, query, reason) => {
    const res = await get(`/api/games/g1/level-funnel?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid query');
    expect(res.json().issues.join('\n')).toMatch(reason);
  });

  it('404 for a game never aggregated (raw still answers)', async () => {
    const res = await get(`/api/games/nope/level-funnel?${range()}`);
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatch(/no level funnel aggregates for game nope/);
    const raw = await get(`/api/games/nope/level-funnel?${range()}&method=raw`);
    expect(raw.statusCode).toBe(200);
    expect(raw.json().levels).toEqual([]);
  });

  it('400 for a game id that cannot be one', async () => {
    const res = await get(`/api/games/${encodeURIComponent("x'y")}/level-funnel?${range()}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().issues.join('\n')).toMatch(/gameId/);
  });
});
