import type { FastifyPluginAsync } from 'fastify';
import { listGames, readEconomy, readMonetization, readOverview, readRetention, readFunnelFilterValues } from '../../dashboard/queries.js';
import { sendCsv } from '../csv.js';
import { readConnection } from '../readConnection.js';
import { checkRange, gameParams, noQuery, rangeQuery, type RangeQuery } from '../schemas.js';
import type { AppDeps } from '../deps.js';

/**
 * The read endpoints behind the dashboard's pages (docs/api.md). Each takes a game and a
 * range of days; `format=csv` answers the page's main table as CSV.
 */
export const dashboardRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const db = readConnection(deps.connections);
  type Req = { Params: { gameId: string }; Querystring: RangeQuery };
  const page = (summary: string) => ({ tags: ['dashboard'], summary, params: gameParams, querystring: rangeQuery });

  app.get('/api/games', { schema: { tags: ['dashboard'], summary: 'Games with computed KPIs and their first and last day', querystring: noQuery } }, async () => listGames(db));

  app.get<Req>('/api/games/:gameId/overview', { schema: page('DAU, NRU, PU, NPU, revenue, ARPU, ARPPU per day, tiles vs the previous period, users by country and platform') }, async (request, reply) => {
    if (!checkRange(reply, request.query)) return reply;
    const overview = await readOverview(db, { gameId: request.params.gameId, ...request.query });
    if (request.query.format === 'csv') return sendCsv(reply, `overview_${request.params.gameId}`, overview.days as never);
    return overview;
  });

  app.get<Req>('/api/games/:gameId/retention', { schema: page('Retention D1…D30 of the cohorts installed in the range') }, async (request, reply) => {
    if (!checkRange(reply, request.query)) return reply;
    const retention = await readRetention(db, { gameId: request.params.gameId, ...request.query });
    if (request.query.format === 'csv') return sendCsv(reply, `retention_${request.params.gameId}`, retention.cells as never);
    return retention;
  });

  app.get<Req>('/api/games/:gameId/monetization', { schema: page('VIP tiers, cumulative revenue, GMV and growth, shop funnel, offers, hourly patterns') }, async (request, reply) => {
    if (!checkRange(reply, request.query)) return reply;
    const m = await readMonetization(db, { gameId: request.params.gameId, ...request.query });
    if (request.query.format === 'csv') return sendCsv(reply, `offers_${request.params.gameId}`, m.offers as never);
    return m;
  });

  app.get<Req>('/api/games/:gameId/economy', { schema: page('Item and currency gain vs spend by reason, key items, balance over time') }, async (request, reply) => {
    if (!checkRange(reply, request.query)) return reply;
    const e = await readEconomy(db, { gameId: request.params.gameId, ...request.query });
    if (request.query.format === 'csv') return sendCsv(reply, `economy_${request.params.gameId}`, e.currencyByReason as never);
    return e;
  });

  app.get<Req>('/api/games/:gameId/level-funnel/filters', { schema: page('The values present for each level-funnel filter in the range') }, async (request, reply) => {
    if (!checkRange(reply, request.query)) return reply;
    return readFunnelFilterValues(db, { gameId: request.params.gameId, ...request.query });
  });
};
