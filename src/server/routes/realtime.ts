import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { WAREHOUSE } from '../../connections/registry.js';
import { readRealtimeMinutes } from '../../stream/realtime.js';
import type { AppDeps } from '../deps.js';

/** At most this long a range (the tables hold one row per minute and game). */
const MAX_RANGE_MS = 7 * 86_400_000;

const instant = z
  .string()
  .max(40)
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO-8601 date-time, e.g. 2024-05-01T12:00:00Z');

const query = z
  .strictObject({
    from: instant.optional(),
    to: instant.optional(),
    game: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a game id: letters, digits, _ . - (at most 100)').optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['from'] })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) - Date.parse(q.from) <= MAX_RANGE_MS, { message: 'at most 7 days at once', path: ['to'] });

/**
 * GET /api/realtime/minutes?from=&to=&game= — the real-time tables the stream aggregator writes:
 * per-minute KPIs (purchases, revenue in USD, exact active users, matches) and revenue by
 * country, each minute marked closed once no on-time event can change it, plus the range's late
 * events. Without `to`, the range ends with the newest aggregated minute; without `from`, it
 * covers the 60 minutes before `to`.
 */
export const realtimeRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const documented = {
    tags: ['live'],
    summary: 'Per-minute KPIs and revenue by country from the stream, closed flags, late events',
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        from: { type: 'string', maxLength: 40, description: 'ISO-8601 date-time; default to − 60 minutes' },
        to: { type: 'string', maxLength: 40, description: 'ISO-8601 date-time (exclusive); default the newest aggregated minute' },
        game: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' },
      },
    },
  } as const;
  // The zod schema above validates (one message per problem); the JSON Schema documents it.
  app.get('/api/realtime/minutes', { schema: documented, validatorCompiler: () => () => true }, async (request, reply) => {
    const parsed = query.safeParse(request.query);
    if (!parsed.success) {
      return reply.code(400).send({ error: 'invalid query', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    }
    const q = parsed.data;
    const to = q.to ? Date.parse(q.to) : undefined;
    const from = q.from ? Date.parse(q.from) : undefined;
    if (from !== undefined && to === undefined) {
      // A `from` alone: up to 60 minutes after it.
      return readRealtimeMinutes(deps.connections.get(WAREHOUSE), { from, to: from + 3_600_000, ...(q.game ? { gameId: q.game } : {}) });
    }
    return readRealtimeMinutes(deps.connections.get(WAREHOUSE), {
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(q.game ? { gameId: q.game } : {}),
    });
  });
};
