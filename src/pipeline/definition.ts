import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { scheduleSchema } from '../config/projectConfig.js';
import { GamepipeError } from '../core/errors.js';
import { loadLayout, toJsonPath, type LoadedLayout } from '../layout/load.js';
import { fileSourceSchema } from '../layout/schema.js';

/**
 * A pipeline is a folder of layouts (`pipelines/daily/{etl,std,cons}/*.json`, any depth) with
 * an optional `pipeline.json` for its settings. The order of jobs is not written anywhere:
 * it is inferred from what each layout reads and writes (see graph.ts).
 */

/**
 * How to find the values of a var a run does not give (dynamic partitions): a DuckDB query over
 * file sources, rendered with the run's vars; its first column's distinct non-null values each
 * become one var set (e.g. every game with level events on logDate).
 */
const partitionValuesSchema = z.strictObject({
  description: z.string().optional(),
  inputSources: z.array(fileSourceSchema).default([]),
  sql: z.string().min(1),
});

export type PartitionValues = z.infer<typeof partitionValuesSchema>;

const pipelineFileSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  /** Default vars for every run (a run's --vars win). */
  vars: z.record(z.string(), z.string()).optional(),
  /** Jobs running at once; default: a function of the cores. */
  concurrency: z.number().int().positive().optional(),
  /** Attempts for a transient error (connection reset, lock timeout…), backoff doubling from retryDelayMs. */
  retries: z.number().int().min(0).max(10).optional(),
  retryDelayMs: z.number().int().min(0).optional(),
  /** Per var: the query listing its values when a run does not give it. */
  partitions: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a var name'), partitionValuesSchema).optional(),
  /** The schedule(s) `gamepipe serve` fires for this pipeline unless gamepipe.config.json schedules it. */
  schedule: z.union([scheduleSchema.omit({ pipeline: true }), z.array(scheduleSchema.omit({ pipeline: true })).min(1)]).optional(),
});

export type PipelineSettings = z.infer<typeof pipelineFileSchema>;

export interface PipelineDefinition {
  name: string;
  dir: string;
  settings: PipelineSettings;
  layouts: LoadedLayout[];
}

export const PIPELINE_FILE = 'pipeline.json';
/** The run-log pipeline of a layout run on its own, outside any pipeline folder. */
export const STANDALONE_PIPELINE = 'standalone';

/**
 * The pipeline a layout file belongs to (the nearest folder above it with a pipeline.json), so
 * `gamepipe run` of one of its jobs shares the job's lock and run-log history; else standalone.
 */
export function pipelineOfLayout(file: string): string {
  for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, PIPELINE_FILE))) return path.basename(dir);
    if (path.dirname(dir) === dir) return STANDALONE_PIPELINE;
  }
}

/** The pipelines shipped with gamepipe (daily, funnel). */
export const SHIPPED_PIPELINES = path.resolve(import.meta.dirname, '../../pipelines');
export const DEFAULT_SEARCH_ROOTS = ['pipelines', SHIPPED_PIPELINES];

/** Finds a pipeline by folder path, or by name under ./pipelines or the shipped pipelines/. */
export function resolvePipelineDir(nameOrPath: string, searchRoots: string[]): string {
  const candidates = [nameOrPath, ...searchRoots.map((root) => path.join(root, nameOrPath))];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isDirectory()) return path.resolve(candidate);
  }
  throw new GamepipeError(`pipeline "${nameOrPath}" not found`, {
    expected: `a folder of layouts: ${candidates.join(', ')}`,
  });
}

function layoutFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json') && e.name !== PIPELINE_FILE)
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => !path.relative(dir, file).split(path.sep).some((part) => part.startsWith('.') || part.startsWith('_')))
    .sort();
}

export function loadPipeline(nameOrPath: string, searchRoots: string[] = DEFAULT_SEARCH_ROOTS): PipelineDefinition {
  const dir = resolvePipelineDir(nameOrPath, searchRoots);
  const settingsFile = path.join(dir, PIPELINE_FILE);
  let settings: PipelineSettings = {};
  if (fs.existsSync(settingsFile)) {
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
    } catch (err) {
      throw new GamepipeError(`not valid JSON: ${(err as Error).message}`, { file: settingsFile });
    }
    const parsed = pipelineFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new GamepipeError(issue.message, { file: settingsFile, jsonPath: toJsonPath(issue.path) });
    }
    settings = parsed.data;
  }
  const layouts = layoutFiles(dir).map((file) => loadLayout(path.relative(process.cwd(), file) || file));
  if (layouts.length === 0) {
    throw new GamepipeError(`pipeline "${nameOrPath}" has no layouts`, { file: dir, expected: 'layout JSON files in the folder' });
  }
  const byName = new Map<string, string>();
  for (const l of layouts) {
    const other = byName.get(l.layout.name);
    if (other) {
      throw new GamepipeError(`two layouts are named "${l.layout.name}" (${other} and ${l.file})`, {
        file: l.file,
        jsonPath: '$.name',
        expected: 'job names unique within a pipeline',
      });
    }
    byName.set(l.layout.name, l.file);
  }
  return { name: path.basename(dir), dir, settings, layouts };
}
