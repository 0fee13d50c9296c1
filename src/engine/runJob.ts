import path from 'node:path';
import { withErrorContext, type ErrorContext } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { GamepipePaths } from '../core/paths.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import type { CompiledJob } from './compile.js';
import { DuckEngine } from './duckdb.js';
import { compileChecks } from './checks/compile.js';
import { runChecks, type CheckResult } from './checks/runChecks.js';
import { writeFileOutput } from './outputs/fileOutput.js';
import { writeJdbcOutput } from './outputs/jdbcOutput.js';
import { registerFileSource } from './sources/fileSource.js';
import { loadJdbcSource } from './sources/jdbcSource.js';
import { incrementalQuery, readHorizon, readWatermark, saveWatermarks, watermarkKey, type WatermarkAdvance } from './sources/watermarks.js';
import { WAREHOUSE } from '../connections/registry.js';
import { sqlError } from './sqlErrors.js';
import { sqlIdent } from '../sql/quote.js';

/** The table holding the transform's result inside the job's DuckDB database. */
export const OUTPUT_RELATION = '__gamepipe_output';

export interface SourceStats {
  name: string;
  kind: 'file' | 'jdbc';
  /** Rows read, when known without an extra scan (Parquet metadata, jdbc copies). */
  rows: number | null;
  /** An incremental jdbc source: its watermark key, the watermark read from (null: whole table) and the one stored. */
  incremental?: { system: string; table: string; from: string | null; to: string };
}

export interface JobResult {
  job: string;
  file: string;
  vars: Record<string, string>;
  sources: SourceStats[];
  rowsRead: number;
  rowsWritten: number;
  /** `full` when every incremental source was read whole (a full load, or a first run). */
  load: 'incremental' | 'full';
  /** What was replaced: partitions for file outputs, rows deleted for jdbc outputs. */
  replaced: { partitions?: string[]; rowsDeleted?: number };
  target: string;
  /** Every check's outcome (failed warn-level checks included; a failed error-level check throws). */
  checks: CheckResult[];
  durationMs: number;
}

export interface RunContext {
  paths: GamepipePaths;
  connections: ConnectionRegistry;
  /** DuckDB threads; default is DuckDB's (all cores). */
  threads?: number;
  /** DuckDB memory limit of the job (e.g. '2GB'); beyond it DuckDB spills to $GAMEPIPE_HOME/tmp/duckdb. Default is DuckDB's (80% of RAM). */
  memoryLimit?: string;
  /** Incremental jdbc sources read only rows past their watermark (default), or everything (`full`). */
  load?: 'incremental' | 'full';
}

