import { randomUUID } from 'node:crypto';
import type { PgAdapter } from '../connections/adapter.js';
import type { JobResult } from '../engine/runJob.js';

/**
 * `etl_run_log` in the WAREHOUSE connection: one row per job execution (each retry attempt
 * updates the same row). It is how `--from-failure` and resumed backfills know what already
 * succeeded, what `gamepipe runs` lists, and the pipeline-health data of the dashboard.
 */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped';

export interface RunLogRow {
  run_id: string;
  pipeline_run_id: string;
  pipeline: string;
  job: string;
  vars: Record<string, string>;
  status: RunStatus;
  attempt: number;
  rows_read: number | null;
  rows_written: number | null;
  started_at: string;
  ended_at: string | null;
  error: string | null;
}

/** The seed warehouse's run-log columns: the job's (first) incremental source and its row counts. */
export interface ExtractRecord {
  sourceSystem: string;
  tableName: string;
  recordsExtracted: number;
  recordsLoaded: number;
}

/** The extract record of a job result that read incremental sources (else undefined). */
export function extractRecord(result: JobResult): ExtractRecord | undefined {
  const incremental = result.sources.filter((s) => s.incremental);
  const first = incremental[0]?.incremental;
  if (!first) return undefined;
  return {
    sourceSystem: first.system,
    tableName: first.table,
    recordsExtracted: incremental.reduce((sum, s) => sum + (s.rows ?? 0), 0),
    recordsLoaded: result.rowsWritten,
  };
}

/** A stable text key for a set of vars (sorted), used to find earlier runs of the same job. */
export function varsKey(vars: Record<string, string>): string {
  return Object.keys(vars)
    .sort()
    .map((k) => `${k}=${vars[k]}`)
    .join(',');
}

export class RunLog {
  private ready: Promise<void> | undefined;

  constructor(private readonly adapter: PgAdapter) {}

  private ensureTable(): Promise<void> {
    this.ready ??= this.adapter.withSession(async (s) => {
      await s.query(`CREATE TABLE IF NOT EXISTS etl_run_log (
        run_id uuid PRIMARY KEY,
        pipeline_run_id uuid NOT NULL,
        pipeline text NOT NULL,
        job text NOT NULL,
        vars jsonb NOT NULL,
        vars_key text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
        attempt integer NOT NULL DEFAULT 1,
        rows_read bigint,
        rows_written bigint,
        started_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz,
        error text
      )`);
      // Warehouse extracts (incremental jdbc sources): what was read from which source table, and loaded.
      await s.query(`ALTER TABLE etl_run_log
        ADD COLUMN IF NOT EXISTS source_system text, ADD COLUMN IF NOT EXISTS table_name text,
        ADD COLUMN IF NOT EXISTS records_extracted bigint, ADD COLUMN IF NOT EXISTS records_loaded bigint`);
      await s.query('CREATE INDEX IF NOT EXISTS etl_run_log_job_idx ON etl_run_log (pipeline, job, vars_key, started_at DESC)');
      await s.query('CREATE INDEX IF NOT EXISTS etl_run_log_started_idx ON etl_run_log (started_at DESC)');
    });
    return this.ready;
  }

  async start(entry: { pipelineRunId: string; pipeline: string; job: string; vars: Record<string, string> }): Promise<string> {
    await this.ensureTable();
    const runId = randomUUID();
    await this.adapter.withSession(async (s) => {
      // The caller holds this (job, vars)'s lock, so a row still 'running' belongs to a process that died.
      await s.query(
        `UPDATE etl_run_log SET status = 'failed', ended_at = clock_timestamp(),
                error = coalesce(error || E'\n', '') || 'abandoned: the process running it stopped before it finished'
         WHERE pipeline = $1 AND job = $2 AND vars_key = $3 AND status = 'running'`,
        [entry.pipeline, entry.job, varsKey(entry.vars)],
      );
      await s.query(
        `INSERT INTO etl_run_log (run_id, pipeline_run_id, pipeline, job, vars, vars_key, status, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'running', clock_timestamp())`,
        [runId, entry.pipelineRunId, entry.pipeline, entry.job, JSON.stringify(entry.vars), varsKey(entry.vars)],
      );
    });
    return runId;
  }

