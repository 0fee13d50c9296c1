import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { GamepipeError } from '../core/errors.js';
import { collectorConfigSchema } from '../collector/limits.js';
import { toJsonPath } from '../layout/load.js';

/**
 * Optional project config, `gamepipe.config.json` in the working directory (or the file
 * GAMEPIPE_CONFIG names). It declares connections (a URL, or none for the embedded
 * PostgreSQL); environment variables GAMEPIPE_CONN_<NAME> override it.
 */
export const scheduleSchema = z.strictObject({
  /** Unique name; its last fire time is kept in schedule_state. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  pipeline: z.string().min(1),
  /** Cron expression (5 or 6 fields), e.g. "0 2 * * *". */
  cron: z.string().min(1),
  timezone: z.string().default('UTC'),
  /** The var given the fire time's date (in the schedule's timezone), shifted by dateOffsetDays. */
  dateVar: z.string().optional(),
  dateOffsetDays: z.number().int().default(-1),
  vars: z.record(z.string(), z.string()).default({}),
  /** Run the fire times missed while gamepipe was down, oldest first (default true). */
  catchUp: z.boolean().default(true),
  /** How the run reads incremental jdbc sources: past their watermarks (default) or whole (a full load). */
  load: z.enum(['incremental', 'full']).optional(),
  /** At most this many missed fire times are caught up (the most recent ones). */
  maxCatchUp: z.number().int().positive().default(31),
});

export type Schedule = z.infer<typeof scheduleSchema>;

const configSchema = z.strictObject({
  $schema: z.string().optional(),
  connections: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
      z.strictObject({ url: z.string().optional(), description: z.string().optional() }),
    )
    .default({}),
  /** Pipelines run by `gamepipe serve` (see src/scheduler). */
  schedules: z.array(scheduleSchema).default([]),
  /** The HTTP collector's limits and per-game event mappings (docs/collector.md). */
  collector: collectorConfigSchema.optional(),
});

export type ProjectConfig = z.infer<typeof configSchema>;

export function loadProjectConfig(env: NodeJS.ProcessEnv = process.env): ProjectConfig {
  const file = path.resolve(env.GAMEPIPE_CONFIG ?? 'gamepipe.config.json');
  if (!fs.existsSync(file)) {
    if (env.GAMEPIPE_CONFIG) throw new GamepipeError('config file not found', { file, expected: 'a gamepipe.config.json file' });
    return { connections: {}, schedules: [] };
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new GamepipeError(`not valid JSON: ${(err as Error).message}`, { file });
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GamepipeError(issue.message, { file, jsonPath: toJsonPath(issue.path) });
  }
  const config = parsed.data;
  // Mapping files are named relative to the config file.
  if (config.collector) {
    const dir = path.dirname(file);
    config.collector.mappings = Object.fromEntries(Object.entries(config.collector.mappings).map(([game, f]) => [game, path.resolve(dir, f)]));
  }
  return config;
}
