import type { FastifyInstance } from 'fastify';
import { WAREHOUSE } from '../connections/registry.js';
import { TokenStore } from '../auth/tokens.js';
import { mountCollector } from '../collector/index.js';
import { levelFunnelRoutes } from './routes/levelFunnel.js';
import { realtimeRoutes } from './routes/realtime.js';
import { runsRoutes } from './routes/runs.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { operationsRoutes } from './routes/operations.js';
import { webAppRoutes } from './routes/webApp.js';
import { RunLauncher } from '../dashboard/runLauncher.js';
import { installOpenApi } from './openapi.js';
import { createServer, installSecurity } from './security.js';
import { noQuery } from './schemas.js';
import type { AppDeps } from './deps.js';

export type { AppDeps } from './deps.js';


/** The HTTP API (`gamepipe serve`): one plugin per feature, query strings validated at the edge. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = createServer();
  await installOpenApi(app);
  await installSecurity(app, {
    tokens: deps.tokens ?? new TokenStore(deps.connections.get(WAREHOUSE)),
    ...(deps.publicRead ? { publicRead: true } : {}),
    ...(deps.rateLimitPerMinute ? { rateLimitPerMinute: deps.rateLimitPerMinute } : {}),
  });
  app.get('/api/health', { config: { access: 'public' }, schema: { tags: ['operations'], summary: 'Liveness', querystring: noQuery } }, async () => ({ ok: true }));
  app.get('/api/schedules', { schema: { tags: ['operations'], summary: 'Schedules and their next fire times', querystring: noQuery } }, async () => deps.scheduler?.nextRuns() ?? []);
  await app.register(runsRoutes, deps);
  await app.register(realtimeRoutes, deps);
  if (deps.paths) await app.register(levelFunnelRoutes, { paths: deps.paths });
  if (deps.collector) await mountCollector(app, deps.collector);
  await app.register(dashboardRoutes, deps);
  const launcher = deps.paths ? new RunLauncher({ paths: deps.paths, connections: deps.connections }) : undefined;
  await app.register(operationsRoutes, { ...deps, ...(launcher ? { launcher } : {}) });
  await app.register(webAppRoutes);
  // Runs started from the dashboard finish before the server lets go of its connections.
  app.addHook('onClose', async () => launcher?.idle());
  return app;
}
