import Fastify, { type FastifyInstance } from 'fastify';
import type { GamepipePaths } from '../core/paths.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { levelFunnelRoutes } from './routes/levelFunnel.js';
import { realtimeRoutes } from './routes/realtime.js';
import { runsRoutes } from './routes/runs.js';

/** The HTTP API (`gamepipe serve`): one plugin per feature, query strings validated at the edge. */
export interface AppDeps {
  connections: ConnectionRegistry;
  /** The lake and home; the level funnel reads its per-player index from the lake. */
  paths?: GamepipePaths;
  scheduler?: Scheduler;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/api/health', async () => ({ ok: true }));
  app.get('/api/schedules', async () => deps.scheduler?.nextRuns() ?? []);
  await app.register(runsRoutes, deps);
  await app.register(realtimeRoutes, deps);
  if (deps.paths) await app.register(levelFunnelRoutes, { paths: deps.paths });
  return app;
}
