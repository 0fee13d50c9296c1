import Fastify, { type FastifyInstance } from 'fastify';
import type { ConnectionRegistry } from '../connections/registry.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { runsRoutes } from './routes/runs.js';

/** The HTTP API (`gamepipe serve`): one plugin per feature, query strings validated at the edge. */
export interface AppDeps {
  connections: ConnectionRegistry;
  scheduler?: Scheduler;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/api/health', async () => ({ ok: true }));
  app.get('/api/schedules', async () => deps.scheduler?.nextRuns() ?? []);
  await app.register(runsRoutes, deps);
  return app;
}
