import { randomUUID } from 'node:crypto';
import { formatError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { WAREHOUSE } from '../connections/registry.js';
import type { CompiledJob } from '../engine/compile.js';
import { runJob, type JobResult, type RunContext } from '../engine/runJob.js';
import type { Vars } from '../layout/vars.js';
import { extractRecord, RunLog, varsKey } from './runLog.js';
import { isTransientError } from './transient.js';

/**
 * The one way a job is executed: under the advisory lock of its (pipeline, job, vars), recorded
 * in `etl_run_log` (one row per execution, each retry updating it), transient errors retried
 * with a doubling backoff. The pipeline runner calls it for every task; `gamepipe run`,
 * `silver`, `quality` and the level funnel go through the runner or call it directly.
 */

export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_DELAY_MS = 500;

/** The advisory-lock key of one execution identity: two runs of the same key never overlap. */
export function jobLockKey(pipeline: string, job: string, vars: Vars): string {
  return `gamepipe:job:${pipeline}:${job}:${varsKey(vars)}`;
}

/** The vars that identify a run (without the built-in lake/home paths). */
export function runVars(vars: Vars): Vars {
  return Object.fromEntries(Object.entries(vars).filter(([k]) => k !== 'lake' && k !== 'home'));
}

export interface JobExecution {
  /** The pipeline the run is recorded under in etl_run_log. */
  pipeline: string;
  pipelineRunId?: string;
  job: CompiledJob;
  /** The vars identifying this execution (lock key and run log); default: the job's given vars. */
  vars?: Vars;
}

export interface ExecutePolicy {
  /** Attempts after the first for a transient error (default 2). */
  retries?: number;
  /** First backoff; doubles per attempt (default 500 ms). */
  retryDelayMs?: number;
  /** Reused across executions of one run (creates etl_run_log once). */
  runLog?: RunLog;
  /** Called once the lock is held, before the first attempt. */
  onStart?: () => void;
}

export interface JobOutcome {
  status: 'succeeded' | 'failed';
  attempts: number;
  runId: string;
  result?: JobResult;
  /** The formatted error of a failed execution. */
  error?: string;
  /** The error object itself (not serialized). */
  cause?: unknown;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Executes one compiled job under its lock, with run log and retries; never throws for a job failure. */
export async function executeJob(execution: JobExecution, ctx: RunContext, policy: ExecutePolicy = {}): Promise<JobOutcome> {
  const { pipeline, job } = execution;
  const vars = runVars(execution.vars ?? job.vars);
  const retries = policy.retries ?? DEFAULT_RETRIES;
  const retryDelayMs = policy.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const warehouse = ctx.connections.get(WAREHOUSE);
  const runLog = policy.runLog ?? new RunLog(warehouse);
  return warehouse.withLock(jobLockKey(pipeline, job.name, vars), async () => {
    policy.onStart?.();
    const runId = await runLog.start({ pipelineRunId: execution.pipelineRunId ?? randomUUID(), pipeline, job: job.name, vars });
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await runJob(job, ctx);
        const extract = extractRecord(result);
        await runLog.finish(runId, { status: 'succeeded', rowsRead: result.rowsRead, rowsWritten: result.rowsWritten, ...(extract ? { extract } : {}) });
        return { status: 'succeeded', attempts: attempt, runId, result };
      } catch (err) {
        const error = formatError(err);
        if (attempt <= retries && isTransientError(err)) {
          logger.warn({ job: job.name, attempt, error }, 'transient error, retrying');
          await runLog.attempt(runId, attempt + 1, error);
          await sleep(retryDelayMs * 2 ** (attempt - 1));
          continue;
        }
        await runLog.finish(runId, { status: 'failed', error });
        return { status: 'failed', attempts: attempt, runId, error, cause: err };
      }
    }
  });
}
