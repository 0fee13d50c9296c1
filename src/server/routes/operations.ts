import fs from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { GamepipeError } from '../../core/errors.js';
import { readFunnelFreshness, readQuality, readStreamLag } from '../../dashboard/queries.js';
import type { RunLauncher } from '../../dashboard/runLauncher.js';
import { INDEX_JOB } from '../../funnel/aggregate.js';
import { loadPipeline } from '../../pipeline/definition.js';
import { sendCsv } from '../csv.js';
import { readConnection } from '../readConnection.js';
import { checkRange, date, noQuery, rangeQuery, type RangeQuery } from '../schemas.js';
import type { AppDeps } from '../deps.js';

const name = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$' } as const;

const startBody = {
  type: 'object',
  additionalProperties: false,
  required: ['pipeline', 'from', 'to'],
  properties: {
    pipeline: { ...name, description: 'a pipeline under pipelines/ (e.g. daily), or funnel for the level-funnel aggregation' },
    from: date,
    to: date,
    retry: { type: 'boolean', description: 'run only the jobs whose latest run for the day did not succeed' },
  },
} as const;

/**
 * Pipeline health for the Operations page: data quality per day, the level-funnel index's
 * freshness, the stream consumer's progress, a job's layout; and the admins' actions: start a
 * run or a backfill, retry failed jobs, and follow their progress.
 */
export const operationsRoutes: FastifyPluginAsync<AppDeps & { launcher?: RunLauncher }> = async (app, deps) => {
  const db = readConnection(deps.connections);

  app.get<{ Querystring: RangeQuery }>(
    '/api/quality',
    { schema: { tags: ['operations'], summary: 'Data quality per day: raw, valid, invalid by rule, duplicates, quarantined by reason', querystring: rangeQuery } },
    async (request, reply) => {
      if (!checkRange(reply, request.query)) return reply;
      const days = await readQuality(db, request.query);
      if (request.query.format === 'csv') return sendCsv(reply, 'quality', days as never);
      return days;
    },
  );

  app.get('/api/level-funnel/freshness', { schema: { tags: ['operations'], summary: 'Per game: newest aggregated day and last index build', querystring: noQuery } }, async () =>
    readFunnelFreshness(db, INDEX_JOB),
  );

  app.get('/api/realtime/lag', { schema: { tags: ['live'], summary: "The stream aggregator's progress per partition: next offset, event-time lag", querystring: noQuery } }, async () =>
    readStreamLag(db),
  );

  app.get<{ Params: { pipeline: string; job: string } }>(
    '/api/pipelines/:pipeline/jobs/:job/layout',
    {
      schema: {
        tags: ['operations'],
        summary: "A job's layout file, as it is on disk",
        querystring: noQuery,
        params: { type: 'object', additionalProperties: false, required: ['pipeline', 'job'], properties: { pipeline: name, job: name } },
      },
    },
    async (request, reply) => {
      let file: string | undefined;
      try {
        file = loadPipeline(request.params.pipeline).layouts.find((l) => l.layout.name === request.params.job)?.file;
      } catch (err) {
        if (err instanceof GamepipeError) return reply.code(404).send({ error: err.message });
        throw err;
      }
      if (!file) return reply.code(404).send({ error: `pipeline ${request.params.pipeline} has no job ${request.params.job}` });
      return { pipeline: request.params.pipeline, job: request.params.job, file, text: fs.readFileSync(file, 'utf8') };
    },
  );

  const launcher = deps.launcher;
  app.get('/api/runs/launched', { schema: { tags: ['operations'], summary: 'Runs started from the dashboard since the server started, with progress', querystring: noQuery } }, async () =>
    launcher?.list() ?? [],
  );

  app.post<{ Body: { pipeline: string; from: string; to: string; retry?: boolean } }>(
    '/api/runs',
    {
      config: { access: 'admin' },
      schema: { tags: ['operations'], summary: 'Start a run (one day) or a backfill (several days) of a pipeline; admin token', body: startBody },
    },
    async (request, reply) => {
      if (!launcher) return reply.code(503).send({ error: 'this server does not run pipelines' });
      if (!checkRange(reply, request.body)) return reply;
      try {
        return reply.code(202).send(launcher.start(request.body));
      } catch (err) {
        if (err instanceof GamepipeError) return reply.code(400).send({ error: 'invalid request', issues: [`body/pipeline: ${err.message}`] });
        throw err;
      }
    },
  );
};
