import path from 'node:path';
import { GamepipeError } from '../core/errors.js';
import { WAREHOUSE } from '../connections/registry.js';
import type { RunContext } from '../engine/runJob.js';
import { loadPipeline } from '../pipeline/definition.js';
import type { ProgressReporter } from '../pipeline/progress.js';
import { runPipeline, type PipelineRunResult } from '../pipeline/runPipeline.js';
import { GAME_SERVICE, USER_SERVICE } from './sourceSchema.js';

/**
 * `gamepipe warehouse sync`: one run of the shipped pipeline `pipelines/warehouse`, incremental
 * (rows past each source's watermark) or full (every source read whole: drift repaired, hard
 * deletes found). Syncs never overlap: the whole run holds a lock in WAREHOUSE, and each job
 * its own job lock, so a scheduled full load waits for a running incremental sync.
 */
export const WAREHOUSE_PIPELINE = 'warehouse';
export const WAREHOUSE_PIPELINE_DIR = path.join(path.resolve(import.meta.dirname, '../..'), 'pipelines', WAREHOUSE_PIPELINE);

export const SOURCE_SYSTEMS = { user_service: USER_SERVICE, game_service: GAME_SERVICE } as const;
export type SourceSystem = keyof typeof SOURCE_SYSTEMS;

export interface SyncOptions {
  full?: boolean;
  /** Only the jobs reading this source system. */
  source?: SourceSystem;
  reporter?: ProgressReporter;
  /** Another pipeline folder of the same shape (tests). */
  pipelineDir?: string;
}

export function checkSourceSystem(value: string): SourceSystem {
  if (!(value in SOURCE_SYSTEMS)) {
    throw new GamepipeError(`--source ${value}`, { expected: `one of ${Object.keys(SOURCE_SYSTEMS).join(', ')}` });
  }
  return value as SourceSystem;
}

export async function syncWarehouse(ctx: RunContext, options: SyncOptions = {}): Promise<PipelineRunResult> {
  const def = loadPipeline(options.pipelineDir ?? WAREHOUSE_PIPELINE_DIR);
  let only: string[] | undefined;
  if (options.source) {
    const connection = SOURCE_SYSTEMS[options.source];
    only = def.layouts
      .filter((l) => l.layout.inputSources.some((s) => s.type === 'jdbc' && s.connection.toUpperCase() === connection))
      .map((l) => l.layout.name);
  }
  return ctx.connections.get(WAREHOUSE).withLock('gamepipe:warehouse:sync', () =>
    runPipeline(def, { ...ctx, load: options.full ? 'full' : 'incremental' }, {
      varSets: [{}],
      ...(only ? { only } : {}),
      ...(options.reporter ? { reporter: options.reporter } : {}),
    }),
  );
}
