import { randomUUID } from 'node:crypto';
import type { RunContext } from '../engine/runJob.js';
import { aggregateLevelFunnel, FUNNEL_PIPELINE_NAME } from '../funnel/aggregate.js';

import { loadPipeline } from '../pipeline/definition.js';
import type { ProgressEvent, ProgressReporter } from '../pipeline/progress.js';
import { runPipeline } from '../pipeline/runPipeline.js';
import { dateRange } from '../core/dates.js';

/**
 * Runs started from the dashboard (admins only): a pipeline over a range of days (one day is
 * a run, several a backfill), or a retry of a day's failed jobs. Each runs in the background of
 * the server; its progress (tasks done / failed of the total) is kept in memory for the
 * Operations page, and every job lands in etl_run_log like any other run.
 */
export interface LaunchedRun {
  id: string;
  pipeline: string;
  from: string;
  to: string;
  retry: boolean;
  status: 'running' | 'succeeded' | 'failed';
  total: number;
  done: number;
  failed: number;
  startedAt: string;
  endedAt: string | null;
  pipelineRunId: string | null;
  error: string | null;
}

const KEEP = 50;

class Counter implements ProgressReporter {
  constructor(private readonly run: LaunchedRun) {}
  start(total: number): void {
    this.run.total = total;
  }
  update(event: ProgressEvent): void {
    if (event.event !== 'task_finished') return;
    this.run.done += 1;
    if (event.status === 'failed') this.run.failed += 1;
  }
  stop(): void {}
}

export class RunLauncher {
  private readonly runs: LaunchedRun[] = [];

  constructor(private readonly ctx: RunContext) {}

  /** Checks the pipeline exists (throws a GamepipeError naming it), then starts it; returns at once. */
  start(input: { pipeline: string; from: string; to: string; retry?: boolean }): LaunchedRun {
    const dates = dateRange(input.from, input.to);
    const definition = input.pipeline === FUNNEL_PIPELINE_NAME ? null : loadPipeline(input.pipeline);
    const run: LaunchedRun = {
      id: randomUUID(),
      pipeline: input.pipeline,
      from: input.from,
      to: input.to,
      retry: Boolean(input.retry),
      status: 'running',
      total: 0,
      done: 0,
      failed: 0,
      startedAt: new Date().toISOString(),
      endedAt: null,
      pipelineRunId: null,
      error: null,
    };
    this.runs.unshift(run);
    this.runs.splice(KEEP);
    const reporter = new Counter(run);
    const work = definition
      ? runPipeline(definition, this.ctx, { varSets: dates.map((logDate) => ({ logDate })), dateVar: 'logDate', reporter, ...(input.retry ? { fromFailure: true } : {}) }).then((r) => {
          run.pipelineRunId = r.pipelineRunId;
          return r.ok;
        })
      : aggregateLevelFunnel(this.ctx, { dates, reporter, ...(input.retry ? { resume: true } : {}) }).then((r) => {
          run.pipelineRunId = r.pipeline?.pipelineRunId ?? null;
          return r.ok;
        });
    work
      .then((ok) => {
        run.status = ok ? 'succeeded' : 'failed';
      })
      .catch((err: unknown) => {
        run.status = 'failed';
        run.error = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      })
      .finally(() => {
        run.endedAt = new Date().toISOString();
      });
    return run;
  }

  list(): LaunchedRun[] {
    return this.runs.map((r) => ({ ...r }));
  }

  /** Resolves once no started run is still running (server shutdown, tests). */
  async idle(): Promise<void> {
    while (this.runs.some((r) => r.status === 'running')) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
