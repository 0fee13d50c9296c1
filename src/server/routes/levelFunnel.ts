import type { FastifyPluginAsync } from 'fastify';
import { formatError } from '../../core/errors.js';
import type { GamepipePaths } from '../../core/paths.js';
import { FILTER_NAMES, parseFunnelQuery, parseMethod } from '../../funnel/params.js';
import { FunnelNotAggregatedError, LevelFunnelService } from '../../funnel/service.js';
import { sendCsv } from '../csv.js';
import { date, gameParams } from '../schemas.js';

/** Dimension values are names and versions: anything else (quotes, semicolons, operators) is refused. */
const FILTER_TEXT = /^[\p{L}\p{N} ._\-+,]*$/u;

const filter = (what: string) => ({
  type: 'array',
  items: { type: 'string', maxLength: 200 },
  maxItems: 100,
  description: `${what}: one or more values, comma-separated or repeated; case-insensitive`,
});

/** The query string as documented in the OpenAPI document; parseFunnelQuery checks it (one message per problem). */
const documented = {
  tags: ['level funnel'],
  summary: 'Per-level funnel metrics (docs/metrics.md#level-funnel), fast by default, method=raw for the reference',
  params: gameParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    required: ['from', 'to'],
    properties: {
      from: date,
      to: date,
      platform: filter('platforms'),
      country: filter('country codes'),
      appVersion: filter('app versions'),
      levelFunnel: filter('level funnels'),
      levelFunnelVersion: filter('level funnel versions (integers)'),
      method: { type: 'string', enum: ['fast', 'raw'] },
      format: { type: 'string', enum: ['json', 'csv'], description: 'csv: one row per level' },
    },
  },
} as const;

/**
 * GET /api/games/:gameId/level-funnel?from=&to=&platform=&country=&appVersion=&levelFunnel=&levelFunnelVersion=
 *     &funnel=live_v1:15,live_v2:16&installFrom=&installTo=&levelLimit=&method=
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

  const checkedByParser = () => () => true;
  app.get<{ Params: { gameId: string }; Querystring: Record<string, unknown> }>('/api/games/:gameId/level-funnel', { schema: documented, validatorCompiler: checkedByParser }, async (request, reply) => {
    const params = { ...(request.query ?? {}) };
    const parsed = parseFunnelQuery({ gameId: request.params.gameId, params, extra: ['method', 'format'] });
    const errors = parsed.ok ? [] : [...parsed.errors];
    const method = parseMethod(params.method, errors);
    for (const name of FILTER_NAMES) {
      const given = params[name];
      const values = (Array.isArray(given) ? given : [given]).filter((v): v is string => typeof v === 'string');
      const odd = values.find((v) => !FILTER_TEXT.test(v));
      if (odd !== undefined) errors.push(`${name}: ${JSON.stringify(odd.slice(0, 40))} has characters other than letters, digits, space and . _ - + ,`);
    }
    if (params.format !== undefined && params.format !== 'json' && params.format !== 'csv') errors.push(`format: ${JSON.stringify(params.format)} is not one of json, csv`);
    if (!parsed.ok || errors.length) return reply.code(400).send({ error: 'invalid query', issues: errors });
    try {
      const answer = await (await service()).query(parsed.value, method);
      if (params.format === 'csv') return sendCsv(reply, `level_funnel_${request.params.gameId}`, answer.levels as never);
      return answer;
    } catch (err) {
      if (err instanceof FunnelNotAggregatedError) {
        return reply.code(404).send({ error: err.message, expected: err.context.expected });
      }
      request.log.error({ err }, 'level funnel query failed');
      return reply.code(500).send({ error: 'level funnel query failed', detail: formatError(err).split('\n')[0] });
    }
  });
};
