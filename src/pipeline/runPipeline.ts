import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { GamepipeError } from '../core/errors.js';
import { WAREHOUSE } from '../connections/registry.js';
import { compileLayout, type CompiledJob } from '../engine/compile.js';
import { jobMemoryLimit } from '../engine/memoryBudget.js';
import type { JobResult, RunContext } from '../engine/runJob.js';
import type { LoadedLayout } from '../layout/load.js';
import type { Vars } from '../layout/vars.js';
import type { PipelineDefinition } from './definition.js';
import { executeDag, type DagTask } from './executeDag.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS, executeJob, runVars } from './executeJob.js';
import { buildGraph, danglingReads, type JobGraph } from './graph.js';
import { expandVarSets } from './partitionValues.js';
import { SilentProgress, type ProgressReporter } from './progress.js';
import { RunLog, varsKey } from './runLog.js';
import { addDays } from '../core/dates.js';

/**
 * Runs a pipeline for one or more sets of vars (one per date in a backfill, one per (game, day)
 * for the funnel) as one DAG of (job, partition) tasks. A job's partition is the run's vars, or,
 * for a job with `partitionedBy`, only those vars: such a job runs once per distinct value of
 * them and waits for every task of its upstream jobs in all the var sets that map to it (fan-in,
 * like Dagster's partition mappings), and a job downstream of it waits for that one task. Within
 * a set the edges are the inferred job graph; across dates, a stateful job's run for day D waits
 * for its run for D-1; everything else may overlap, up to `concurrency` tasks at once. Every
 * task is executed by executeJob (lock, etl_run_log, retries).
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
  /** The task's partition: the run's vars, or the job's partitionedBy vars. */
  vars: Vars;
  status: 'succeeded' | 'failed' | 'skipped';
  attempts: number;
  result?: JobResult;
  error?: string;
  /** The error object of a failed task (not serialized). */
  cause?: unknown;
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
  /** The partition vars: identity in the lock key and the run log. */
  vars: Vars;
}

export function defaultConcurrency(): number {
  return Math.max(2, os.availableParallelism());
}

/** The vars a job sees in a run over `vars`: all of them, or only those it is partitioned by. */
export function partitionVars(layout: LoadedLayout, vars: Vars, context = ''): Vars {
  const keys = layout.layout.partitionedBy;
  if (!keys) return runVars(vars);
  const missing = keys.filter((k) => vars[k] === undefined);
  if (missing.length) {
    throw new GamepipeError(`job ${layout.layout.name} is partitioned by ${keys.join(', ')}, but the run has no var ${missing.join(', ')}${context}`, {
      file: layout.file,
      job: layout.layout.name,
      jsonPath: '$.partitionedBy',
      expected: `--vars ${missing.map((k) => `${k}=…`).join(',')}`,
    });
  }
  return Object.fromEntries(keys.map((k) => [k, vars[k]!]));
}

const taskId = (job: string, vars: Vars) => `${job}@${varsKey(vars)}`;