/** Executes one compiled job: sources → DuckDB transform → output write. */
export async function runJob(job: CompiledJob, ctx: RunContext): Promise<JobResult> {
  const started = Date.now();
  const context: ErrorContext = { file: job.file, job: job.name };
  const tmp = path.join(ctx.paths.tmp, 'jobs');
  // Bad placeholders in check SQL fail before any data is read.
  const checks = compileChecks(job.layout.checks ?? [], job.vars, context);
  const engine = await DuckEngine.open(ctx.paths.tmp, {
    ...(ctx.threads ? { threads: ctx.threads } : {}),
    ...(ctx.memoryLimit ? { memoryLimit: ctx.memoryLimit } : {}),
  });
  try {
    const sources: SourceStats[] = [];
    const advances: WatermarkAdvance[] = [];
    // Watermarks live in WAREHOUSE; opened only by jobs with incremental sources.
    const watermarks = () => ctx.connections.get(WAREHOUSE);
    for (const compiled of job.sources) {
      const sourceContext = { ...context, jsonPath: compiled.jsonPath };
      try {
        if (compiled.kind === 'file') {
          const registered = await registerFileSource(engine, compiled.source, compiled.path, { ...sourceContext, jsonPath: `${compiled.jsonPath}.path` });
          sources.push({ name: compiled.source.name, kind: 'file', rows: registered.rows });
        } else {
          const source = compiled.source;
          const adapter = ctx.connections.get(source.connection);
          const optional = source.required === false ? source.columns : undefined;
          let query = compiled.query;
          let incremental: SourceStats['incremental'];
          if (source.incremental) {
            const key = watermarkKey(source, job.name);
            const from = ctx.load === 'full' ? null : await readWatermark(watermarks(), key);
            const to = await readHorizon(adapter);
            if (from !== null) query = incrementalQuery(query, source, from);
            incremental = { system: key.system, table: key.table, from, to };
            advances.push({ key, watermark: to, rows: 0, full: from === null });
          }
          const loaded = await loadJdbcSource(engine, adapter, source.name, query, tmp, { ...sourceContext, jsonPath: `${compiled.jsonPath}.query` }, optional, source.table);
          if (incremental) advances[advances.length - 1]!.rows = loaded.rows;
          sources.push({ name: source.name, kind: 'jdbc', rows: loaded.rows, ...(incremental ? { incremental } : {}) });
        }
      } catch (err) {
        throw withErrorContext(err, { ...sourceContext, jsonPath: `${compiled.jsonPath}.${compiled.kind === 'file' ? 'path' : 'connection'}` });
      }
      logger.debug({ job: job.name, source: compiled.source.name }, 'source ready');
    }

    const transformPath = job.layout.transformSql !== undefined ? '$.transformSql' : '$.transformTemplate';
    // A Parquet output without checks is streamed: the result is a view that the write's COPY
    // runs once, so a big result is never held in memory. Checks and PostgreSQL writes read the
    // result more than once, so it is materialized (spilling to disk beyond the memory limit).
    const streamed = job.output.kind === 'file' && checks.length === 0;
    const last = job.statements.length - 1;
    const lastSql = `CREATE ${streamed ? 'VIEW' : 'TABLE'} ${sqlIdent(OUTPUT_RELATION)} AS\n${job.statements[last]!}`;
    for (let i = 0; i <= last; i++) {
      const statement = job.statements[i]!;
      const sql = i === last ? lastSql : statement;
      try {
        await engine.run(sql);
      } catch (err) {
        const which = job.statements.length > 1 ? `transform statement ${i + 1} of ${job.statements.length}` : 'transform';
        // DuckDB counts lines from the SQL it was given; the wrapper adds one line to the last statement.
        throw sqlError(err, sql, which, { ...context, jsonPath: transformPath });
      }
    }

    const checkResults = await runChecks(engine, OUTPUT_RELATION, checks, context);
    for (const failed of checkResults.filter((c) => !c.passed)) {
      logger.warn({ job: job.name, check: failed.name, failingRows: failed.failingRows, sample: failed.sample }, `check ${failed.name} failed: ${failed.message}`);
    }

    const load = advances.every((a) => a.full) ? 'full' : 'incremental';
    let rowsWritten: number;
    let replaced: JobResult['replaced'];
    let target: string;
    if (job.output.kind === 'file') {
      const output = job.output;
      const written = await writeFileOutput(engine, OUTPUT_RELATION, output.output, output.path).catch((err: unknown) => {
        // A streamed result's runtime errors (a failed cast, …) surface in the write.
        throw streamed ? sqlError(err, lastSql, 'transform', { ...context, jsonPath: transformPath }) : err;
      });
      rowsWritten = written.rowsWritten;
      replaced = output.output.mode === 'overwritePartitions' ? { partitions: written.partitions } : {};
      target = output.path;
      if (advances.length) await watermarks().transaction((session) => saveWatermarks(session, advances));
    } else {
      const output = job.output.output;
      const adapter = ctx.connections.get(output.connection);
      // Watermarks advance in the same transaction as the rows they cover when both live in WAREHOUSE.
      const together = advances.length > 0 && adapter === watermarks();
      const written = await writeJdbcOutput(engine, OUTPUT_RELATION, adapter, output, tmp, context, {
        fullLoad: load === 'full',
        ...(together ? { afterMerge: (session) => saveWatermarks(session, advances) } : {}),
      });
      if (!together && advances.length) await watermarks().transaction((session) => saveWatermarks(session, advances));
      rowsWritten = written.rowsWritten;
      replaced = { rowsDeleted: written.rowsDeleted };
      target = `${output.connection}.${output.table}`;
    }
    const rowsRead = sources.reduce((sum, s) => sum + (s.rows ?? 0), 0);
    return {
      job: job.name,
      file: job.file,
      vars: Object.fromEntries(Object.entries(job.vars).filter(([k]) => k !== 'lake' && k !== 'home')),
      sources,
      rowsRead,
      rowsWritten,
      load,
      replaced,
      target,
      checks: checkResults,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    throw withErrorContext(err, context);
  } finally {
    engine.close();
  }
}
