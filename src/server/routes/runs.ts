import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { WAREHOUSE } from '../../connections/registry.js';
import { RunLog } from '../../pipeline/runLog.js';
import type { AppDeps } from '../deps.js';

/** Job and pipeline names are identifiers (layout names, folder names). */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;
const NAME_EXPECTED = 'a job or pipeline name: letters, digits, _ . - (at most 200)';

const query = z.strictObject({
  failed: z.enum(['true', 'false']).optional(),
  job: z.string().regex(NAME, NAME_EXPECTED).optional(),
  pipeline: z.string().regex(NAME, NAME_EXPECTED).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

/** GET /api/runs — the run log: pipeline health for the dashboard. */
export const runsRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const runLog = new RunLog(deps.connections.get(WAREHOUSE));
  const documented = {
    tags: ['operations'],
    summary: 'The run log (etl_run_log): newest first',
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        failed: { type: 'string', enum: ['true', 'false'] },
        job: { type: 'string', pattern: NAME.source },
        pipeline: { type: 'string', pattern: NAME.source },
        limit: { type: 'integer', minimum: 1, maximum: 10000 },
      },
    },
  } as const;
  // The zod schema above validates (one message per problem); the JSON Schema documents it.
  app.get('/api/runs', { schema: documented, validatorCompiler: () => () => true }, async (request, reply) => {
    const parsed = query.safeParse(request.query);
    if (!parsed.success) {
      return reply.code(400).send({ error: 'invalid query', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    }
    const q = parsed.data;
    return runLog.list({
      ...(q.failed === 'true' ? { failed: true } : {}),
      ...(q.job ? { job: q.job } : {}),
      ...(q.pipeline ? { pipeline: q.pipeline } : {}),
      limit: q.limit ?? 100,
    });
  });
};