export async function runPipeline(def: PipelineDefinition, ctx: RunContext, options: PipelineRunOptions): Promise<PipelineRunResult> {
  const started = Date.now();
  const pipelineRunId = randomUUID();
  const dateVar = options.dateVar ?? 'logDate';
  const concurrency = options.concurrency ?? def.settings.concurrency ?? defaultConcurrency();
  const reporter = options.reporter ?? new SilentProgress();
  const runLog = new RunLog(ctx.connections.get(WAREHOUSE));
  const policy = { retries: def.settings.retries ?? DEFAULT_RETRIES, retryDelayMs: def.settings.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, runLog };
  // Vars the run does not give but the pipeline can list (pipeline.json partitions): one var set per value.
  const varSets = await expandVarSets(def, options.varSets, ctx.paths);
  if (varSets.length === 0) return { pipelineRunId, pipeline: def.name, ok: true, tasks: [], durationMs: Date.now() - started };

  const allJobs = def.layouts.map((l) => l.layout.name);
  for (const name of options.only ?? []) {
    if (!allJobs.includes(name)) {
      throw new GamepipeError(`--only names an unknown job "${name}"`, { expected: `one of ${[...allJobs].sort().join(', ')}` });
    }
  }
  // With --only, only the named jobs are compiled: the others may need vars this run lacks.
  const layouts = options.only?.length ? def.layouts.filter((l) => options.only!.includes(l.layout.name)) : def.layouts;

  // Compile everything first: a bad var, layout or graph fails before any job runs.
  const compiled = new Map<string, CompiledJob>();
  const graphs: { vars: Vars; graph: JobGraph; partitions: Map<string, Vars> }[] = varSets.map((given, i) => {
    const vars = { ...def.settings.vars, ...given };
    const where = varSets.length > 1 ? ` (var set ${i + 1}: ${varsKey(runVars(vars))})` : '';
    const partitions = new Map<string, Vars>();
    const jobs = layouts.map((l) => {
      const partition = partitionVars(l, vars, where);
      partitions.set(l.layout.name, partition);
      const id = taskId(l.layout.name, partition);
      let job = compiled.get(id);
      if (!job) {
        job = compileLayout(l, l.layout.partitionedBy ? partition : vars, ctx.paths);
        compiled.set(id, job);
      }
      return job;
    });
    return { vars, graph: buildGraph(jobs, allJobs), partitions };
  });

  // One task per (job, partition); a partitioned job's task collects the edges of every var set mapping to it.
  const tasks = new Map<string, Task>();
  for (const { graph, partitions } of graphs) {
    for (const name of graph.order) {
      const node = graph.nodes.get(name)!;
      const partition = partitions.get(name)!;
      const id = taskId(name, partition);
      let task = tasks.get(id);
      if (!task) {
        task = { id, dependsOn: [], job: node.job, vars: partition };
        tasks.set(id, task);
      }
      for (const dep of node.dependsOn) {
        const depId = taskId(dep, partitions.get(dep)!);
        if (!task.dependsOn.includes(depId)) task.dependsOn.push(depId);
      }
    }
  }
  // A job that reads its own output carries state: its run for day D waits for its run for D-1.
  for (const task of tasks.values()) {
    const day = task.vars[dateVar];
    if (!day || !graphs[0]!.graph.nodes.get(task.job.name)!.stateful) continue;
    const before = taskId(task.job.name, { ...task.vars, [dateVar]: addDays(day, -1) });
    if (tasks.has(before)) task.dependsOn.push(before);
  }

  // --from-failure: skip a task whose latest run succeeded, unless a task it waits for runs again.
  let runnable = [...tasks.values()];
  if (options.fromFailure) {
    const succeeded = new Map<string, Set<string>>();
    for (const t of tasks.values()) {
      const key = varsKey(t.vars);
      if (!succeeded.has(key)) succeeded.set(key, await runLog.succeededJobs(def.name, t.vars));
    }
    const runs = new Map<string, boolean>();
    const mustRun = (t: Task): boolean => {
      let r = runs.get(t.id);
      if (r === undefined) {
        r = !succeeded.get(varsKey(t.vars))!.has(t.job.name) || t.dependsOn.some((d) => mustRun(tasks.get(d)!));
        runs.set(t.id, r);
      }
      return r;
    };
    runnable = runnable.filter(mustRun);
  }
  const running = new Set(runnable.map((t) => t.id));
  const problems = graphs.flatMap(({ graph, partitions }) =>
    danglingReads(graph, new Set([...graph.nodes.keys()].filter((n) => running.has(taskId(n, partitions.get(n)!))))),
  );
  if (problems.length) {
    const unique = [...new Set(problems)];
    throw new GamepipeError(`pipeline ${def.name}: ${unique.length} input${unique.length > 1 ? 's' : ''} will never exist`, {
      expected: 'each required input written by a job of the pipeline or already present',
      detail: unique.map((p) => `  ${p}`).join('\n'),
    });
  }
  // Partitioned (fan-in) tasks last in the listing: they wait for the others.
  const ordered = [...runnable.filter((t) => !t.job.layout.partitionedBy), ...runnable.filter((t) => t.job.layout.partitionedBy)];

  const outcomes = new Map<string, TaskOutcome>();
  // Every job may use every core (a lone job on the critical path should not run single-threaded;
  // concurrent jobs share the cores through the OS) and its share of the memory budget.
  const jobCtx: RunContext = { ...ctx, memoryLimit: ctx.memoryLimit ?? jobMemoryLimit(concurrency) };
  reporter.start(ordered.length);
  const label = (t: Task) => {
    const key = Object.keys(t.vars).sort().map((k) => t.vars[k]).join(' ');
    return varSets.length > 1 && key ? `${key} ${t.job.name}` : t.job.name;
  };

  await executeDag(ordered, {
    concurrency,
    onSkip: async (task, failed) => {
      const reason = `skipped: upstream job ${label(tasks.get(failed)!)} failed`;
      outcomes.set(task.id, { job: task.job.name, vars: task.vars, status: 'skipped', attempts: 0, error: reason });
      await runLog.skipped({ pipelineRunId, pipeline: def.name, job: task.job.name, vars: task.vars, reason });
      reporter.update({ event: 'task_finished', task: label(task), status: 'skipped', error: reason });
    },
    run: async (task) => {
      const outcome = await executeJob({ pipeline: def.name, pipelineRunId, job: task.job, vars: task.vars }, jobCtx, {
        ...policy,
        onStart: () => reporter.update({ event: 'task_started', task: label(task) }),
      });
      const { runId: _runId, ...rest } = outcome;
      outcomes.set(task.id, { job: task.job.name, vars: task.vars, ...rest });
      reporter.update({
        event: 'task_finished',
        task: label(task),
        status: outcome.status,
        ...(outcome.result ? { rowsWritten: outcome.result.rowsWritten, durationMs: outcome.result.durationMs } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
      });
      return outcome.status === 'succeeded';
    },
  });
  reporter.stop();

  const results = ordered.map((t) => outcomes.get(t.id)!).filter(Boolean);
  return {
    pipelineRunId,
    pipeline: def.name,
    ok: results.every((o) => o.status === 'succeeded'),
    tasks: results,
    durationMs: Date.now() - started,
  };
}

/**
 * One job of a pipeline for one set of vars, through the runner (lock, run log, retries, the
 * pipeline's settings): what `gamepipe silver` and `quality` run. Throws the job's error.
 */
export async function runPipelineJob(def: PipelineDefinition, ctx: RunContext, job: string, vars: Vars): Promise<JobResult> {
  const run = await runPipeline(def, ctx, { varSets: [vars], only: [job], concurrency: 1 });
  const task = run.tasks.find((t) => t.job === job);
  if (task?.status === 'succeeded' && task.result) return task.result;
  throw task?.cause ?? new GamepipeError(`pipeline ${def.name}: job ${job} did not run`, { job, detail: task?.error });
}
