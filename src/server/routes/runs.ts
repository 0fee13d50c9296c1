import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { WAREHOUSE } from '../../connections/registry.js';
import { RunLog } from '../../pipeline/runLog.js';
import type { AppDeps } from '../app.js';

const query = z.strictObject({
  failed: z.enum(['true', 'false']).optional(),
  job: z.string().max(200).optional(),
  pipeline: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

/** GET /api/runs — the run log: pipeline health for the dashboard. */
export const runsRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const runLog = new RunLog(deps.connections.get(WAREHOUSE));
  app.get('/api/runs', async (request, reply) => {
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