  async attempt(runId: string, attempt: number, lastError: string): Promise<void> {
    await this.adapter.withSession((s) =>
      s.query('UPDATE etl_run_log SET attempt = $2, error = $3 WHERE run_id = $1', [runId, attempt, lastError]),
    );
  }

  async finish(runId: string, outcome: { status: 'succeeded' | 'failed'; rowsRead?: number; rowsWritten?: number; error?: string; extract?: ExtractRecord }): Promise<void> {
    const x = outcome.extract;
    await this.adapter.withSession((s) =>
      s.query(
        // A run that succeeded after retries keeps the last transient error, for the record.
        `UPDATE etl_run_log SET status = $2, rows_read = $3, rows_written = $4, error = coalesce($5, error), ended_at = clock_timestamp(),
                source_system = $6, table_name = $7, records_extracted = $8, records_loaded = $9
         WHERE run_id = $1`,
        [runId, outcome.status, outcome.rowsRead ?? null, outcome.rowsWritten ?? null, outcome.error ?? null,
          x?.sourceSystem ?? null, x?.tableName ?? null, x?.recordsExtracted ?? null, x?.recordsLoaded ?? null],
      ),
    );
  }

  async skipped(entry: { pipelineRunId: string; pipeline: string; job: string; vars: Record<string, string>; reason: string }): Promise<void> {
    await this.ensureTable();
    await this.adapter.withSession((s) =>
      s.query(
        `INSERT INTO etl_run_log (run_id, pipeline_run_id, pipeline, job, vars, vars_key, status, started_at, ended_at, error)
         VALUES ($1, $2, $3, $4, $5, $6, 'skipped', clock_timestamp(), clock_timestamp(), $7)`,
        [randomUUID(), entry.pipelineRunId, entry.pipeline, entry.job, JSON.stringify(entry.vars), varsKey(entry.vars), entry.reason],
      ),
    );
  }

  /** Jobs of a pipeline whose latest run for these vars succeeded. */
  async succeededJobs(pipeline: string, vars: Record<string, string>): Promise<Set<string>> {
    await this.ensureTable();
    const res = await this.adapter.withSession((s) =>
      s.query<{ job: string }>(
        `SELECT job FROM (
           SELECT DISTINCT ON (job) job, status FROM etl_run_log
           WHERE pipeline = $1 AND vars_key = $2 AND status <> 'running'
           ORDER BY job, started_at DESC
         ) latest WHERE status = 'succeeded'`,
        [pipeline, varsKey(vars)],
      ),
    );
    return new Set(res.rows.map((r) => r.job));
  }

  async list(filter: { failed?: boolean; job?: string; pipeline?: string; pipelineRunId?: string; limit?: number } = {}): Promise<RunLogRow[]> {
    await this.ensureTable();
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.failed) where.push(`status = 'failed'`);
    if (filter.job) where.push(`job = $${params.push(filter.job)}`);
    if (filter.pipeline) where.push(`pipeline = $${params.push(filter.pipeline)}`);
    if (filter.pipelineRunId) where.push(`pipeline_run_id = $${params.push(filter.pipelineRunId)}`);
    const res = await this.adapter.withSession((s) =>
      s.query<RunLogRow>(
        `SELECT run_id::text, pipeline_run_id::text, pipeline, job, vars, status, attempt,
                rows_read::float8 AS rows_read, rows_written::float8 AS rows_written,
                to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS started_at,
                to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ended_at, error
         FROM etl_run_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY started_at DESC, job LIMIT ${Math.max(1, Math.min(filter.limit ?? 50, 10_000))}`,
        params,
      ),
    );
    return res.rows;
  }
}
