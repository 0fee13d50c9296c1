import fs from 'node:fs';
import type { ProjectConfig, Schedule } from '../config/projectConfig.js';
import { GamepipeError } from '../core/errors.js';
import type { GamepipePaths } from '../core/paths.js';
import { connectionEnvVar } from '../connections/registry.js';
import { GAME_SERVICE, USER_SERVICE } from './sourceSchema.js';
import { WAREHOUSE_PIPELINE } from './sync.js';

/**
 * The warehouse's default schedules (pipelines/warehouse/pipeline.json): the incremental sync
 * every 5 minutes and the full load at 02:00 UTC. As in the studio's ETL service,
 * ETL_INTERVAL_MINUTES and ETL_FULL_LOAD_HOUR change them (gamepipe.config.json may also
 * schedule the `warehouse` pipeline itself). They run only where there is something to sync:
 * a source connection is configured, or its embedded database exists (`warehouse init-sources`).
 */
export function warehouseSchedules(schedules: Schedule[], env: NodeJS.ProcessEnv, paths: GamepipePaths, config: Pick<ProjectConfig, 'connections'>): Schedule[] {
  const sources = [USER_SERVICE, GAME_SERVICE];
  const configured = sources.some((name) => env[connectionEnvVar(name)] !== undefined
    || Object.keys(config.connections).some((c) => c.toUpperCase() === name)
    || fs.existsSync(paths.embeddedPostgres(name)));
  const interval = env.ETL_INTERVAL_MINUTES === undefined ? undefined : bounded('ETL_INTERVAL_MINUTES', env.ETL_INTERVAL_MINUTES, 1, 59);
  const hour = env.ETL_FULL_LOAD_HOUR === undefined ? undefined : bounded('ETL_FULL_LOAD_HOUR', env.ETL_FULL_LOAD_HOUR, 0, 23);
  return schedules.flatMap((s) => {
    if (s.pipeline !== WAREHOUSE_PIPELINE) return [s];
    if (!configured) return [];
    if (s.load === 'full' && hour !== undefined) return [{ ...s, cron: `0 ${hour} * * *` }];
    if (s.load !== 'full' && interval !== undefined) return [{ ...s, cron: `*/${interval} * * * *` }];
    return [s];
  });
}

function bounded(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new GamepipeError(`${name}=${value}`, { expected: `a whole number from ${min} to ${max}` });
  return n;
}
