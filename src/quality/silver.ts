import path from 'node:path';
import { GamepipeError } from '../core/errors.js';
import type { GamepipePaths } from '../core/paths.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import { DuckEngine } from '../engine/duckdb.js';
import type { JobResult } from '../engine/runJob.js';
import { loadPipeline } from '../pipeline/definition.js';
import { runPipelineJob } from '../pipeline/runPipeline.js';
import { sqlString } from '../sql/quote.js';
import { checkDate } from '../core/dates.js';
import { eventsDayDir, hasParquet } from '../lake/zones.js';

/**
 * Bronze → silver for one day: the daily pipeline's job `silver_events`
 * (`pipelines/daily/silver/silver_events.json`, template `silver_events.sql.j2`, whose rule SQL is
 * generated from src/quality/rules.ts), run alone through the pipeline runner (lock, run log,
 * retries) — the same job `pipeline run daily` runs first.
 */

export const DAILY_PIPELINE_DIR = path.resolve(import.meta.dirname, '../../pipelines/daily');
export const SILVER_LAYOUT_DIR = path.join(DAILY_PIPELINE_DIR, 'silver');
export const SILVER_EVENTS_LAYOUT = path.join(SILVER_LAYOUT_DIR, 'silver_events.json');
export const QUALITY_DAILY_LAYOUT = path.join(SILVER_LAYOUT_DIR, 'quality_daily.json');
export const SILVER_EVENTS_JOB = 'silver_events';
export const QUALITY_DAILY_JOB = 'quality_daily';

export interface SilverSummary {
  ds: string;
  rows: number;
  valid: number;
  invalid: number;
  duplicates: number;
  flagged: number;
  target: string;
  job: JobResult;
}

/** Rebuilds `{lake}/silver/events/ds=<date>` from bronze (replacing that partition atomically). */
export async function buildSilverDay(
  date: string,
  ctx: { paths: GamepipePaths; connections: ConnectionRegistry; threads?: number },
): Promise<SilverSummary> {
  checkDate(date);
  const bronze = eventsDayDir(ctx.paths.lake, 'bronze', date);
  if (!hasParquet(bronze)) {
    throw new GamepipeError(`no bronze events for ${date}`, {
      file: bronze,
      expected: `events of that day ingested first: gamepipe ingest FILE… (bronze is partitioned by event day)`,
    });
  }
  const result = await runPipelineJob(loadPipeline(DAILY_PIPELINE_DIR), ctx, SILVER_EVENTS_JOB, { logDate: date });
  const target = eventsDayDir(ctx.paths.lake, 'silver', date);
  const counts = await countSilver(ctx.paths, target);
  return { ds: date, ...counts, target, job: result };
}

async function countSilver(paths: GamepipePaths, dir: string): Promise<Omit<SilverSummary, 'ds' | 'target' | 'job'>> {
  const engine = await DuckEngine.open(paths.tmp, { threads: 1 });
  try {
    const row = (
      await engine.rows<Record<string, number | string>>(
        `SELECT count(*) AS rows,
                count(*) FILTER (WHERE is_valid AND NOT is_duplicate) AS valid,
                count(*) FILTER (WHERE NOT is_valid AND NOT is_duplicate) AS invalid,
                count(*) FILTER (WHERE is_duplicate) AS duplicates,
                count(*) FILTER (WHERE is_valid AND NOT is_duplicate AND len(validation_errors) > 0) AS flagged
         FROM read_parquet(${sqlString(path.join(dir, '*.parquet'))})`,
      )
    )[0]!;
    return {
      rows: Number(row.rows),
      valid: Number(row.valid),
      invalid: Number(row.invalid),
      duplicates: Number(row.duplicates),
      flagged: Number(row.flagged),
    };
  } finally {
    engine.close();
  }
}
