import type { Schedule } from '../config/projectConfig.js';
import { logger } from '../core/logger.js';
import type { RunContext } from '../engine/runJob.js';
import type { Vars } from '../layout/vars.js';
import { loadPipeline } from '../pipeline/definition.js';
import { runPipeline } from '../pipeline/runPipeline.js';

/** What a schedule fires: one run of its pipeline with the fire's vars (recorded in the run log). */
export function pipelineRunner(ctx: RunContext, searchRoots?: string[]) {
  return async (schedule: Schedule, vars: Vars): Promise<boolean> => {
    const runCtx = schedule.load ? { ...ctx, load: schedule.load } : ctx;
    const result = await runPipeline(loadPipeline(schedule.pipeline, searchRoots), runCtx, { varSets: [vars] });
    logger.info({ schedule: schedule.name, pipelineRunId: result.pipelineRunId, ok: result.ok }, 'scheduled pipeline finished');
    return result.ok;
  };
}
