import fs from 'node:fs';
import path from 'node:path';
import { GamepipeError, type ErrorContext } from '../../core/errors.js';
import type { FileSource } from '../../layout/schema.js';
import { type DuckEngine } from '../duckdb.js';
import { sqlIdent, sqlString } from '../../sql/quote.js';

const EXTENSIONS: Record<FileSource['format'], string[]> = {
  parquet: ['.parquet'],
  csv: ['.csv', '.csv.gz', '.tsv'],
  ndjson: ['.ndjson', '.jsonl', '.json', '.ndjson.gz', '.jsonl.gz', '.json.gz'],
  json: ['.json', '.ndjson', '.jsonl', '.json.gz'],
};

const GLOB = /[*?[]/;

/**
 * The files a file source reads: the file itself, every file of its format under a folder
 * (recursively, so Hive partitions `ds=…` below it are included), or a glob (resolved by
 * DuckDB). Empty when nothing is there.
 */
export async function resolveSourceFiles(engine: DuckEngine, sourcePath: string, format: FileSource['format']): Promise<string[]> {
  if (GLOB.test(sourcePath)) {
    const rows = await engine.rows<{ file: string }>(`SELECT file FROM glob(${sqlString(sourcePath)}) ORDER BY file`);
    return rows.map((r) => r.file);
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(sourcePath);
  } catch {
    return [];
  }
  if (stat.isFile()) return [sourcePath];
  const exts = EXTENSIONS[format];
  // Hidden and underscore entries (staging folders of a write in progress, _SUCCESS markers) are never data.
  const hidden = (rel: string) => rel.split(path.sep).some((part) => part.startsWith('.') || part.startsWith('_'));
  return fs
    .readdirSync(sourcePath, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && exts.some((x) => e.name.endsWith(x)))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => !hidden(path.relative(sourcePath, file)))
    .sort();
}

function readExpression(source: FileSource, files: string[]): string {
  const list = `[${files.map(sqlString).join(', ')}]`;
  const columns = source.columns
    ? `, columns = {${Object.entries(source.columns).map(([c, t]) => `${sqlString(c)}: ${sqlString(t)}`).join(', ')}}`
    : '';
  switch (source.format) {
    case 'parquet':
      return `read_parquet(${list}, hive_partitioning = true, union_by_name = true)`;
    case 'csv':
      return (
        `read_csv(${list}, header = ${source.header ?? true}, hive_partitioning = true, union_by_name = true` +
        `${source.delimiter ? `, delim = ${sqlString(source.delimiter)}` : ''}${columns})`
      );
    case 'ndjson':
      return `read_json(${list}, format = 'newline_delimited', hive_partitioning = true, union_by_name = true${columns})`;
    case 'json':
      return `read_json(${list}, format = 'auto', hive_partitioning = true, union_by_name = true${columns})`;
  }
}

/** An empty relation with the declared columns, for an optional source whose path is missing. */
function emptyRelation(columns: Record<string, string>): string {
  const cols = Object.entries(columns).map(([c, t]) => `CAST(NULL AS ${t}) AS ${sqlIdent(c)}`);
  return `SELECT ${cols.join(', ')} WHERE false`;
}

export interface RegisteredFileSource {
  files: number;
  rows: number;
  sql: string;
}

/** Registers the source as a DuckDB view named by the source; DuckDB reads the files lazily. */
export async function registerFileSource(
  engine: DuckEngine,
  source: FileSource,
  renderedPath: string,
  context: ErrorContext,
): Promise<RegisteredFileSource> {
  const files = await resolveSourceFiles(engine, renderedPath, source.format);
  let select: string;
  if (files.length === 0) {
    if (source.required !== false) {
      throw new GamepipeError(`missing input: source "${source.name}" found no ${source.format} files at ${renderedPath}`, {
        ...context,
        expected: `the input partition to exist (run the job that writes it first), or "required": false with "columns" for an optional source`,
      });
    }
    select = emptyRelation(source.columns!);
  } else {
    select = `SELECT * FROM ${readExpression(source, files)}`;
  }
  const sql = `CREATE OR REPLACE VIEW ${sqlIdent(source.name)} AS ${select}`;
  try {
    await engine.run(sql);
  } catch (err) {
    throw new GamepipeError(`cannot read source "${source.name}" (${source.format} at ${renderedPath}): ${(err as Error).message.split('\n')[0]}`, {
      ...context,
      expected: `readable ${source.format} files`,
    });
  }
  // Rows read feed the run log. Parquet counts come from file metadata; text formats cost one extra scan.
  const rows = files.length > 0 ? Number(await engine.scalar(`SELECT count(*) FROM ${sqlIdent(source.name)}`)) : 0;
  return { files: files.length, rows, sql };
}

/** The read the dry run shows without touching the files. */
export function describeFileSourceRead(source: FileSource, renderedPath: string): string {
  return `CREATE VIEW ${sqlIdent(source.name)} AS SELECT * FROM ${readExpression(source, [renderedPath])}`;
}
