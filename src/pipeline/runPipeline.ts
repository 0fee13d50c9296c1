import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { formatError, GamepipeError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { WAREHOUSE } from '../connections/registry.js';
import { compileLayout, type CompiledJob } from '../engine/compile.js';
import { jobMemoryLimit } from '../engine/memoryBudget.js';
import { runJob, type JobResult, type RunContext } from '../engine/runJob.js';
import { addDays } from '../layout/render.js';
import type { Vars } from '../layout/vars.js';
import type { PipelineDefinition } from './definition.js';
import { executeDag, type DagTask } from './executeDag.js';
import { buildGraph, danglingReads, type JobGraph } from './graph.js';
import { SilentProgress, type ProgressReporter } from './progress.js';
import { extractRecord, RunLog, varsKey } from './runLog.js';
import { isTransientError } from './transient.js';

/**
 * Runs a pipeline for one or more sets of vars (one per date in a backfill) as one DAG of
 * (vars, job) tasks: within a set, the inferred job graph; across dates, a stateful job's
 * run for day D waits for its run for D-1; everything else may overlap, up to
 * `concurrency` tasks at once. Every execution is recorded in etl_run_log, each (job, vars)
 * holds a PostgreSQL advisory lock while it runs, and transient errors are retried.
 */
export interface PipelineRunOptions {
  /** One run per entry; a backfill passes one per date. */
  varSets: Vars[];
  only?: string[];
  /** Skip jobs whose latest run for the same vars succeeded (resume a failed run or backfill). */
  fromFailure?: boolean;
  concurrency?: number;
  /** The var that orders stateful jobs across runs (default logDate). */
  dateVar?: string;
  reporter?: ProgressReporter;
}

export interface TaskOutcome {
  job: string;
  vars: Vars;
  status: 'succeeded' | 'failed' | 'skipped';
  attempts: number;
  result?: JobResult;
  error?: string;
}

export interface PipelineRunResult {
  pipelineRunId: string;
  pipeline: string;
  ok: boolean;
  tasks: TaskOutcome[];
  durationMs: number;
}

interface Task extends DagTask {
  job: CompiledJob;
  vars: Vars;
}

export function defaultConcurrency(): number {
  return Math.max(2, os.availableParallelism());
}

export function dateRange(from: string, to: string): string[] {
  if (from > to) throw new GamepipeError(`--from ${from} is after --to ${to}`, { expected: 'from ≤ to' });
  const days: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  return days;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runPipeline(def: PipelineDefinition, ctx: RunContext, options: PipelineRunOptions): Promise<PipelineRunResult> {
  const started = Date.now();
  const pipelineRunId = randomUUID();
  const dateVar = options.dateVar ?? 'logDate';
  const concurrency = options.concurrency ?? def.settings.concurrency ?? defaultConcurrency();
  const reporter = options.reporter ?? new SilentProgress();
  const runLog = new RunLog(ctx.connections.get(WAREHOUSE));
  const retries = def.settings.retries ?? 2;
  const retryDelayMs = def.settings.retryDelayMs ?? 500;

  // Compile everything first: a bad var, layout or graph fails before any job runs.
  const graphs: { vars: Vars; graph: JobGraph }[] = options.varSets.map((given) => {
    const vars = { ...def.settings.vars, ...given };
    return { vars, graph: buildGraph(def.layouts.map((l) => compileLayout(l, vars, ctx.paths))) };
  });
  const allJobs = [...graphs[0]!.graph.nodes.keys()];
  for (const name of options.only ?? []) {
    if (!allJobs.includes(name)) {
      throw new GamepipeError(`--only names an unknown job "${name}"`, { expected: `one of ${allJobs.sort().join(', ')}` });
    }
  }

  const tasks: Task[] = [];
  const problems: string[] = [];
  const byDate = new Map<string, Map<string, Task>>();
  for (const { vars, graph } of graphs) {
    let selected = new Set(options.only?.length ? options.only : graph.order);
    if (options.fromFailure) {
      const done = await runLog.succeededJobs(def.name, userVars(vars));
      selected = new Set([...selected].filter((j) => !done.has(j)));
    }
    problems.push(...danglingReads(graph, selected));
    const key = varsKey(vars);
    const dayTasks = new Map<string, Task>();
    for (const name of graph.order.filter((n) => selected.has(n))) {
      const node = graph.nodes.get(name)!;
      const task: Task = {
        id: `${key}/${name}`,
        dependsOn: node.dependsOn.filter((d) => selected.has(d)).map((d) => `${key}/${d}`),
        job: node.job,
        vars,
      };
      tasks.push(task);
      dayTasks.set(name, task);
    }
    if (vars[dateVar]) byDate.set(vars[dateVar]!, dayTasks);
  }
  if (problems.length) {
    throw new GamepipeError(`pipeline ${def.name}: ${problems.length} input${problems.length > 1 ? 's' : ''} will never exist`, {
      expected: 'each required input written by a job of the pipeline or already present',
      detail: problems.map((p) => `  ${p}`).join('\n'),
    });
  }
  // A job that reads its own output carries state: day D waits for day D-1.
  for (const [day, dayTasks] of byDate) {
    const previous = byDate.get(addDays(day, -1));
    if (!previous) continue;
    for (const [name, task] of dayTasks) {
      const before = previous.get(name);
      if (before && graphs[0]!.graph.nodes.get(name)!.stateful) task.dependsOn.push(before.id);
    }
  }

  const outcomes = new Map<string, TaskOutcome>();
  // Every job may use every core (a lone job on the critical path should not run single-threaded;
  // concurrent jobs share the cores through the OS) and its share of the memory budget.
  const jobCtx: RunContext = { ...ctx, memoryLimit: ctx.memoryLimit ?? jobMemoryLimit(concurrency) };
  reporter.start(tasks.length);
  const label = (t: Task) => (options.varSets.length > 1 && t.vars[dateVar] ? `${t.vars[dateVar]} ${t.job.name}` : t.job.name);

  await executeDag(tasks, {
    concurrency,
    onSkip: async (task, failed) => {
      const upstream = tasks.find((t) => t.id === failed)!;
      const reason = `skipped: upstream job ${label(upstream)} failed`;
      outcomes.set(task.id, { job: task.job.name, vars: userVars(task.vars), status: 'skipped', attempts: 0, error: reason });
      await runLog.skipped({ pipelineRunId, pipeline: def.name, job: task.job.name, vars: userVars(task.vars), reason });
      reporter.update({ event: 'task_finished', task: label(task), status: 'skipped', error: reason });
    },
    run: async (task) => {
      const vars = userVars(task.vars);
      const lockKey = `gamepipe:job:${def.name}:${task.job.name}:${varsKey(vars)}`;
      return ctx.connections.get(WAREHOUSE).withLock(lockKey, async () => {
        reporter.update({ event: 'task_started', task: label(task) });
        const runId = await runLog.start({ pipelineRunId, pipeline: def.name, job: task.job.name, vars });
        for (let attempt = 1; ; attempt++) {
          try {
            const result = await runJob(task.job, jobCtx);
            const extract = extractRecord(result);
            await runLog.finish(runId, { status: 'succeeded', rowsRead: result.rowsRead, rowsWritten: result.rowsWritten, ...(extract ? { extract } : {}) });
            outcomes.set(task.id, { job: task.job.name, vars, status: 'succeeded', attempts: attempt, result });
            reporter.update({ event: 'task_finished', task: label(task), status: 'succeeded', rowsWritten: result.rowsWritten, durationMs: result.durationMs });
            return true;
          } catch (err) {
            const error = formatError(err);
            if (attempt <= retries && isTransientError(err)) {
              logger.warn({ job: task.job.name, attempt, error }, 'transient error, retrying');
              await runLog.attempt(runId, attempt + 1, error);
              await sleep(retryDelayMs * 2 ** (attempt - 1));
              continue;
            }
            await runLog.finish(runId, { status: 'failed', error });
            outcomes.set(task.id, { job: task.job.name, vars, status: 'failed', attempts: attempt, error });
            reporter.update({ event: 'task_finished', task: label(task), status: 'failed', error });
            return false;
          }
        }
      });
    },
  });
  reporter.stop();

  const ordered = tasks.map((t) => outcomes.get(t.id)!).filter(Boolean);
  return {
    pipelineRunId,
    pipeline: def.name,
    ok: ordered.every((o) => o.status === 'succeeded'),
    tasks: ordered,
    durationMs: Date.now() - started,
  };
}

/** The vars a user gave (without the built-in lake/home paths). */
function userVars(vars: Vars): Vars {
  return Object.fromEntries(Object.entries(vars).filter(([k]) => k !== 'lake' && k !== 'home'));
}
