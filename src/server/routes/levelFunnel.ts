import type { FastifyPluginAsync } from 'fastify';
import { formatError } from '../../core/errors.js';
import type { GamepipePaths } from '../../core/paths.js';
import { parseFunnelQuery, parseMethod } from '../../funnel/params.js';
import { FunnelNotAggregatedError, LevelFunnelService } from '../../funnel/service.js';

/**
 * GET /api/games/:gameId/level-funnel?from=&to=&platform=&country=&appVersion=&levelFunnel=&levelFunnelVersion=
 *     &funnel=live_v1:15,live_v2:16&installFrom=&installTo=&method=
 *
 * Per-level funnel metrics (docs/metrics.md#level-funnel), fast (pre-aggregates) by default,
 * `method=raw` for the reference computed from silver. Filters take several values
 * (`platform=ios,android` or a repeated parameter) and match case-insensitively; `funnel` selects
 * exact (levelFunnel, version) pairs; installFrom/installTo keep an install-date cohort. An unknown
 * parameter or a malformed date is a 400 naming it; a game never aggregated is a 404.
 * One LevelFunnelService (one long-lived DuckDB) serves every request and holds the loaded
 * indexes; it is opened on the first request and closed with the app.
 */
export interface LevelFunnelRouteOptions {
  paths: GamepipePaths;
  /** A service to use instead of opening one (tests, or a host sharing it). Not closed by the route. */
  service?: LevelFunnelService;
}

export const levelFunnelRoutes: FastifyPluginAsync<LevelFunnelRouteOptions> = async (app, options) => {
  let opened: Promise<LevelFunnelService> | undefined;
  const service = (): Promise<LevelFunnelService> => {
    if (options.service) return Promise.resolve(options.service);
    opened ??= LevelFunnelService.open(options.paths);
    return opened;
  };
  app.addHook('onClose', async () => {
    if (opened) await (await opened).close();
  });

  app.get<{ Params: { gameId: string }; Querystring: Record<string, unknown> }>('/api/games/:gameId/level-funnel', async (request, reply) => {
    const params = { ...(request.query ?? {}) };
    const parsed = parseFunnelQuery({ gameId: request.params.gameId, params, extra: ['method'] });
    const errors = parsed.ok ? [] : [...parsed.errors];
    const method = parseMethod(params.method, errors);
    if (!parsed.ok || errors.length) return reply.code(400).send({ error: 'invalid query', issues: errors });
    try {
      return await (await service()).query(parsed.value, method);
    } catch (err) {
      if (err instanceof FunnelNotAggregatedError) {
        return reply.code(404).send({ error: err.message, expected: err.context.expected });
      }
      request.log.error({ err }, 'level funnel query failed');
      return reply.code(500).send({ error: 'level funnel query failed', detail: formatError(err).split('\n')[0] });
    }
  });
};
